"""The field-by-field diff of the records in a live file: each one created or changed needs a move
or an edit the rulebook allows, by a role the actor holds, and owned entries stay their owners'.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

from gitcoord import ids
from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord.findings import Finding
from gitcoord.history import times
from gitcoord.history.roles import At
from gitcoord.history.roles import Judge
from gitcoord.history.roles import denied
from gitcoord.history.roles import either
from gitcoord.history.roles import holds
from gitcoord.history.roles import refuse
from gitcoord.jsonio import JsonPath
from gitcoord.merge_policy import canon
from gitcoord.model import Doc
from gitcoord.model import Record


def live(file: str, before: Doc, after: Doc, who: Judge, left: dict[str, tuple[str, Record]]) -> Iterator[Finding]:
    coll = model.COLLECTIONS[file]
    kind = rulebook.KINDS[coll.kind]
    new: Mapping[str, Record]
    if not coll.id_key:  # the registry: a few entries
        old, new = records.by_id(before, coll), records.by_id(after, coll)
        written = list(records.iter_records(after, coll, skip={id(r) for r in old.values()}))
        gone = [(rid, r) for rid, r in old.items() if rid not in new]
    else:
        # A protocol step copies the records it keeps: the very objects the old state holds
        # need no look, so that a step's check costs what it changed. (States parsed apart,
        # as a range check reads them, share nothing, and every record is looked at.)
        key = coll.id_key
        same = {id(r) for name in coll.lists for r in before.get(name, ())}
        written = list(records.iter_records(after, coll, skip=same))
        kept = {id(r) for name in coll.lists for r in after.get(name, ())}
        gone = [(r[key], r) for name in coll.lists for r in before.get(name, ()) if id(r) not in kept]
        old = dict(gone)  # a changed record's old version is one of these
        # A record this change archives is still known as its parent left it (the archive must
        # take it unchanged): a task may start on a dependency completed and archived in one commit.
        new = Lazy(lambda: {**leaving, **records.by_id(after, coll)})
    arrived = {rid for rid, _, _ in written}
    leaving = {rid: record for rid, record in gone if rid not in arrived}
    changes = [(rid, path, record, old.get(rid)) for rid, path, record in written if old.get(rid) != record]
    bounded = _bounded(file, kind, changes, who)
    if bounded is not None:
        yield bounded
        return
    for rid, path, record, previous in changes:
        at = At(file, kind, rid, path)
        if previous is None:
            yield from created(at, record, who, new)
        else:
            yield from changed(at, previous, record, who, new)
    left.update((rid, (file, record)) for rid, record in leaving.items())


def _bounded(
    file: str, kind: rulebook.Kind, changes: list[tuple[str, JsonPath, Record, Record | None]], who: Judge
) -> Finding | None:
    """A change that adds more to `file` than one step or batch does (rulebook.MAX_CREATED records,
    rulebook.MAX_GROWN_BYTES of text), unless the actor is one the bounds do not bind."""
    made = sum(1 for *_, previous in changes if previous is None)
    grown = sum(_size(record) - (_size(previous) if previous is not None else 0) for *_, record, previous in changes)
    if made <= rulebook.MAX_CREATED and grown <= rulebook.MAX_GROWN_BYTES:
        return None
    if any(holds(r, who, At(file, kind, "$", ()), {}, {}) for r in rulebook.BULK_ROLES):
        return None
    if made > rulebook.MAX_CREATED:
        said = f"{made} {kind.name} records are created in one change; at most {rulebook.MAX_CREATED} are"
    else:
        said = f"one change adds {grown:,} bytes of {kind.name} records; at most {rulebook.MAX_GROWN_BYTES:,} are"
    return Finding(file, (), "size", f"{said} (the human coordinator, {who.human}, may add more)")


def _size(record: Record) -> int:
    # surrogatepass: a lone surrogate (not UTF-8) is for the schema check to refuse, in its words
    return len(json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass"))


class Lazy(Mapping[str, Record]):
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


def created(at: At, record: Record, who: Judge, siblings: Mapping[str, Record]) -> Iterator[Finding]:
    kind, status = at.kind, model.status_of(at.kind.name, record)
    moves = rulebook.moves_between(kind, None, status)
    if not moves:
        starts = " or ".join(rulebook.onward(kind, None))
        yield at.finding("transition", f"{at.rid} is created {status}; a new {kind.name} starts {starts}", "status")
        return
    allowed = [m for _, m in moves if any(holds(role, who, at, None, record) for role in m.roles)]
    if not allowed:
        yield denied(at, who, "create it", [m for _, m in moves], record)
        return
    yield from _waits(at, None, record, who, allowed[0], siblings=siblings)
    yield from _names_actor(at, record, who, kind.actors)
    yield from times.stamps(at, None, record, who)
    for field in sorted(kind.merge_only & record.keys()):
        yield at.finding("authorization", f"{at.rid}.{field} is written only by the merge driver", field)
    for field in sorted(kind.entries):
        if field != "escalation.positions":  # an escalation records each side's position as its raiser saw it
            yield from _entries(at, field, [], times.value_of(record, field), who)
    made = ids.created(at.rid) if kind is not rulebook.INSTANCE else None
    if made is not None and made > who.when + rulebook.SKEW:
        # The archive is searched from the day an id says it was made: a later day would hide it.
        message = f"{at.rid} says it was made at {timestamps.format(made)}, after this change; make a new id"
        yield at.finding("time", message)
    if who.archives is not None and kind is not rulebook.INSTANCE and who.archives(kind.name, at.rid):
        yield at.finding("duplicate-id", f"{at.rid} was archived: an id is never used again; make a new record")
    if kind is rulebook.INSTANCE and at.rid == who.human:
        message = f"{at.rid} is the human coordinator's name: no instance may take it (the human needs no entry)"
        yield at.finding("authorization", message)
    for field, roles in _FIRST_SET_BY.get(kind.name, {}).items():
        if record.get(field) is not None and not any(holds(r, who, at, None, record) for r in roles):
            yield denied(at, who, f"set {field} of a new {kind.name}", [], record)
    if kind is rulebook.MESSAGE and "in_reply_to" in record:
        asked = record["in_reply_to"]
        answered = siblings.get(asked)
        if answered is not None and answered["to"] not in (who.actor, model.BROADCAST):
            yield refuse(at, who, f"answer {answered['message_id']}, which was sent to {answered['to']}")
        elif answered is None and who.archives is not None and who.archives("message", asked) is not None:
            # An archived message's thread is over, and whom it was sent to is no longer at hand.
            yield refuse(at, who, f"answer {asked}, which is archived: its thread is closed; send a new message")
    if kind is rulebook.DECISION and "escalation" in record:
        yield from _escalated_to(at, record, who)


# A new registry entry's key is proof of who the instance is: only it, or the human, sets it.
_FIRST_SET_BY = {"instance": {"signing_key": (rulebook.SELF, rulebook.HUMAN)}}


def changed(
    at: At, old: Record, new: Record, who: Judge, siblings: Mapping[str, Record] | None = None
) -> Iterator[Finding]:
    kind = at.kind
    if kind is rulebook.MESSAGE and (old.get("status"), new.get("status")) == ("pending_response", "responded"):
        yield from _answered(at, siblings or {})
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
        allowed = [(n, m) for n, m in moves if any(holds(r, who, at, old, new) for r in m.roles)]
        if not allowed:
            names = "/".join(n for n, _ in moves)
            yield denied(at, who, f"{names} it ({old_status} -> {new_status})", [m for _, m in moves], old)
            return
        _name, move = max(allowed, key=lambda nm: len(nm[1].fields & fields))
        yield from _waits(at, old, new, who, move, siblings=siblings if siblings is not None else {})
        moved = set(move.fields & fields)
        yield from _names_actor(at, new, who, {f for f in kind.actors if f.split(".")[0] in moved})
        if "escalation" in moved:
            yield from _escalated_to(at, new, who)
        fields -= moved | {"status"}
        closed = rulebook.ARCHIVABLE_STATUSES.get(kind.name, frozenset())
        if kind.closing_stamp and new_status in closed and old_status not in closed:
            yield from times.closing(at, kind.closing_stamp, old, new, who)
    yield from _edited(at, old, new, who, fields, status=old_status, moved=bool(moved))
    yield from times.stamps(at, old, new, who)
    for field in sorted(kind.monotonic):
        if times.earlier(new.get(field), old.get(field)):
            yield at.finding("time", f"{at.rid}.{field} went back from {old.get(field)} to {new.get(field)}", field)
    # A time once written stays: without it, a closed record's wait would count from an older one.
    for field in sorted({*kind.monotonic, *([kind.closing_stamp] if kind.closing_stamp else [])}):
        if times.value_of(old, field) is not None and times.value_of(new, field) is None:
            yield at.finding("time", f"{at.rid}.{field} = {times.value_of(old, field)} was taken away; it stays", field)
    for field in sorted(kind.entries):
        before, after = times.value_of(old, field), times.value_of(new, field)
        if before != after and not (field == "escalation.positions" and "escalation" in moved and not before):
            yield from _entries(at, field, before, after, who)


def _waits(
    at: At, old: Record | None, new: Record, who: Judge, move: rulebook.Move, *, siblings: Mapping[str, Record]
) -> Iterator[Finding]:
    """A move the rulebook takes only once the record is ready, taken while it still waits for a dependency."""
    if not any(holds(role, who, at, old, new) for role in move.ready):
        return
    waiting = records.unfinished(new, siblings.get, who.archives)
    if waiting:
        said = ", ".join(f"{dep} ({status})" for dep, status in waiting)
        index = new["dependencies"].index(waiting[0][0])
        yield at.finding("dependency", f"{at.rid} is not ready: it waits for {said}", "dependencies", index)


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
        yield from _attributed(at, new)  # whose words each position says it holds
        yield from _restated(at, old, new, who)
    for field in sorted(fields):
        edit = kind.edits.get(field)
        if edit is None:
            by = sorted(n for n, m in kind.moves.items() if field in m.fields)
            only = f"; only {either(by)} change{'s' if len(by) == 1 else ''} it" if by else ""
            yield at.finding("immutable", f"{at.rid}.{field} cannot change while it is {status}{only}", field)
        elif edit.statuses is not None and status not in edit.statuses:
            allowed = ", ".join(sorted(edit.statuses))
            yield at.finding("authorization", f"{at.rid}.{field} can change only while {allowed}, not {status}", field)
        elif edit.only_if_unset and old.get(field) is not None:
            yield at.finding("immutable", f"{at.rid}.{field} is set once and never changed", field)
        elif edit.until is not None and old.get(edit.until):
            message = (
                f"{at.rid}.{field} is fixed once {at.rid} has {edit.until}: they answer it as it was asked "
                f"(a new question is a new {at.kind.name})"
            )
            yield at.finding("immutable", message, field)
        elif not any(holds(r, who, at, old, new) for r in edit.roles):
            yield denied(at, who, f"change its {field}", [edit], old)
    if touched and not fields and not moved:
        roles = {r for e in kind.edits.values() for r in e.roles}
        if not any(holds(r, who, at, old, new) for r in roles):
            yield denied(at, who, f"change its {', '.join(sorted(touched))}", [rulebook.Edit(frozenset(roles))], old)


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
                yield refuse(at._replace(path=(*at.path, *path)), who, f"change the {what} of {owner}")
        added = [e for o, e in now.items() if was.get(o) != e]
    else:
        # Counted, not looked up: a copy of another's entry is an entry added, and its owner's to add.
        kept = collections.Counter(canon(e) for e in old)
        added = []
        for entry in new:
            if kept[canon(entry)] > 0:
                kept[canon(entry)] -= 1
            else:
                added.append(entry)
        if any(kept.values()):
            yield at.finding("immutable", f"{at.rid}.{field}: entries are only ever added, never changed", *path)
        for entry in added:
            if entry.get(spec.owner) != who.actor:
                owner = entry.get(spec.owner)
                yield refuse(at._replace(path=(*at.path, *path)), who, f"add an entry by {owner} to its {field}")
    if spec.stamp:
        for entry in added:
            yield from times.future(at, f"{field}[].{spec.stamp}", entry.get(spec.stamp), who, *path)


def _names_actor(at: At, record: Record, who: Judge, fields: Iterable[str]) -> Iterator[Finding]:
    """Fields that say who acted must say it truly: a message's sender, a decision's decider."""
    for field in sorted(fields):
        value = times.value_of(record, field)
        if value is None or value in (who.actor, [who.actor]):
            continue
        yield refuse(at, who, f"write {field} = {value!r}; it must name the acting instance")


def _answered(at: At, siblings: Mapping[str, Record]) -> Iterator[Finding]:
    """A consultation is responded only where its answer is written (`coord msg reply` writes both
    at once): else an answer owed would leave the queue with none given."""
    if not any(m.get("in_reply_to") == at.rid for m in siblings.values()):
        message = f"{at.rid} is marked responded, but no answer to it is written; `coord msg reply {at.rid}` answers it"
        yield at.finding("transition", message, "status")


def _escalated_to(at: At, record: Record, who: Judge) -> Iterator[Finding]:
    escalation = record.get("escalation") or {}
    if escalation.get("escalated_to") not in (None, who.human):
        message = (
            f"{at.rid} is escalated to {escalation['escalated_to']!r}, who is not the human coordinator ({who.human})"
        )
        yield at.finding("authorization", message, "escalation", "escalated_to")
    # The raiser writes down each side's position; another's is marked as written by the raiser,
    # so that the human, who decides on them, never reads the raiser's words as that instance's.
    raiser = escalation.get("raised_by")
    for i, p in enumerate(escalation.get("positions") or ()):
        if p.get("instance") != raiser and p.get("by") != raiser:
            message = (
                f"{at.rid}: the position of {p.get('instance')} is written by {raiser}, who raises the escalation, "
                f"and must say so (by: {raiser})"
            )
            yield at.finding("authorization", message, "escalation", "positions", i, "by")
    yield from _attributed(at, record)


def _restated(at: At, old: Record, new: Record, who: Judge) -> Iterator[Finding]:
    """A position written or rewritten after the escalation was raised is its writer's own words:
    it may say it was written down by the raiser only where the raiser wrote it (else an instance
    could put words in the raiser's mouth, which the human would read as theirs)."""
    raiser = (new.get("escalation") or {}).get("raised_by")
    was = {p.get("instance"): p for p in (old.get("escalation") or {}).get("positions") or ()}
    for i, p in enumerate((new.get("escalation") or {}).get("positions") or ()):
        if p.get("by") is not None and who.actor != raiser and was.get(p.get("instance")) != p:
            message = (
                f"{at.rid}: {who.actor} writes the position of {p.get('instance')} as written down by {p['by']}; "
                "a position written since the escalation was raised is its writer's own: leave out `by`"
            )
            yield at.finding("authorization", message, "escalation", "positions", i, "by")


def _attributed(at: At, record: Record) -> Iterator[Finding]:
    """A position is its instance's own, or written down by the raiser and saying so: never said to
    be written by anyone else (the human, who decides on them, would read them as that one's)."""
    escalation = record.get("escalation") or {}
    raiser = escalation.get("raised_by")
    for i, p in enumerate(escalation.get("positions") or ()):
        if p.get("by") not in (None, raiser):
            message = (
                f"{at.rid}: the position of {p.get('instance')} says it was written by {p['by']!r}; a position is "
                f"its instance's own, or written down by {raiser}, who raises the escalation"
            )
            yield at.finding("authorization", message, "escalation", "positions", i, "by")
