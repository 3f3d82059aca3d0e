"""How each field of each record merges when both sides changed it differently: the one policy table.

A policy decides one field (the later time, the status further along, the union of two
lists, or a conflict for a person); a group decides fields that change together (a task's
status and its assignee) as one. `merge.py` walks files and records and asks these.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from typing import NamedTuple

from gitcoord import model
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord.model import Record


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


class Merge:
    """What one merge decided beyond the values themselves."""

    def __init__(self) -> None:
        self.conflicts: list[Conflict] = []
        self.notes: list[str] = []

    def conflict(self, at: Where, sides: Sides, reason: str) -> Any:
        # A side that does not have the field offers no value: null, for the person who chooses.
        values = sorted((None if v is MISSING else v for v in (sides.ours, sides.theirs)), key=canon)
        self.conflicts.append(Conflict(at.record, at.field, sides.base, values, reason))
        # Until a person chooses, the record keeps what it was (or the first candidate, if new).
        return sides.base if sides.base is not MISSING else values[0]


# Policies: each decides a field that both sides changed differently ---------------------

Policy = Callable[[Merge, Where, Sides], Any]


def take(m: Merge, at: Where, sides: Sides) -> Any:
    """Written once, never merged: two different values are for a person to choose."""
    if sides.base is MISSING:
        return m.conflict(at, sides, f"both sides wrote {at.record} with a different {at.field}")
    return m.conflict(at, sides, f"both sides changed {at.field} differently")


def _instant(value: Any) -> Any:
    return timestamps.parse(value) if isinstance(value, str) else None


def _times(sides: Sides) -> list[str]:
    return [v for v in (sides.ours, sides.theirs) if isinstance(v, str)]


def latest(m: Merge, at: Where, sides: Sides) -> Any:
    """The later time (a heartbeat, a last change); an equal instant keeps the larger text."""
    present = _times(sides)
    if not present:
        return None if None in (sides.ours, sides.theirs) else MISSING
    return max(present, key=lambda v: (_instant(v), v))


def earliest(m: Merge, at: Where, sides: Sides) -> Any:
    """The earlier time (a due date, a deadline): the stricter of the two."""
    present = _times(sides)
    if not present:
        return None if None in (sides.ours, sides.theirs) else MISSING
    return min(present, key=lambda v: (_instant(v), v))


def set_merge(m: Merge, at: Where, sides: Sides) -> Any:
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
        Merge(), Where("$", ""), Sides([], list(next(iter(lists), [])), [x for rest in lists for x in rest])
    )
    return merged


def ranked(*order: str) -> Policy:
    """The value that comes first in `order` (a status further along, a higher priority)."""
    position = {v: n for n, v in enumerate(order)}

    def pick(m: Merge, at: Where, sides: Sides) -> Any:
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


def plain(group: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in group.items() if v is not MISSING}


def _present(value: Any) -> Any:
    return None if value is MISSING else value


def _assignment(m: Merge, rid: str, records: Sides, groups: Sides) -> dict[str, Any]:
    """The status further along wins; between equals, the earlier claim; then the lower instance id.

    The other side's assignment is kept in `contested`, and reported.
    """

    def order(g: dict[str, Any]) -> tuple[Any, ...]:
        at = _instant(g["assigned_at"])
        return (TASK_STATUS_ORDER.index(g["status"]), at is None, at or 0, str(g["assigned_to"]), canon(plain(g)))

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


def _presence(m: Merge, rid: str, records: Sides, groups: Sides) -> dict[str, Any]:
    """The later check-in is the instance's current state."""

    def order(g: dict[str, Any]) -> tuple[Any, ...]:
        seen = _instant(g["last_update"])
        return (seen is not None, seen or 0, canon(plain(g)))

    return max(groups.ours, groups.theirs, key=order)


def _input(m: Merge, rid: str, records: Sides, groups: Sides) -> dict[str, Any]:
    """An instance's later input replaces its earlier one."""
    return max(groups.ours, groups.theirs, key=lambda g: (_instant(g["at"]) or 0, canon(plain(g))))


def _outcome(m: Merge, rid: str, records: Sides, groups: Sides) -> dict[str, Any]:
    """A decision further along wins; two different final decisions are for a person."""

    def rank(g: dict[str, Any]) -> int:
        return DECISION_STATUS_ORDER.index("pending" if g["status"] is MISSING else g["status"])

    base: dict[str, Any] = groups.base
    ours: dict[str, Any] = groups.ours
    theirs: dict[str, Any] = groups.theirs
    if rank(ours) == rank(theirs) and ours["status"] in ("active", "superseded"):
        m.conflict(
            Where(rid, "outcome"), Sides(plain(base), plain(ours), plain(theirs)), "two different final decisions"
        )
        return base
    return min(ours, theirs, key=lambda g: (rank(g), canon(plain(g))))


GROUP_RULES: dict[Group, Callable[[Merge, str, Sides, Sides], dict[str, Any]]] = {
    ASSIGNMENT: _assignment,
    PRESENCE: _presence,
    INPUT: _input,
    OUTCOME: _outcome,
}


def merge_escalation(m: Merge, at: Where, sides: Sides) -> Any:
    """The first escalation stands; a second one's reason joins it as a position."""
    if sides.ours in (MISSING, None) or sides.theirs in (MISSING, None):
        return sides.ours if sides.theirs in (MISSING, None) else sides.theirs
    first, second = sorted((sides.ours, sides.theirs), key=lambda e: (_instant(e["raised_at"]), canon(e)))
    base = sides.base.get("positions", MISSING) if isinstance(sides.base, dict) else MISSING
    positions = set_merge(m, at, Sides(base, first["positions"], second["positions"]))
    theirs_too = {"instance": second["raised_by"], "position": second["reason"]}
    return {**first, "positions": union(positions, [theirs_too])}
