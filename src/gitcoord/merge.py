"""Three-way merge of a coordination file, record by record, field by field, by one policy table (`merge_policy.py`).

Records are matched by id across all the lists of a file. For each field: if one side
changed it, take that side; if both changed it alike, take it; if they changed it
differently, its policy decides. Fields that move together (a task's status and its
assignee) merge as a group. The result is the same whichever side is "ours", and nothing
either side wrote is dropped silently: a claim that lost is kept in the task's
`contested` list, and what only a person can settle becomes a `merge_conflicts` entry,
which the validator refuses until someone chooses (`coord resolve`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from typing import NamedTuple

from gitcoord import model
from gitcoord import records
from gitcoord.invariants.tasks import cycles
from gitcoord.merge_policy import DERIVED
from gitcoord.merge_policy import ESCALATION
from gitcoord.merge_policy import GROUP_RULES
from gitcoord.merge_policy import MISSING as MISSING
from gitcoord.merge_policy import OUTCOME_FIELDS as OUTCOME_FIELDS
from gitcoord.merge_policy import POLICY as POLICY
from gitcoord.merge_policy import RECORD_LISTS
from gitcoord.merge_policy import Conflict as Conflict
from gitcoord.merge_policy import Merge
from gitcoord.merge_policy import Records as Records
from gitcoord.merge_policy import Sides
from gitcoord.merge_policy import Where
from gitcoord.merge_policy import canon
from gitcoord.merge_policy import merge_escalation
from gitcoord.merge_policy import plain
from gitcoord.merge_policy import take
from gitcoord.merge_policy import union
from gitcoord.model import Doc
from gitcoord.model import Record
from gitcoord.protocol.messages import response_queue
from gitcoord.records import by_id


class Outcome(NamedTuple):
    doc: Doc
    conflicts: list[Conflict]
    notes: list[str]  # what the merge decided that people should know, e.g. a claim that lost


# Records ---------------------------------------------------------------------------------


def _fields(record: Record | None, names: Iterable[str]) -> dict[str, Any]:
    return {f: record.get(f, MISSING) if record is not None else MISSING for f in names}


def merge_record(m: Merge, kind: str, rid: str, records: Sides) -> Record:
    base, ours, theirs = records
    policies = POLICY[kind]
    result: dict[str, Any] = {}
    done: set[str] = set()
    contested: Any = MISSING
    for field in dict.fromkeys([*(base or {}), *ours, *theirs]):
        if field in done:
            continue
        policy = policies.get(field, take)
        if policy in GROUP_RULES:
            members = [f for f, p in policies.items() if p == policy]
            done.update(members)
            groups = Sides(_fields(base, members), _fields(ours, members), _fields(theirs, members))
            if groups.theirs in (groups.ours, groups.base):
                chosen = groups.ours
            elif groups.base == groups.ours:
                chosen = groups.theirs
            else:
                chosen = dict(GROUP_RULES[policy](m, rid, records, groups))
                contested = chosen.pop("contested", MISSING)
            result.update(plain(chosen))
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


def merge_value(m: Merge, policy: Any, at: Where, sides: Sides) -> Any:
    if same(sides.ours, sides.theirs) or same(sides.base, sides.theirs):
        return sides.ours
    if same(sides.base, sides.ours):
        return sides.theirs
    if policy is ESCALATION:
        return merge_escalation(m, at, sides)
    if isinstance(policy, Records):
        return _nested(m, policy, at, sides)
    return policy(m, at, sides)


def _nested(m: Merge, policy: Records, at: Where, sides: Sides) -> Any:
    """A nested list of records (or one nested object) merged record by record.

    Anything a person must settle inside it is settled for the whole field: the conflict
    lists both sides' complete values.
    """
    inner = Merge()
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


def _keyed(m: Merge, policy: Records, rid: str, sides: Sides) -> list[Record]:
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
    m = Merge()
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


def _merge_records(m: Merge, coll: model.Collection, docs: Sides) -> dict[str, Record]:
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


def _keep_dependencies_sound(m: Merge, doc: Doc, base: Doc | None) -> None:
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
        found = next(cycles({rid: t["dependencies"] for rid, t in tasks.items()}), None)
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
