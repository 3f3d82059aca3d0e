"""Is a change from one state of the store to the next a lawful step, by the instance that made it?

A generic diff of the old and the new state against the rulebook (`rulebook.py`): every
record created, changed, archived or deleted, and every field that changed, needs a rule
that allows it and an actor who holds a role for it. Authority — the human coordinator,
the registry, the lease, the holder of a task — is read from the *old* state, so a change
cannot grant itself the power it uses; and times an actor writes may not lie beyond the
moment of the change. The same function judges a command's own step, a staged commit
(pre-commit), and every commit replayed by `coord check --range`, the server's gate and CI.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import NamedTuple

from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord.findings import Finding
from gitcoord.jsonio import JsonPath
from gitcoord.model import Doc
from gitcoord.model import Record
from gitcoord.rulebook import Kind


class Judge(NamedTuple):
    """Who made a change and when, and what the old state says about the world."""

    actor: str | None
    human: str
    registry: Mapping[str, Record]  # the old state's instances
    settings: model.Settings  # the old state's settings
    when: dt.datetime  # the moment of the change: the commit's date
    now: dt.datetime  # the checker's clock (a commit dated after it is not believed)
    archives: Callable[[str, str], bool] | None = None  # (kind, id): whether the old state archived it
    since: dt.datetime | None = None  # the floor of the state it changes: times written may not lie before it

    @property
    def known(self) -> bool:
        return self.actor is not None and (self.actor in self.registry or self.actor == self.human)


class At(NamedTuple):
    """Which record a finding is about, and where it is."""

    file: str
    kind: Kind
    rid: str
    path: JsonPath

    def finding(self, rule: str, message: str, *field: str | int) -> Finding:
        return Finding(self.file, (*self.path, *field), rule, message)


def document(state: Mapping[str, Doc], file: str) -> Doc:
    """The file's document in `state`; a file that is not there is an empty one."""
    doc = state.get(file)
    return doc if doc is not None else model.empty_documents()[model.base(file)]


def judge(old: Mapping[str, Doc], actor: str | None, when: dt.datetime, now: dt.datetime | None = None) -> Judge:
    registry = document(old, model.REGISTRY)
    settings = model.settings_of(registry)
    return Judge(actor, settings.human_coordinator, registry["instances"], settings, when, now or when)


def check(
    old: Mapping[str, Doc],
    new: Mapping[str, Doc],
    actor: str | None,
    *,
    when: dt.datetime,
    now: dt.datetime | None = None,
    files: Iterable[str] | None = None,
    fresh: bool = True,
    event: str | None = None,
    authority: Doc | None = None,
    since: dt.datetime | None = None,
) -> list[Finding]:
    """Everything the change of `files` (default: all) from `old` to `new`, made by `actor` at `when`, breaks.

    `fresh`: an empty `old` is a store that never existed (not one that was deleted), so its
    first state is the root of trust.
    """
    files = list(files) if files is not None else sorted({*old, *new})
    docs = [(f, document(old, f), document(new, f)) for f in files]
    if fresh and _empty(document(old, model.REGISTRY)) and all(_empty(o) for _, o, _ in docs):
        return []  # a store created from nothing: its first state is the root of trust
    who = judge({model.REGISTRY: authority} if authority is not None else old, actor, when, now)
    # Only a state that knows its archive can say an id was archived (a snapshot, a replayed commit).
    who = who._replace(archives=getattr(old, "archives", None), since=since)
    findings: list[Finding] = []
    left: dict[str, tuple[str, Record]] = {}  # records that left a live file
    arrived: dict[str, tuple[str, Record]] = {}  # records that arrived in an archive shard
    for file, before, after in docs:
        if before is after:
            continue
        if model.is_shard(file):
            findings += _shard(file, before, after, arrived)
        else:
            findings += _live(file, before, after, who, left)
            findings += _file_fields(file, before, after, who)
    if event == rulebook.MIGRATE and all(_empty(n) for _, _, n in docs):
        findings += _migrated(docs, who)
    else:
        findings += _moved(left, arrived, who)
    if findings and actor is None:
        first = findings[0]
        message = (
            "the change names no instance: commit with a Coord-Instance trailer, or set your identity "
            "(--as, COORD_INSTANCE or `git config coord.instance`)"
        )
        return [Finding(first.file, first.path, "authorization", message)]
    return findings


def latest(file: str, doc: Doc) -> dt.datetime | None:
    """The latest time a live file records (its own fields and its records' stamps), if any.

    Only a judged commit can move it, so it is the floor under the times a change may write:
    a commit whose parent the committer dated in the past cannot lower it."""
    coll = model.COLLECTIONS[model.base(file)]
    kind = rulebook.KINDS[coll.kind]
    values = [doc.get(k) for k, rule in rulebook.FILE_FIELDS.items() if rule == "touched"]
    values += [_get(r, f) for _, _, r in records.iter_records(doc, coll) if isinstance(r, dict) for f in kind.stamps]
    moments = [timestamps.parse(v) for v in values if isinstance(v, str) and timestamps.is_valid(v)]
    return max(moments, default=None)


def overlay(own: Doc, other: Doc) -> Doc:
    """The authority a change carries into a merge: the other side's settings and keys, everyone's
    latest presence. A commit on one side of a merge is judged again under it, so that an old
    parent cannot lend a change the authority the line it joins has since taken away (a key
    rotated, signatures required, a holder who has checked in since)."""
    mine, theirs = own.get("instances", {}), other.get("instances", {})
    instances = {}
    for name in {*mine, *theirs}:
        entry = dict(theirs.get(name) or mine[name])
        if name in mine and name in theirs:
            entry["last_update"] = timestamps.later(mine[name].get("last_update"), theirs[name].get("last_update"))
        instances[name] = entry
    return {**other, "instances": instances}


def check_record(
    state: Mapping[str, Doc],
    kind: str,
    old: Record | None,
    new: Record,
    actor: str | None,
    *,
    when: dt.datetime,
    rid: str | None = None,
) -> list[Finding]:
    """What the rulebook says of one record's change on `state`: for a step to refuse early, in its words."""
    coll = model.BY_KIND[kind]
    rid = rid if rid is not None else new[coll.id_key]
    at = At(coll.file, rulebook.KINDS[kind], rid, ())
    who = judge(state, actor, when)
    if old is None:
        siblings = records.by_id(document(state, coll.file), coll) if kind == "message" else {}
        return list(_created(at, new, who, siblings))
    return list(_changed(at, old, new, who))


def _empty(doc: Doc) -> bool:
    return not any(doc.get(k) for k in ("instances", "settings", *model.RECORD_LISTS))


# Records in a live file --------------------------------------------------------------------


def _live(file: str, before: Doc, after: Doc, who: Judge, left: dict[str, tuple[str, Record]]) -> Iterator[Finding]:
    coll = model.COLLECTIONS[file]
    kind = rulebook.KINDS[coll.kind]
    new: Mapping[str, Record]
    if not coll.id_key:  # the registry: a few entries
        old, new = records.by_id(before, coll), records.by_id(after, coll)
        changed = list(records.iter_records(after, coll, skip={id(r) for r in old.values()}))
        gone = [(rid, r) for rid, r in old.items() if rid not in new]
    else:
        # A protocol step copies the records it keeps: the very objects the old state holds
        # need no look, so that a step's check costs what it changed. (States parsed apart,
        # as a range check reads them, share nothing, and every record is looked at.)
        key = coll.id_key
        same = {id(r) for name in coll.lists for r in before.get(name, ())}
        changed = list(records.iter_records(after, coll, skip=same))
        kept = {id(r) for name in coll.lists for r in after.get(name, ())}
        gone = [(r[key], r) for name in coll.lists for r in before.get(name, ()) if id(r) not in kept]
        old = dict(gone)  # a changed record's old version is one of these
        new = _Lazy(lambda: records.by_id(after, coll))
    made = sum(1 for rid, _, _ in changed if rid not in old)
    anywhere = At(file, kind, "$", ())
    if made > rulebook.MAX_CREATED and not any(
        _holds(r, who, anywhere, {}, {}) for r in rulebook.CREATE_ANY_NUMBER_ROLES
    ):
        message = (
            f"{made} {kind.name} records are created in one change; at most {rulebook.MAX_CREATED} are "
            f"(the human coordinator, {who.human}, may create more)"
        )
        yield Finding(file, (), "size", message)
        return
    for rid, path, record in changed:
        previous = old.get(rid)
        at = At(file, kind, rid, path)
        if previous is None:
            yield from _created(at, record, who, new)
        elif previous != record:
            yield from _changed(at, previous, record, who)
    arrived = {rid for rid, _, _ in changed}
    for rid, record in gone:
        if rid not in arrived:
            left[rid] = (file, record)


class _Lazy(Mapping[str, Record]):
    """A mapping built on first use: the siblings a new message is checked against, rarely needed."""

    def __init__(self, build: Callable[[], dict[str, Record]]) -> None:
        self._build = build
        self._found: dict[str, Record] | None = None

    def _map(self) -> dict[str, Record]:
        if self._found is None:
            self._found = self._build()
        return self._found

    def __getitem__(self, key: str) -> Record:
        return self._map()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map())

    def __len__(self) -> int:
        return len(self._map())


def _created(at: At, record: Record, who: Judge, siblings: Mapping[str, Record]) -> Iterator[Finding]:
    kind, status = at.kind, model.status_of(at.kind.name, record)
    moves = rulebook.moves_between(kind, None, status)
    if not moves:
        starts = " or ".join(rulebook.onward(kind, None))
        yield at.finding("transition", f"{at.rid} is created {status}; a new {kind.name} starts {starts}", "status")
        return
    if not any(_holds(role, who, at, None, record) for _, m in moves for role in m.roles):
        yield _denied(at, who, "create it", [m for _, m in moves], record)
        return
    yield from _names_actor(at, record, who, kind.actors)
    yield from _stamps(at, None, record, who)
    for field in sorted(kind.merge_only & record.keys()):
        yield at.finding("authorization", f"{at.rid}.{field} is written only by the merge driver", field)
    for field in sorted(kind.entries):
        if field != "escalation.positions":  # an escalation records each side's position as its raiser saw it
            yield from _entries(at, field, [], _get(record, field), who)
    if who.archives is not None and kind is not rulebook.INSTANCE and who.archives(kind.name, at.rid):
        yield at.finding("duplicate-id", f"{at.rid} was archived: an id is never used again; make a new record")
    if kind is rulebook.INSTANCE and at.rid == who.human:
        message = f"{at.rid} is the human coordinator's name: no instance may take it (the human needs no entry)"
        yield at.finding("authorization", message)
    for field, roles in _FIRST_SET_BY.get(kind.name, {}).items():
        if record.get(field) is not None and not any(_holds(r, who, at, None, record) for r in roles):
            yield _denied(at, who, f"set {field} of a new {kind.name}", [], record)
    if kind is rulebook.MESSAGE and "in_reply_to" in record:
        answered = siblings.get(record["in_reply_to"])
        if answered is not None and answered["to"] not in (who.actor, model.BROADCAST):
            yield _refuse(at, who, f"answer {answered['message_id']}, which was sent to {answered['to']}")
    if kind is rulebook.DECISION and "escalation" in record:
        yield from _escalated_to(at, record, who)


# A new registry entry's key is proof of who the instance is: only it, or the human, sets it.
_FIRST_SET_BY = {"instance": {"signing_key": (rulebook.SELF, rulebook.HUMAN)}}


def _changed(at: At, old: Record, new: Record, who: Judge) -> Iterator[Finding]:
    kind = at.kind
    fields = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
    for field in sorted(fields & kind.immutable):
        yield at.finding("immutable", f"{at.rid}.{field} never changes once written; write a new record instead", field)
    for field in sorted(fields & kind.merge_only):
        yield at.finding("authorization", f"{at.rid}.{field} is written only by the merge driver", field)
    fields -= kind.immutable | kind.merge_only
    old_status, new_status = model.status_of(kind.name, old), model.status_of(kind.name, new)
    moved: set[str] = set()
    if old_status != new_status:
        moves = rulebook.moves_between(kind, old_status, new_status)
        if not moves:
            onward = ", ".join(rulebook.onward(kind, old_status)) or "nothing"
            message = (
                f"{at.rid}: {old_status} -> {new_status} is not a step of the protocol; "
                f"from {old_status} it can go to {onward}"
            )
            yield at.finding("transition", message, "status")
            return
        allowed = [(n, m) for n, m in moves if any(_holds(r, who, at, old, new) for r in m.roles)]
        if not allowed:
            names = "/".join(n for n, _ in moves)
            yield _denied(at, who, f"{names} it ({old_status} -> {new_status})", [m for _, m in moves], old)
            return
        _name, move = max(allowed, key=lambda nm: len(nm[1].fields & fields))
        moved = set(move.fields & fields)
        yield from _names_actor(at, new, who, {f for f in kind.actors if f.split(".")[0] in moved})
        if "escalation" in moved:
            yield from _escalated_to(at, new, who)
        fields -= moved | {"status"}
    yield from _edited(at, old, new, who, fields, status=old_status, moved=bool(moved))
    yield from _stamps(at, old, new, who)
    for field in sorted(kind.monotonic):
        if _earlier(new.get(field), old.get(field)):
            yield at.finding("time", f"{at.rid}.{field} went back from {old.get(field)} to {new.get(field)}", field)
    for field in sorted(kind.entries):
        before, after = _get(old, field), _get(new, field)
        if before != after and not (field == "escalation.positions" and "escalation" in moved and not before):
            yield from _entries(at, field, before, after, who)


def _edited(
    at: At, old: Record, new: Record, who: Judge, fields: set[str], *, status: str, moved: bool
) -> Iterator[Finding]:
    """Fields changed beside the status: each needs an edit the rulebook allows, by a role the actor holds."""
    kind = at.kind
    touched = fields & kind.touched
    fields = fields - touched
    if "escalation" in fields:
        fields.discard("escalation")
        rest = {k: v for k, v in (old.get("escalation") or {}).items() if k != "positions"}
        if rest != {k: v for k, v in (new.get("escalation") or {}).items() if k != "positions"}:
            yield at.finding("immutable", f"{at.rid}: an escalation, once raised, stays as it was raised", "escalation")
        fields.add("escalation.positions")
    for field in sorted(fields):
        edit = kind.edits.get(field)
        if edit is None:
            by = sorted(n for n, m in kind.moves.items() if field in m.fields)
            only = f"; only {_either(by)} change{'s' if len(by) == 1 else ''} it" if by else ""
            yield at.finding("immutable", f"{at.rid}.{field} cannot change while it is {status}{only}", field)
        elif edit.statuses is not None and status not in edit.statuses:
            allowed = ", ".join(sorted(edit.statuses))
            yield at.finding("authorization", f"{at.rid}.{field} can change only while {allowed}, not {status}", field)
        elif edit.only_if_unset and old.get(field) is not None:
            yield at.finding("immutable", f"{at.rid}.{field} is set once and never changed", field)
        elif not any(_holds(r, who, at, old, new) for r in edit.roles):
            yield _denied(at, who, f"change its {field}", [edit], old)
    if touched and not fields and not moved:
        roles = {r for e in kind.edits.values() for r in e.roles}
        if not any(_holds(r, who, at, old, new) for r in roles):
            yield _denied(at, who, f"change its {', '.join(sorted(touched))}", [rulebook.Edit(frozenset(roles))], old)


def _entries(at: At, field: str, before: Any, after: Any, who: Judge) -> Iterator[Finding]:
    """Each entry is its owner's: added, changed or withdrawn only by the instance it names."""
    spec = at.kind.entries[field]
    old, new = before or [], after or []
    path = tuple(field.split("."))
    if spec.keyed:
        was, now = {e[spec.owner]: e for e in old}, {e[spec.owner]: e for e in new}
        if len(now) != len(new):
            message = f"{at.rid}.{field}: one entry per instance; an instance's entry is changed, not added twice"
            yield at.finding("authorization", message, *path)
        for owner in sorted(was.keys() | now.keys()):
            if was.get(owner) != now.get(owner) and owner != who.actor:
                what = "input" if field == "inputs" else field.rsplit(".", 1)[-1].rstrip("s")
                yield _refuse(at._replace(path=(*at.path, *path)), who, f"change the {what} of {owner}")
        added = [e for o, e in now.items() if was.get(o) != e]
    else:
        remaining = list(old)
        for entry in new:
            if entry in remaining:
                remaining.remove(entry)
        if remaining:
            yield at.finding("immutable", f"{at.rid}.{field}: entries are only ever added, never changed", *path)
        added = [e for e in new if e not in old]
        for entry in added:
            if entry.get(spec.owner) != who.actor:
                owner = entry.get(spec.owner)
                yield _refuse(at._replace(path=(*at.path, *path)), who, f"add an entry by {owner} to its {field}")
    if spec.stamp:
        for entry in added:
            yield from _future(at, f"{field}[].{spec.stamp}", entry.get(spec.stamp), who, *path)


def _names_actor(at: At, record: Record, who: Judge, fields: Iterable[str]) -> Iterator[Finding]:
    """Fields that say who acted must say it truly: a message's sender, a decision's decider."""
    for field in sorted(fields):
        value = _get(record, field)
        if value is None or value in (who.actor, [who.actor]):
            continue
        yield _refuse(at, who, f"write {field} = {value!r}; it must name the acting instance")


def _escalated_to(at: At, record: Record, who: Judge) -> Iterator[Finding]:
    escalation = record.get("escalation") or {}
    if escalation.get("escalated_to") not in (None, who.human):
        message = (
            f"{at.rid} is escalated to {escalation['escalated_to']!r}, who is not the human coordinator ({who.human})"
        )
        yield at.finding("authorization", message, "escalation", "escalated_to")


def _stamps(at: At, old: Record | None, new: Record, who: Judge) -> Iterator[Finding]:
    for field in sorted(at.kind.stamps):
        value = _get(new, field)
        if value is not None and (old is None or _get(old, field) != value):
            yield from _future(at, field, value, who, *field.split("."))


def _future(at: At, field: str, value: Any, who: Judge, *path: str | int) -> Iterator[Finding]:
    """A time the actor writes may not lie after the moment of the change (beyond a little skew)."""
    if not isinstance(value, str):
        return
    moment = timestamps.parse(value)
    if moment > who.when + rulebook.SKEW:
        message = f"{at.rid}.{field} = {value} lies after the change itself ({timestamps.format(who.when)})"
        yield at.finding("time", message, *path)
    elif who.since is not None and moment < who.since - rulebook.SKEW:
        message = f"{at.rid}.{field} = {value} lies before the state it changes ({timestamps.format(who.since)})"
        yield at.finding("time", message, *path)


def _get(record: Record, field: str) -> Any:
    value: Any = record
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _earlier(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and timestamps.parse(a) < timestamps.parse(b)


# Roles ---------------------------------------------------------------------------------------


def _holds(role: str, who: Judge, at: At, old: Record | None, new: Record) -> bool:
    """Whether the actor plays `role` for this change of the record `at` names (judged on `old`)."""
    me = who.actor
    record = old if old is not None else new
    if me is None:
        return False
    if role == rulebook.ANYONE:
        return who.known
    if role == rulebook.HUMAN:
        return me == who.human
    if role == rulebook.SELF:
        return me == at.rid
    if role in _FIELD_ROLES:
        return bool(record.get(_FIELD_ROLES[role]) == me)
    if role == rulebook.HOLDER:
        return old is not None and old.get("assigned_to") == me
    if role == rulebook.CLAIMANT:
        return bool(new.get("assigned_to") == me) and who.known
    if role == rulebook.RECIPIENT:
        return record.get("to") in (me, model.BROADCAST)
    if role == rulebook.DECIDER:
        return me in record.get("decided_by", ())
    if role == rulebook.STALE_HOLDER:
        return who.known and _stale(who, old)
    raise AssertionError(f"unknown role {role}")


_FIELD_ROLES = {rulebook.CREATOR: "created_by", rulebook.SENDER: "from", rulebook.PROPOSER: "proposed_by"}


def _stale(who: Judge, old: Record | None) -> bool:
    """The holder had not checked in for a whole lease when the task was taken back.

    Judged from the moment of the change (never later than the checker's own clock), not from
    any time the actor wrote: a reclaim cannot make a holder look stale by dating itself.
    """
    holder = (old or {}).get("assigned_to")
    if holder is None:
        return False
    return records.silent(who.registry.get(holder, {}), min(who.when, who.now), who.settings.lease_hours)


def _refuse(at: At, who: Judge, what: str) -> Finding:
    return at.finding("authorization", f"{who.actor} may not {what} on {at.rid}")


def _denied(at: At, who: Judge, what: str, rules: list[Any], record: Record) -> Finding:
    """A refusal that says who may, in the rulebook's words, filled in from the record."""
    roles = sorted({r for rule in rules for r in rule.roles})
    names = [n for r in roles if (n := _role_name(r, who, at, record))]
    may = f"; {_either(names)} may" if names else ""
    return at.finding("authorization", f"{who.actor} may not {what} on {at.rid}{may}")


def _role_name(role: str, who: Judge, at: At, record: Record) -> str | None:
    """The role in words, e.g. "its holder (instance-2)"; None for a role nobody holds on this record."""
    values = {"rid": at.rid, "human": who.human}
    for key in ("created_by", "assigned_to", "from", "to", "proposed_by", "decided_by"):
        value = record.get(key)
        values[key] = ", ".join(value) if isinstance(value, list) else str(value or "")
    name = rulebook.ROLE_NAMES[role]
    if "()" in name.format(**values):
        return None
    return name.format(**values)


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


# The files' own fields -------------------------------------------------------------------------


def _file_fields(file: str, before: Doc, after: Doc, who: Judge) -> Iterator[Finding]:
    lists = set(model.COLLECTIONS[file].lists)
    for key in sorted((before.keys() | after.keys()) - lists):
        if before.get(key) == after.get(key):
            continue
        rule = rulebook.FILE_FIELDS.get(key, rulebook.HUMAN)
        if rule == rulebook.HUMAN and who.actor != who.human:
            message = f"{who.actor} changed the {key}; only the human coordinator ({who.human}) may"
            yield Finding(file, (key,), "authorization", message)
        elif rule == "touched":
            if _earlier(after.get(key), before.get(key)):
                yield Finding(file, (key,), "time", f"{key} went back from {before.get(key)} to {after.get(key)}")
            value = after.get(key)
            if isinstance(value, str) and timestamps.parse(value) > who.when + rulebook.SKEW:
                yield Finding(file, (key,), "time", f"{key} = {value} lies after the change itself")
        elif rule == "merge":
            yield from _settled(file, before.get(key) or [], after.get(key) or [])


def _settled(file: str, before: list[Record], after: list[Record]) -> Iterator[Finding]:
    """Outside a merge, a merge conflict can only be settled (removed), never written."""
    for entry in after:
        if entry not in before:
            message = "a merge conflict is written only by the merge driver, in a merge"
            yield Finding(file, ("merge_conflicts",), "authorization", message)


# Archive ------------------------------------------------------------------------------------------


def _shard(file: str, before: Doc, after: Doc, arrived: dict[str, tuple[str, Record]]) -> Iterator[Finding]:
    """An archive shard only ever gains records, which then never change."""
    coll = model.COLLECTIONS[model.base(file)]
    old, new = records.by_id(before, coll), records.by_id(after, coll)
    counted = collections.Counter(rid for rid, _, _ in records.iter_records(after, coll))
    for rid in sorted(rid for rid, n in counted.items() if n > 1):
        yield Finding(file, (), "duplicate-id", f"{rid} is in this shard more than once; a record is archived once")
    for rid in sorted(old.keys() - new.keys()):
        yield Finding(file, (), "deleted", f"{rid} was deleted from the archive; archived records stay")
    for rid, record in new.items():
        if rid not in old:
            if rid in arrived:
                yield Finding(file, (), "duplicate-id", f"{rid} is archived twice, here and in {arrived[rid][0]}")
            arrived[rid] = (file, record)
        elif old[rid] != record:
            yield Finding(file, (), "immutable", f"archived {rid} changed; archived records never change")


def _migrated(docs: list[tuple[str, Doc, Doc]], who: Judge) -> Iterator[Finding]:
    """The whole store leaves this branch for a branch of its own: the human coordinator's call."""
    at = At(model.REGISTRY, rulebook.INSTANCE, "$", ())
    if not any(_holds(r, who, at, {}, {}) for r in rulebook.MIGRATE_ROLES):
        message = f"{who.actor} may not move the store off this branch; only the human coordinator ({who.human}) may"
        yield Finding(model.REGISTRY, (), "authorization", message)


def beside_store(
    old: Mapping[str, Doc], actor: str | None, paths: Sequence[str], *, when: dt.datetime
) -> list[Finding]:
    """On a store's own branch (`settings.store_branch`), what lies beside coordination/ is the
    human coordinator's alone: it runs in the clones that open the branch (the hooks of a
    `.pre-commit-config.yaml` in `coord edit`'s worktree, the workflows GitHub runs for its pull
    requests), so a change there by anyone else would run their code as the person who opens it."""
    who = judge(old, actor, when)
    branch = who.settings.store_branch
    at = At(model.REGISTRY, rulebook.INSTANCE, "$", ())
    if not paths or branch is None or any(_holds(r, who, at, {}, {}) for r in rulebook.BESIDE_STORE_ROLES):
        return []
    message = (
        f"{who.actor or 'a commit naming no instance'} changed {', '.join(paths)} on {branch}, the store's own "
        f"branch; only the human coordinator ({who.human}) changes files beside {model.COORD_DIR}/ there"
    )
    return [Finding(model.REGISTRY, (), "authorization", message)]


def _moved(
    left: dict[str, tuple[str, Record]], arrived: dict[str, tuple[str, Record]], who: Judge
) -> Iterator[Finding]:
    """Records leave a live file only into the archive: unchanged, closed, and closed long enough."""
    for rid in sorted(left.keys() - arrived.keys()):
        file = left[rid][0]
        message = f"{rid} was deleted; records are never deleted (closed ones move to the archive)"
        yield Finding(file, (), "deleted", message)
    for rid in sorted(arrived.keys() - left.keys()):
        shard = arrived[rid][0]
        yield Finding(shard, (), "immutable", f"{rid} is archived as it never was live; records move as they are")
    for rid in sorted(left.keys() & arrived.keys()):
        (file, record), (shard, archived) = left[rid], arrived[rid]
        if record != archived or model.base(shard) != file:
            yield Finding(shard, (), "immutable", f"{rid} changed on its way to the archive; records move as they are")
        else:
            yield from _archivable(shard, rid, record, who)


def _archivable(shard: str, rid: str, record: Record, who: Judge) -> Iterator[Finding]:
    coll = model.COLLECTIONS[model.base(shard)]
    kind = rulebook.KINDS[coll.kind]
    status = model.status_of(kind.name, record)
    if status not in rulebook.ARCHIVABLE_STATUSES[kind.name]:
        yield Finding(shard, (), "archive", f"{rid} is {status}: only closed records move to the archive")
        return
    closed = model.closed_at(kind.name, record)
    age = dt.timedelta(days=who.settings.archive_after_days)
    if closed is None or timestamps.parse(closed) + age > who.when:
        message = f"{rid} closed {closed}; it may move to the archive {who.settings.archive_after_days:g} days after"
        yield Finding(shard, (), "archive", message)
    elif not any(_holds(r, who, At(shard, kind, rid, ()), record, record) for r in rulebook.ARCHIVE_ROLES):
        yield Finding(shard, (), "authorization", f"{who.actor} may not archive {rid}; any registered instance may")
    elif not model.in_shard(shard, closed):
        yield Finding(
            shard,
            (),
            "archive",
            f"{rid} closed {closed}: it belongs in {model.shard_for(file=coll.file, closed=closed)} or a later shard",
        )
