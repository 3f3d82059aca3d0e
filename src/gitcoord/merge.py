"""Three-way merge of a coordination file, record by record, field by field, by one policy table.

Records are matched by id across all the lists of a file. For each field: if one side
changed it, take that side; if both changed it alike, take it; if they changed it
differently, its policy decides. Fields that move together (a task's status and its
assignee) merge as a group. The result is the same whichever side is "ours", and nothing
either side wrote is dropped silently: a claim that lost is kept in the task's
`contested` list, and what only a person can settle becomes a `merge_conflicts` entry,
which the validator refuses until someone chooses (`coord resolve`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from typing import NamedTuple

from gitcoord import invariants
from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord.model import Doc
from gitcoord.model import Record
from gitcoord.protocol.messages import response_queue
from gitcoord.records import by_id


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # a field one side does not have


def canon(value: Any) -> str:
    """One text per JSON value: the total order that breaks every tie the same way on both sides."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class Sides(NamedTuple):
    """One value as the merge base, our side and their side have it."""

    base: Any
    ours: Any
    theirs: Any


class Where(NamedTuple):
    record: str  # a record id, or "$" for a field of the file itself
    field: str


class Conflict(NamedTuple):
    record: str
    field: str
    base: Any
    values: list[Any]
    reason: str

    def as_entry(self) -> Record:
        entry = {"record": self.record, "field": self.field, "values": self.values, "reason": self.reason}
        return entry if self.base is MISSING else {**entry, "base": self.base}


class Outcome(NamedTuple):
    doc: Doc
    conflicts: list[Conflict]
    notes: list[str]  # what the merge decided that people should know, e.g. a claim that lost


class _Merge:
    """What one merge decided beyond the values themselves."""

    def __init__(self) -> None:
        self.conflicts: list[Conflict] = []
        self.notes: list[str] = []

    def conflict(self, at: Where, sides: Sides, reason: str) -> Any:
        values = sorted([sides.ours, sides.theirs], key=canon)
        self.conflicts.append(Conflict(at.record, at.field, sides.base, values, reason))
        # Until a person chooses, the record keeps what it was (or the first candidate, if new).
        return sides.base if sides.base is not MISSING else values[0]


# Policies: each decides a field that both sides changed differently ---------------------

Policy = Callable[[_Merge, Where, Sides], Any]


def take(m: _Merge, at: Where, sides: Sides) -> Any:
    """Written once, never merged: two different values are for a person to choose."""
    if sides.base is MISSING:
        return m.conflict(at, sides, f"both sides wrote {at.record} with a different {at.field}")
    return m.conflict(at, sides, f"both sides changed {at.field} differently")


def _instant(value: Any) -> Any:
    return timestamps.parse(value) if isinstance(value, str) else None


def _times(sides: Sides) -> list[str]:
    return [v for v in (sides.ours, sides.theirs) if isinstance(v, str)]


def latest(m: _Merge, at: Where, sides: Sides) -> Any:
    """The later time (a heartbeat, a last change); an equal instant keeps the larger text."""
    present = _times(sides)
    if not present:
        return None if None in (sides.ours, sides.theirs) else MISSING
    return max(present, key=lambda v: (_instant(v), v))


def earliest(m: _Merge, at: Where, sides: Sides) -> Any:
    """The earlier time (a due date, a deadline): the stricter of the two."""
    present = _times(sides)
    if not present:
        return None if None in (sides.ours, sides.theirs) else MISSING
    return min(present, key=lambda v: (_instant(v), v))


def set_merge(m: _Merge, at: Where, sides: Sides) -> Any:
    """A list as a set: what either side added is in, what either side removed is out."""
    b, o, t = ([] if v is MISSING or v is None else v for v in sides)
    ok, tk, bk = {canon(v) for v in o}, {canon(v) for v in t}, {canon(v) for v in b}
    removed = (bk - ok) | (bk - tk)
    kept = [v for v in b if canon(v) not in removed]
    added = {canon(v): v for v in [*o, *t] if canon(v) not in bk}
    return kept + [added[k] for k in sorted(added)]


def union(*lists: Iterable[Any]) -> list[Any]:
    """Every distinct item of `lists`, in a side-independent order after the first list."""
    merged: list[Any] = set_merge(
        _Merge(), Where("$", ""), Sides([], list(next(iter(lists), [])), [x for rest in lists for x in rest])
    )
    return merged


def ranked(*order: str) -> Policy:
    """The value that comes first in `order` (a status further along, a higher priority)."""
    position = {v: n for n, v in enumerate(order)}

    def pick(m: _Merge, at: Where, sides: Sides) -> Any:
        return min(
            (sides.ours, sides.theirs), key=lambda v: (position.get(v, len(order)), "" if v is MISSING else canon(v))
        )

    return pick


class Records(NamedTuple):
    """A list of nested records matched by `key` (or one nested object, key ""), merged by the policies of `kind`."""

    key: str
    kind: str


class Group(NamedTuple):
    """Fields that change together and merge as one."""

    name: str


TASK_STATUS_ORDER = rulebook.TASK.progress
DECISION_STATUS_ORDER = rulebook.DECISION.progress
# A conflict over a group names the group; its values hold the group's fields.
OUTCOME_FIELDS = ("status", "decision", "rationale", "decided_by", "date", "superseded_by")

ASSIGNMENT = Group("assignment")
PRESENCE = Group("presence")
OUTCOME = Group("outcome")
INPUT = Group("input")
ESCALATION = Group("escalation")
DERIVED = Group("derived")  # recomputed from the merged records
RECORD_LISTS = Group("records")  # the file's own record lists, merged by id

# Every field of every schema, and how it merges (tests check that none is missing).
POLICY: dict[str, dict[str, Any]] = {
    model.REGISTRY: {
        "instances": RECORD_LISTS,
        "coordination_protocol_version": take,
        "last_registry_update": latest,
        "settings": Records("", "settings"),
        "merge_conflicts": set_merge,
    },
    "settings": dict.fromkeys(rulebook.SETTINGS_FIELDS, take),
    "instance": {
        "role": take,
        "signing_key": take,  # two different keys for one instance: a person decides which it holds
        "expertise_areas": set_merge,
        **dict.fromkeys(
            ("status", "current_task", "last_update", "available_for_consultation", "current_session_id"), PRESENCE
        ),
    },
    model.TASKS: {**dict.fromkeys(model.TASK_RECORDS.lists, RECORD_LISTS), "merge_conflicts": set_merge},
    "task": {
        **dict.fromkeys(("task_id", "title", "description", "created", "created_by", "suggested_assignee"), take),
        **dict.fromkeys(("status", "assigned_to", "assigned_at", "status_reason"), ASSIGNMENT),
        "priority": ranked(*rulebook.PRIORITIES),
        "due": earliest,
        "updated": latest,
        **dict.fromkeys(
            ("dependencies", "deliverables", "required_expertise", "declines", "contested", "notes"), set_merge
        ),
    },
    model.MESSAGES: {"messages": RECORD_LISTS, "response_queue": DERIVED, "merge_conflicts": set_merge},
    "message": {
        **dict.fromkeys(rulebook.MESSAGE.immutable, take),
        "status": ranked(*rulebook.MESSAGE.progress),
        "closed_at": earliest,
    },
    model.DECISIONS: {**dict.fromkeys(model.DECISION_RECORDS.lists, RECORD_LISTS), "merge_conflicts": set_merge},
    "decision": {
        **dict.fromkeys(("decision_id", "title", "description", "proposed_by", "proposed_at"), take),
        "options": Records("option", "option"),
        "inputs": Records("from", "input"),
        **dict.fromkeys(("input_needed_from", "affects_instances", "related_tasks"), set_merge),
        "deadline": earliest,
        **dict.fromkeys(OUTCOME_FIELDS, OUTCOME),
        "escalation": ESCALATION,
        "notes": set_merge,
    },
    "option": {"option": take, "pros": set_merge, "cons": set_merge},
    "input": {"from": take, **dict.fromkeys(("option", "comment", "at"), INPUT)},
}


# Groups: each decides fields that both sides changed differently, together ---------------


def _plain(group: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in group.items() if v is not MISSING}


def _present(value: Any) -> Any:
    return None if value is MISSING else value


def _assignment(m: _Merge, rid: str, records: Sides, groups: Sides) -> dict[str, Any]:
    """The status further along wins; between equals, the earlier claim; then the lower instance id.

    The other side's assignment is kept in `contested`, and reported.
    """

    def order(g: dict[str, Any]) -> tuple[Any, ...]:
        at = _instant(g["assigned_at"])
        return (TASK_STATUS_ORDER.index(g["status"]), at is None, at or 0, str(g["assigned_to"]), canon(_plain(g)))

    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = [(groups.ours, records.ours), (groups.theirs, records.theirs)]
    (winner, _), (loser, losing) = sorted(pairs, key=lambda pair: order(pair[0]))
    if (winner["status"], winner["assigned_to"]) == (loser["status"], loser["assigned_to"]):
        return winner  # one assignment made on both sides: nobody lost it; the earlier one stands
    lost = {f: _present(loser[f]) for f in ("status", "assigned_to", "assigned_at", "status_reason")}
    lost["at"] = losing.get("updated")
    who = loser["assigned_to"] if loser["assigned_to"] not in (MISSING, None) else "the queue"
    m.notes.append(
        f"{rid}: {who} ({loser['status']}) lost to {winner['assigned_to'] or 'the queue'} ({winner['status']})"
    )
    return {**winner, "contested": lost}


def _presence(m: _Merge, rid: str, records: Sides, groups: Sides) -> dict[str, Any]:
    """The later check-in is the instance's current state."""

    def order(g: dict[str, Any]) -> tuple[Any, ...]:
        seen = _instant(g["last_update"])
        return (seen is not None, seen or 0, canon(_plain(g)))

    return max(groups.ours, groups.theirs, key=order)


def _input(m: _Merge, rid: str, records: Sides, groups: Sides) -> dict[str, Any]:
    """An instance's later input replaces its earlier one."""
    return max(groups.ours, groups.theirs, key=lambda g: (_instant(g["at"]) or 0, canon(_plain(g))))


def _outcome(m: _Merge, rid: str, records: Sides, groups: Sides) -> dict[str, Any]:
    """A decision further along wins; two different final decisions are for a person."""

    def rank(g: dict[str, Any]) -> int:
        return DECISION_STATUS_ORDER.index("pending" if g["status"] is MISSING else g["status"])

    base: dict[str, Any] = groups.base
    ours: dict[str, Any] = groups.ours
    theirs: dict[str, Any] = groups.theirs
    if rank(ours) == rank(theirs) and ours["status"] in ("active", "superseded"):
        m.conflict(
            Where(rid, "outcome"), Sides(_plain(base), _plain(ours), _plain(theirs)), "two different final decisions"
        )
        return base
    return min(ours, theirs, key=lambda g: (rank(g), canon(_plain(g))))


_GROUP_RULES: dict[Group, Callable[[_Merge, str, Sides, Sides], dict[str, Any]]] = {
    ASSIGNMENT: _assignment,
    PRESENCE: _presence,
    INPUT: _input,
    OUTCOME: _outcome,
}


def _escalation(m: _Merge, at: Where, sides: Sides) -> Any:
    """The first escalation stands; a second one's reason joins it as a position."""
    if sides.ours in (MISSING, None) or sides.theirs in (MISSING, None):
        return sides.ours if sides.theirs in (MISSING, None) else sides.theirs
    first, second = sorted((sides.ours, sides.theirs), key=lambda e: (_instant(e["raised_at"]), canon(e)))
    base = sides.base.get("positions", MISSING) if isinstance(sides.base, dict) else MISSING
    positions = set_merge(m, at, Sides(base, first["positions"], second["positions"]))
    theirs_too = {"instance": second["raised_by"], "position": second["reason"]}
    return {**first, "positions": union(positions, [theirs_too])}


# Records ---------------------------------------------------------------------------------


def _fields(record: Record | None, names: Iterable[str]) -> dict[str, Any]:
    return {f: record.get(f, MISSING) if record is not None else MISSING for f in names}


def merge_record(m: _Merge, kind: str, rid: str, records: Sides) -> Record:
    base, ours, theirs = records
    policies = POLICY[kind]
    result: dict[str, Any] = {}
    done: set[str] = set()
    contested: Any = MISSING
    for field in dict.fromkeys([*(base or {}), *ours, *theirs]):
        if field in done:
            continue
        policy = policies.get(field, take)
        if policy in _GROUP_RULES:
            members = [f for f, p in policies.items() if p == policy]
            done.update(members)
            groups = Sides(_fields(base, members), _fields(ours, members), _fields(theirs, members))
            if groups.theirs in (groups.ours, groups.base):
                chosen = groups.ours
            elif groups.base == groups.ours:
                chosen = groups.theirs
            else:
                chosen = dict(_GROUP_RULES[policy](m, rid, records, groups))
                contested = chosen.pop("contested", MISSING)
            result.update(_plain(chosen))
            continue
        value = merge_value(
            m, policy, Where(rid, field), Sides(_get(base, field), ours.get(field, MISSING), theirs.get(field, MISSING))
        )
        if value is not MISSING:
            result[field] = value
    if contested is not MISSING:
        result["contested"] = union(result.get("contested", []), [contested])
    return result


def _get(record: Record | None, field: str) -> Any:
    return MISSING if record is None else record.get(field, MISSING)


def same(a: Any, b: Any) -> bool:
    """Equal as JSON (where Python would also call 1 and true equal)."""
    return a is b or (a is not MISSING and b is not MISSING and a == b and canon(a) == canon(b))


def merge_value(m: _Merge, policy: Any, at: Where, sides: Sides) -> Any:
    if same(sides.ours, sides.theirs) or same(sides.base, sides.theirs):
        return sides.ours
    if same(sides.base, sides.ours):
        return sides.theirs
    if policy is ESCALATION:
        return _escalation(m, at, sides)
    if isinstance(policy, Records):
        return _nested(m, policy, at, sides)
    return policy(m, at, sides)


def _nested(m: _Merge, policy: Records, at: Where, sides: Sides) -> Any:
    """A nested list of records (or one nested object) merged record by record.

    Anything a person must settle inside it is settled for the whole field: the conflict
    lists both sides' complete values.
    """
    inner = _Merge()
    if not policy.key:
        merged: Any = merge_record(
            inner, policy.kind, at.record, Sides(*({} if v in (MISSING, None) else v for v in sides))
        )
    else:
        merged = _keyed(inner, policy, at.record, sides)
    m.notes += inner.notes
    if inner.conflicts:
        return m.conflict(at, sides, inner.conflicts[0].reason)
    return merged


def _keyed(m: _Merge, policy: Records, rid: str, sides: Sides) -> list[Record]:
    by = Sides(*({r[policy.key]: r for r in (v if isinstance(v, list) else [])} for v in sides))
    keys = [k for k in by.base if k in by.ours or k in by.theirs]
    keys += sorted({*by.ours, *by.theirs} - set(by.base))
    result = []
    for k in keys:
        b, o, t = (side.get(k) for side in by)
        if o is None or t is None:  # one side removed it: keep it if the other changed it
            kept = o if t is None else t
            if kept is not None and (b is None or kept != b):
                result.append(kept)
        elif t in (o, b):
            result.append(o)
        elif b == o:
            result.append(t)
        else:
            result.append(merge_record(m, policy.kind, f"{rid}.{k}", Sides(b, o, t)))
    return result


# Files -----------------------------------------------------------------------------------


def merge_file(file: str, base: Doc | None, ours: Doc, theirs: Doc) -> Outcome:
    """Merge one coordination file. `base` None: both sides added the file."""
    if ours == theirs or (base is not None and base == theirs):
        return Outcome(ours, [], [])
    if base is not None and base == ours:
        return Outcome(theirs, [], [])
    m = _Merge()
    coll = model.COLLECTIONS[file]
    b = base or {}
    doc: Doc = {}
    for key in dict.fromkeys([*b, *ours, *theirs]):
        policy = POLICY[file].get(key, take)
        if policy not in (RECORD_LISTS, DERIVED):
            value = merge_value(
                m, policy, Where("$", key), Sides(b.get(key, MISSING), ours.get(key, MISSING), theirs.get(key, MISSING))
            )
            if value is not MISSING:
                doc[key] = value
    merged = _merge_records(m, coll, Sides(base, ours, theirs))
    if coll.id_key:
        doc.update({name: [] for name in coll.lists})
        for record in merged.values():
            doc[coll.placement(record)].append(record)
    else:
        doc["instances"] = merged
    if file == model.MESSAGES:
        # Due times come from the queued entries; should two sides disagree, the same one wins either way.
        queued = sorted([*b.get("response_queue", []), *ours["response_queue"], *theirs["response_queue"]], key=canon)
        doc["response_queue"] = response_queue({"messages": list(merged.values()), "response_queue": queued[::-1]})
    if file == model.TASKS:
        _keep_dependencies_sound(m, doc, base)
    if m.conflicts:
        doc["merge_conflicts"] = union(doc.get("merge_conflicts", []), [c.as_entry() for c in m.conflicts])
    return Outcome(doc, m.conflicts, sorted(m.notes))


def _merge_records(m: _Merge, coll: model.Collection, docs: Sides) -> dict[str, Record]:
    b, o, t = (by_id(d, coll) if d is not None else {} for d in docs)
    order = [rid for rid in b if rid in o or rid in t] + sorted({*o, *t} - set(b))
    merged: dict[str, Record] = {}
    for rid in order:
        if rid not in o or rid not in t:
            # Records are never deleted, except by `coord archive`: a removal stands unless the
            # other side changed the record meanwhile, which would lose that change.
            kept = o.get(rid, t.get(rid))
            if kept is not None and (rid not in b or kept != b[rid]):
                merged[rid] = kept
                if rid in b:
                    m.notes.append(f"{rid}: kept, changed on one side though the other removed it")
        elif t[rid] in (o[rid], b.get(rid)):
            merged[rid] = o[rid]
        elif b.get(rid) == o[rid]:
            merged[rid] = t[rid]
        else:
            merged[rid] = merge_record(m, coll.kind, rid, Sides(b.get(rid), o[rid], t[rid]))
    return merged


def _keep_dependencies_sound(m: _Merge, doc: Doc, base: Doc | None) -> None:
    """A merge must not create a cycle, nor start a task whose new dependency is not done.

    Each side kept the rules; only their combination can break them. The dependency that
    the merge added goes back to what it was, and a person decides.
    """
    tasks = by_id(doc, model.TASK_RECORDS)
    before = by_id(base, model.TASK_RECORDS) if base else {}

    def old(rid: str) -> list[str]:
        deps: list[str] = before.get(rid, {}).get("dependencies", [])
        return deps

    def revert(rid: str, reason: str) -> None:
        task = tasks[rid]
        m.conflicts.append(
            Conflict(rid, "dependencies", old(rid), sorted([task["dependencies"], old(rid)], key=canon), reason)
        )
        # A copy: the record may be one of the sides' own, which the caller still holds.
        tasks[rid] = {**task, "dependencies": list(old(rid))}
        listed = doc[model.TASK_LIST[task["status"]]]
        listed[next(n for n, r in enumerate(listed) if r is task)] = tasks[rid]

    for _ in range(len(tasks)):
        found = next(invariants.cycles({rid: t["dependencies"] for rid, t in tasks.items()}), None)
        if found is None:
            break
        changed = sorted(rid for rid in set(found) if tasks[rid]["dependencies"] != old(rid))
        revert(changed[0] if changed else found[0], "the merged dependencies form a cycle: " + " -> ".join(found))
    for rid, task in tasks.items():
        if task["status"] in ("in_progress", "completed"):
            waiting = {d for d, _ in records.unfinished(task, tasks.get) if d in tasks}
            new = waiting - set(old(rid))
            if new:
                revert(rid, f"{rid} started on one side while the other made it wait for {', '.join(sorted(new))}")


def chosen(conflict: Record, record: Record) -> bool:
    """Whether `record` settles `conflict` with one of its candidates."""
    if conflict["field"] == "outcome":
        picked = {f: record[f] for f in OUTCOME_FIELDS if f in record}
        return any(canon(picked) == canon(v) for v in conflict["values"])
    field = conflict["field"]
    return field in record and any(canon(record[field]) == canon(v) for v in conflict["values"])


def settle(record: Record, conflict: Record, value: Any) -> Record:
    """`record` with the conflicted field (or group of fields) set to `value`."""
    if conflict["field"] == "outcome":
        return {**{k: v for k, v in record.items() if k not in OUTCOME_FIELDS}, **value}
    return {**record, conflict["field"]: value}
