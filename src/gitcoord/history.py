"""The rules a change must keep, old state to new: the protocol's steps, and who may take them.

Only declared transitions (`model.MOVES`), each by an instance with the right role; sent
text and made decisions never change; records are not deleted; ids are not reused; the
timestamps that track progress never go backwards. The same function checks a staged
commit (pre-commit), a replayed one (`coord check --range`) and every command's own step.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any
from typing import NamedTuple

from gitcoord import model
from gitcoord import records
from gitcoord import timestamps
from gitcoord.findings import Finding
from gitcoord.jsonio import JsonPath
from gitcoord.model import Record
from gitcoord.records import State
from gitcoord.records import iter_records

# Fields a protocol step changes along with the status; others are edits, with their own roles.
WORKFLOW = {
    "instance": frozenset(),
    "task": frozenset({"status", "assigned_to", "assigned_at", "status_reason", "updated", "declines", "contested"}),
    "message": frozenset({"status"}),
    "decision": frozenset(
        {"status", "decision", "rationale", "decided_by", "date", "affects_instances", "escalation", "superseded_by"}
    ),
}
# Who may edit a record's other fields (inputs on a decision are checked one by one).
EDITORS = {
    "instance": frozenset({model.SELF, model.HUMAN}),
    "task": frozenset({model.CREATOR, model.HOLDER, model.HUMAN}),
    "message": frozenset(),
    "decision": frozenset({model.PROPOSER, model.HUMAN}),
}


class At(NamedTuple):
    """Which record a finding is about, and where it is."""

    file: str
    kind: str
    rid: str
    path: JsonPath


class Actor(NamedTuple):
    """Who made a change, and what the store said about the world when they did."""

    name: str | None
    human: str
    lease_hours: float
    registry: dict[str, Any]  # instance entries of the new state, for the lease of a stale holder


def check(old: State | None, new: State, actor: str | None, *, files: Iterable[str] = model.FILES) -> list[Finding]:
    """Everything the change from `old` to `new` by `actor` breaks. `old` None: the store is being created."""
    if old is None:
        return []  # a new store: nothing to compare with; the invariants still apply
    registry = new.get(model.REGISTRY, {"instances": {}})
    settings = model.settings_of(registry)
    who = Actor(
        actor,
        settings.human_coordinator,
        settings.lease_hours,
        registry["instances"],
    )
    findings: list[Finding] = []
    for file in files:
        if file in model.ARCHIVE_FILES:
            findings.extend(_archive(file, old, new))
        elif file in old and file in new and old[file] is not new[file]:
            findings.extend(_file(file, old[file], new[file], who, functools.partial(_archived, new, file)))
    if findings and actor is None:
        return [
            Finding(
                f.file,
                f.path,
                "authorization",
                "the change names no instance: commit with a Coord-Instance trailer, or set your identity "
                "(--as, COORD_INSTANCE or `git config coord.instance`)",
            )
            for f in findings[:1]
        ]
    return findings


def _archived(state: State, file: str) -> set[str]:
    """The ids in `file`'s archive in `state` (read only if the state has one)."""
    name = model.archive_of(file)
    if file not in model.ARCHIVABLE or name not in state:
        return set()
    return set(records.by_id(state[name], model.COLLECTIONS[file]))


def _archive(file: str, old: State, new: State) -> Iterator[Finding]:
    """Archived records arrive unchanged from their live file, and never change or leave."""
    coll = model.COLLECTIONS[model.base(file)]
    before = records.by_id(old[file], coll) if file in old else {}
    after = records.by_id(new[file], coll) if file in new else {}
    live = records.by_id(old[coll.file], coll) if coll.file in old else {}
    for rid in sorted(before.keys() - after.keys()):
        yield Finding(file, (), "deleted", f"{rid} was deleted from the archive; archived records stay")
    for rid, record in after.items():
        if rid in before and before[rid] != record:
            yield Finding(file, (), "immutable", f"archived {rid} changed; archived records never change")
        elif rid not in before and live.get(rid) != record:
            yield Finding(
                file,
                (),
                "immutable",
                f"{rid} is archived as it never was live; `coord archive` moves records as they are",
            )


def _file(
    file: str, old_doc: Record, new_doc: Record, who: Actor, archived: Callable[[], set[str]]
) -> Iterator[Finding]:
    coll = model.COLLECTIONS[file]
    before, after = records.by_id(old_doc, coll), records.by_id(new_doc, coll)
    for rid, path, record in iter_records(new_doc, coll):
        at = At(file, coll.kind, rid, path)
        previous = before.get(rid)
        if previous is None:
            yield from _created(at, record, who)
            answered = after.get(record.get("in_reply_to", ""))
            if answered is not None and answered["to"] not in (who.name, model.BROADCAST):
                yield _denied(at, who, f"answer {answered['message_id']}, which was sent to {answered['to']}")
        elif previous != record:
            yield from _changed(at, previous, record, who)
    gone = before.keys() - after.keys()
    for rid in sorted(gone - archived() if gone else ()):
        message = f"{rid} was deleted; records are never deleted (`coord archive` moves old closed ones)"
        yield Finding(file, (), "deleted", message)
    if file == model.REGISTRY and old_doc.get("settings") != new_doc.get("settings") and who.name != who.human:
        yield Finding(
            file,
            ("settings",),
            "authorization",
            f"{who.name} changed the settings; only the human coordinator ({who.human}) may",
        )


def _created(at: At, record: Record, who: Actor) -> Iterator[Finding]:
    status = model.status_of(at.kind, record)
    moves = model.moves_between(at.kind, None, status)
    if not moves:
        starts = sorted({m.target for m in model.MOVES[at.kind].values() if None in m.sources})
        message = f"{at.rid} is created {status}; a new {at.kind} starts {' or '.join(starts)}"
        yield Finding(at.file, (*at.path, "status"), "transition", message)
        return
    if not any(_may(role, who, at, None, record) for _, m in moves for role in m.roles):
        yield _denied(at, who, f"create it as {_owner(at.kind, record)}")
    if at.kind == "decision":
        yield from _inputs(at, [], record.get("inputs", ()), who)


def _owner(kind: str, record: Record) -> str:
    field = {"task": "created_by", "message": "from", "decision": "proposed_by"}.get(kind, "")
    return str(record.get(field, "someone else"))


def _changed(at: At, old: Record, new: Record, who: Actor) -> Iterator[Finding]:
    kind, rid = at.kind, at.rid
    fields = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
    for field in sorted(fields & model.IMMUTABLE[kind]):
        message = f"{rid}.{field} never changes once written; write a new record instead"
        yield Finding(at.file, (*at.path, field), "immutable", message)
    if kind == "decision" and model.decision_status(old) in ("active", "superseded"):
        for field in sorted(fields & model.DECIDED_FIELDS):
            message = f"{rid} was decided; its {field} stays as it was (supersede it with a new decision)"
            yield Finding(at.file, (*at.path, field), "immutable", message)
    for field in model.MONOTONIC.get(kind, ()):
        if field in fields and _earlier(new.get(field), old.get(field)):
            message = f"{rid}.{field} went back from {old.get(field)} to {new.get(field)}"
            yield Finding(at.file, (*at.path, field), "time", message)
    old_status, new_status = model.status_of(kind, old), model.status_of(kind, new)
    if old_status != new_status:
        moves = model.moves_between(kind, old_status, new_status)
        if not moves:
            onward = ", ".join(sorted({m.target for m in model.MOVES[kind].values() if old_status in m.sources}))
            message = (
                f"{rid}: {old_status} -> {new_status} is not a step of the protocol; "
                f"from {old_status} it can go to {onward or 'nothing'}"
            )
            yield Finding(at.file, (*at.path, "status"), "transition", message)
        elif not any(_may(role, who, at, old, new) for _, m in moves for role in m.roles):
            names = "/".join(name for name, _ in moves)
            yield _denied(at, who, f"{names} it ({old_status} -> {new_status})")
    edited = fields - WORKFLOW[kind] - model.IMMUTABLE[kind] - {"inputs"}
    if edited and not any(_may(role, who, at, old, new) for role in EDITORS[kind]):
        yield _denied(at, who, f"change its {', '.join(sorted(edited))}")
    if kind == "decision" and "inputs" in fields:
        yield from _inputs(at, old.get("inputs", ()), new.get("inputs", ()), who)


def _inputs(at: At, old: Iterable[Record], new: Iterable[Record], who: Actor) -> Iterator[Finding]:
    """Each instance gives, changes or withdraws only its own input."""
    before = {i["from"]: i for i in old}
    after = {i["from"]: i for i in new}
    for giver in sorted(before.keys() | after.keys()):
        if before.get(giver) != after.get(giver) and giver != who.name:
            yield _denied(at._replace(path=(*at.path, "inputs")), who, f"change the input of {giver}")


def _earlier(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and timestamps.parse(a) < timestamps.parse(b)


def _denied(at: At, who: Actor, what: str) -> Finding:
    return Finding(at.file, at.path, "authorization", f"{who.name} may not {what} on {at.rid}")


def _may(role: str, who: Actor, at: At, old: Record | None, new: Record) -> bool:
    """Whether `who` plays `role` for this change of the record `at` names."""
    me = who.name
    if me is None:
        return False
    if role == model.ANYONE:
        return True
    if role == model.HUMAN:
        return me == who.human
    if role == model.SELF:
        return me == at.rid
    if role == model.CREATOR:
        return (old or new).get("created_by") == me
    if role == model.HOLDER:
        return old is not None and old.get("assigned_to") == me
    if role == model.CLAIMANT:
        return new.get("assigned_to") == me
    if role == model.SENDER:
        return new.get("from") == me
    if role == model.RECIPIENT:
        return new.get("to") in (me, model.BROADCAST)
    if role == model.PROPOSER:
        # The specification's pending decisions name no proposer; then whoever decides is the decision maker.
        return (old or new).get("proposed_by", me) == me
    if role == model.DECIDER:
        return me in (old or new).get("decided_by", ())
    if role == model.STALE_HOLDER:
        return _stale(who, old, new)
    raise AssertionError(f"unknown role {role}")


def _stale(who: Actor, old: Record | None, new: Record) -> bool:
    """The task's holder had not checked in for a whole lease when the task was taken back."""
    holder = (old or {}).get("assigned_to")
    seen = who.registry.get(holder, {}).get("last_update") if holder else None
    when = new.get("updated")
    if holder is None or when is None:
        return False
    if seen is None:
        return True
    return timestamps.parse(when) - timestamps.parse(seen) > dt.timedelta(hours=who.lease_hours)
