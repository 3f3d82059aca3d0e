"""Finding, reading and placing records in the four documents, whichever list they sit in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Container
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import cast

from gitcoord import model
from gitcoord import shapes
from gitcoord import timestamps
from gitcoord.errors import BadUsage
from gitcoord.jsonio import JsonPath
from gitcoord.model import Collection
from gitcoord.model import Doc
from gitcoord.model import Fields
from gitcoord.model import Record

State = Mapping[str, Doc]  # file name -> document: the whole coordination store


class _Changed(Mapping[str, Doc]):
    """A state with some files changed: the changed documents are read first, the rest from the base.

    What a `ChainMap` of the two reads as, typed for a base that is only a `Mapping` (a
    snapshot is read-only), and never written through.
    """

    def __init__(self, base: State, changed: Mapping[str, Doc]) -> None:
        self._base = base
        self._changed = changed

    def __getitem__(self, file: str) -> Doc:
        return self._changed[file] if file in self._changed else self._base[file]

    def __contains__(self, file: object) -> bool:
        return file in self._changed or file in self._base

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(self._base), **dict.fromkeys(self._changed)})

    def __len__(self) -> int:
        return len({*self._base, *self._changed})


# The four files as their types say (shapes.py). The schema checked each document when it was
# read, and every step's result before it was written, so reading it as its type is sound.


def registry(state: State) -> shapes.Registry:
    return cast("shapes.Registry", state[model.REGISTRY])


def task_queue(state: State) -> shapes.TaskQueue:
    return cast("shapes.TaskQueue", state[model.TASKS])


def communication_log(state: State) -> shapes.CommunicationLog:
    return cast("shapes.CommunicationLog", state[model.MESSAGES])


def decision_log(state: State) -> shapes.DecisionLog:
    return cast("shapes.DecisionLog", state[model.DECISIONS])


def with_changes(base: State, changed: Mapping[str, Doc]) -> State:
    """`base` as it reads with the documents of `changed` in place of its own (neither is copied)."""
    return _Changed(base, changed)


def archive_of(state: State) -> Callable[[str, str], str | None] | None:
    """Where `state` looks up archived records ((kind, id) -> its status there), if it can: a
    snapshot or a replayed commit can; a state being changed looks in the one it changes."""
    while isinstance(state, _Changed):
        state = state._base
    found: Callable[[str, str], str | None] | None = getattr(state, "archives", None)
    return found


def iter_records(doc: Fields, coll: Collection, *, skip: Container[int] = ()) -> Iterator[tuple[str, JsonPath, Record]]:
    """(id, path, record) for every record of the collection, across all its lists, but those
    whose id() is in `skip` (passed over in one comprehension, without a step per record)."""
    if not coll.id_key:
        for name, record in doc.get(coll.lists[0], {}).items():
            if id(record) not in skip:
                yield name, (coll.lists[0], name), record
        return
    key = coll.id_key
    for list_name in coll.lists:
        items = doc.get(list_name, ())
        for i in [i for i, r in enumerate(items) if id(r) not in skip] if skip else range(len(items)):
            record = items[i]
            yield record[key], (list_name, i), record


def by_id(doc: Doc, coll: Collection) -> dict[str, Record]:
    if not coll.id_key:
        return dict(doc.get(coll.lists[0], {}))
    key = coll.id_key
    return {r[key]: r for name in coll.lists for r in doc.get(name, ())}


def get(state: State, kind: str, rid: str) -> Record | None:
    coll = model.BY_KIND[kind]
    doc = state[coll.file]
    if not coll.id_key:
        found: Record | None = doc["instances"].get(rid)
        return found
    key = coll.id_key
    for name in coll.lists:
        listed: list[Record] = doc.get(name, [])
        for record in listed:
            if record[key] == rid:
                return record
    return None


def put(doc: Doc, coll: Collection, record: Fields, rid: str | None = None) -> Doc:
    """A copy of `doc` with `record` added or replaced, in the list its status calls for.

    Only the lists that change are copied; unchanged records are shared, which keeps a
    protocol step cheap on a large store.
    """
    new = dict(doc)
    if not coll.id_key:
        assert rid is not None
        new["instances"] = {**doc["instances"], rid: record}
        return new
    key, rid = coll.id_key, record[coll.id_key]
    target = coll.placement(record)
    for name in coll.lists:
        items = doc.get(name, [])
        kept = [r for r in items if r[key] != rid]
        if name == target:
            kept.append(record)  # the canonical form orders lists by id when written
        if len(kept) != len(items) or name == target:
            new[name] = kept
    return new


def without(doc: Doc, coll: Collection, rids: set[str]) -> Doc:
    """A copy of `doc` without the records whose ids are in `rids`."""
    new = dict(doc)
    if not coll.id_key:
        new["instances"] = {k: v for k, v in doc["instances"].items() if k not in rids}
        return new
    for name in coll.lists:
        new[name] = [r for r in doc.get(name, []) if r[coll.id_key] not in rids]
    return new


def touched(old: State, new: State) -> dict[str, set[int]] | None:
    """The id() of each live file's records that `new` holds and `old` does not (by identity);
    None when a record of `old` is gone from `new` (not merely replaced by a new version)."""
    touched: dict[str, set[int]] = {}
    for file in (model.TASKS, model.MESSAGES, model.DECISIONS, model.REGISTRY):
        if _kept(old, new, file) or file not in new or file not in old or old[file] is new[file]:
            continue
        coll = model.COLLECTIONS[file]
        before = by_id(old[file], coll)
        after = by_id(new[file], coll)
        if before.keys() - after.keys():
            return None
        kept = {id(r) for r in before.values()}
        touched[file] = {id(r) for r in after.values() if id(r) not in kept}
    return touched


def _kept(old: State, new: State, file: str) -> bool:
    """Whether `new` is `old` with other files changed: known without reading (parsing) `file`."""
    return isinstance(new, _Changed) and new._base is old and file not in new._changed


def waited_on(tasks: Iterable[Record]) -> dict[str, str]:
    """Each task that one of `tasks` depends on, with one that does. A task waited on stays
    live, so that whether a task can start is always answered from the live files."""
    found: dict[str, str] = {}
    for t in tasks:
        for dep in t.get("dependencies", ()):
            found.setdefault(dep, t["task_id"])
    return found


def unfinished(
    task: Fields, lookup: Callable[[str], Record | None], archived: Callable[[str, str], str | None] | None = None
) -> list[tuple[str, str]]:
    """The dependencies of `task` that are not completed yet, each with its status.

    A task may start only once every dependency is completed: the one place that says so.
    A dependency that is not live is done only if the archive holds it completed (`archived`,
    (kind, id) -> its status there); one archived cancelled never will be, and one the archive
    does not hold (or that no archive was given to look in) counts as unfinished.
    """
    waiting = []
    for dep in task["dependencies"]:
        found = lookup(dep)
        if found is not None:
            status = found["status"]
        elif archived is None:
            status = "archived or missing"
        else:
            held = archived("task", dep)
            status = "missing" if held is None else held if held == "completed" else f"{held}, archived"
        if status != "completed":
            waiting.append((dep, status))
    return waiting


def statuses(doc: Doc, coll: Collection) -> dict[str, str]:
    """Each record's status by id, as `model.status_of` reads it (a record with none readable: "unknown")."""
    found = {}
    for rid, record in by_id(doc, coll).items():
        usable = isinstance(record, dict) and (coll.kind == "decision" or isinstance(record.get("status"), str))
        found[rid] = model.status_of(coll.kind, record) if usable else "unknown"
    return found


def silent(entry: Fields, moment: dt.datetime, hours: float) -> bool:
    """Whether an instance has not checked in for `hours` before `moment` (never counts as silent)."""
    last = entry.get("last_update")
    return last is None or timestamps.older(last, moment, dt.timedelta(hours=hours))


def holder_silent(entry: Fields | None, task: Fields, moment: dt.datetime, hours: float) -> bool:
    """Whether the holder of `task` has given no sign of life for `hours` before `moment`: taking
    the task is one (a holder who never checked in is not stale the moment it starts work).

    A holder with no registry entry (`entry` None: the human coordinator, who needs none and never
    checks in) is never stale: only the human takes back the human's tasks."""
    if entry is None:
        return False
    taken = task.get("assigned_at")
    if (
        isinstance(taken, str)
        and timestamps.is_valid(taken)
        and not timestamps.older(taken, moment, dt.timedelta(hours=hours))
    ):
        return False
    return silent(entry, moment, hours)


def resolve(state: State, kind: str, given: str) -> str:
    """The id `given` stands for: itself, or the one live id of `kind` it is the start of.

    The kind's prefix may be left off (`6fje` for `task_6fje75rgey`). Where `given` starts
    no id, it comes back as it was, for the caller to say that there is no such record.
    """
    coll = model.BY_KIND[kind]
    if not given or not coll.id_key or get(state, kind, given) is not None:
        return given
    ids = (rid for rid, _, _ in iter_records(state[coll.file], coll))
    return one_of(ids, given, what=f"{kind} ids", prefix=f"{coll.prefix}_")


def one_of(ids: Iterable[str], given: str, *, what: str, prefix: str = "") -> str:
    """`given` if it is one of `ids`, else the one of them it is the start of (`prefix` may be left off).

    The one rule for ids given in part, wherever a command takes an id: several matches are
    a usage error that lists them, none gives `given` back.
    """
    starts = (given,) if given.startswith(prefix) else (given, prefix + given)
    found: list[str] = []
    for rid in ids:
        if rid == given:
            return rid
        if rid.startswith(starts):
            found.append(rid)
    if len(found) > 1:
        found.sort()
        shown = ", ".join(found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
        raise BadUsage(
            f"{given!r} is the start of {len(found)} {what} ({shown}): give more of it", details={"candidates": found}
        )
    return found[0] if found else given
