from __future__ import annotations

import copy
import datetime as dt
import json
import random
from collections import ChainMap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from testing import simulate
from tests.conftest import SEED

from gitcoord import ids
from gitcoord import invariants
from gitcoord import jsonio
from gitcoord import layout
from gitcoord import merge
from gitcoord import model
from gitcoord import records
from gitcoord import schema
from gitcoord import schemas
from gitcoord import store
from gitcoord.protocol import Context
from gitcoord.protocol import Refused

CASES = Path(__file__).parents[1] / "fixtures" / "merge"


def _case(name: str) -> tuple[str, dict[str, Any] | None, dict[str, Any], dict[str, Any], bytes, dict[str, Any]]:
    folder = CASES / name
    meta = json.loads((folder / "case.json").read_text())
    base = json.loads((folder / "base.json").read_text()) if (folder / "base.json").exists() else None
    ours, theirs = (json.loads((folder / f"{side}.json").read_text()) for side in ("ours", "theirs"))
    return meta["file"], base, ours, theirs, (folder / "expected.json").read_bytes(), meta


@pytest.mark.parametrize("name", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_table_case(name: str) -> None:
    """tests/fixtures/merge/<case>/: base, ours, theirs, the expected merge, and case.json saying why."""
    file, base, ours, theirs, expected, meta = _case(name)
    for a, b in ((ours, theirs), (theirs, ours)):  # symmetric: the same bytes whichever side is ours
        outcome = merge.merge_file(file, base, a, b)
        assert store.dump(file, outcome.doc) == expected, meta["why"]
        assert [[c.record, c.field] for c in outcome.conflicts] == meta["conflicts"]
        assert outcome.notes == meta["notes"]
    merged = {file: jsonio.parse(expected)}
    assert schema.validate(file, merged[file]) == []
    assert {f.rule for f in invariants.check(merged, files=[file])} <= {"merge-conflict", "reference"}
    assert bool(meta["conflicts"]) == any(f.rule == "merge-conflict" for f in invariants.check(merged, files=[file]))


def _schema_fields(node: Any, base: str, seen: set[str]) -> dict[str, Any]:
    """The properties of an object schema, following $ref, allOf and anyOf."""
    node, base = layout.object_schema(node, base)
    properties: dict[str, Any] = node.get("properties", {})
    return properties


def _uncovered(kind: str, node: Any, base: str) -> list[str]:
    missing = []
    for field, sub in _schema_fields(node, base, set()).items():
        policy = merge.POLICY[kind].get(field)
        if policy is None:
            missing.append(f"{kind}.{field}")
        elif isinstance(policy, merge.Records):
            item, item_base = layout.object_schema(sub, base)
            missing += _uncovered(policy.kind, item.get("items", item), item_base)
    return missing


def test_every_field_of_every_schema_has_a_merge_policy() -> None:
    missing = []
    for file in model.FILES:
        missing += _uncovered(file, schemas.document(file), file)
        coll = model.COLLECTIONS[file]
        record = schemas.document(file)["$defs"][coll.kind]
        missing += _uncovered(coll.kind, record, file)
    assert missing == []
    assert set(merge.POLICY["task"]) == set(schemas.document(model.TASKS)["$defs"]["task"]["properties"])


def test_a_side_merged_with_the_base_is_that_side() -> None:
    state = {f: json.loads((SEED / f).read_text()) for f in model.FILES}
    for file, doc in state.items():
        other = copy.deepcopy(doc)
        other["merge_conflicts"] = []  # any change
        assert merge.merge_file(file, doc, other, doc).doc is other
        assert merge.merge_file(file, doc, doc, other).doc is other


def test_a_change_kept_over_a_removal() -> None:
    _, base, ours, _, _, _ = _case("moved-and-edited")
    assert base is not None
    removed = copy.deepcopy(base)
    removed["active_tasks"] = []  # `coord archive` removes; the other side changed task_c meanwhile
    outcome = merge.merge_file(model.TASKS, base, removed, ours)
    merged = records.get({model.TASKS: outcome.doc}, "task", "task_c")
    assert merged is not None
    assert merged["status"] == "completed"
    assert outcome.notes == ["task_c: kept, changed on one side though the other removed it"]


def test_a_field_one_side_dropped_and_the_other_changed_is_a_conflict_not_a_crash() -> None:
    """A hostile merge (a parent without the store files, say) can give the merge a record whose
    field one side lacks while the other changed it: a person chooses, between null and the value."""
    state = {f: json.loads((SEED / f).read_text()) for f in model.FILES}
    base = state[model.DECISIONS]
    dropped, changed = copy.deepcopy(base), copy.deepcopy(base)
    del dropped["decisions"][0]["description"]
    changed["decisions"][0]["description"] = "another description"
    outcome = merge.merge_file(model.DECISIONS, base, dropped, changed)
    [conflict] = outcome.conflicts
    assert (conflict.field, conflict.values) == ("description", ["another description", None])
    json.dumps([c.as_entry() for c in outcome.conflicts])  # what the file records of it


def test_the_first_escalation_stands_and_the_second_joins_it() -> None:
    _, base, _, theirs, _, _ = _case("decided-while-escalated")
    assert base is not None
    later = copy.deepcopy(theirs)
    escalation = later["pending_decisions"][0]["escalation"]
    escalation.update(raised_by="instance-2", raised_at="2024-01-15T13:00:00Z", reason="GraphQL is overkill")
    escalation["positions"] = [{"instance": "instance-2", "position": "GraphQL is overkill"}]
    merged = merge.merge_file(model.DECISIONS, base, theirs, later).doc["pending_decisions"][0]["escalation"]
    assert merged["raised_by"] == "instance-3"
    assert merged["positions"] == [
        {"instance": "instance-2", "position": "GraphQL is overkill"},
        {"instance": "instance-3", "position": "REST will not scale"},
    ]


def test_starting_a_task_while_the_other_side_makes_it_wait_is_a_conflict() -> None:
    _, base, _, _, _, _ = _case("claim-race")
    assert base is not None
    started, waits = copy.deepcopy(base), copy.deepcopy(base)
    task_c = started["active_tasks"][0]
    task_c["updated"] = "2024-01-15T11:00:00Z"
    waits["active_tasks"][0]["dependencies"] = ["task_b"]
    started["active_tasks"][0]["priority"] = "high"
    outcome = merge.merge_file(model.TASKS, base, started, waits)
    assert [(c.record, c.field) for c in outcome.conflicts] == [("task_c", "dependencies")]
    assert "started on one side while the other made it wait for task_b" in outcome.conflicts[0].reason


# Properties, on concurrent histories made of real protocol steps --------------------------

NOW = dt.datetime(2024, 1, 15, 12, 0, tzinfo=dt.timezone.utc)


def _history(state: dict[str, Any], rng: random.Random, steps: int, start: int) -> dict[str, Any]:
    for n in range(steps):
        now = NOW + dt.timedelta(minutes=start + n)
        ctx = Context(None, now, ids.maker(now, rng.getrandbits))
        op = simulate.choose(state, rng)
        try:
            change = op.apply(state, ctx)
        except Refused:
            continue
        state = dict(ChainMap(change.docs, state))
    return state


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), common=st.integers(0, 6), mine=st.integers(1, 8), yours=st.integers(1, 8))
def test_merges_are_symmetric_lose_nothing_and_keep_the_rules(seed: int, common: int, mine: int, yours: int) -> None:
    rng = random.Random(seed)
    base = _history({f: json.loads((SEED / f).read_text()) for f in model.FILES}, rng, common, 0)
    ours = _history(base, random.Random(rng.random()), mine, 100)
    theirs = _history(base, random.Random(rng.random()), yours, 100)
    merged: dict[str, Any] = {}
    conflicts = []
    for file in model.FILES:
        one = merge.merge_file(file, base[file], ours[file], theirs[file])
        other = merge.merge_file(file, base[file], theirs[file], ours[file])
        assert store.dump(file, one.doc) == store.dump(file, other.doc)
        assert one.conflicts == other.conflicts
        assert one.notes == other.notes
        coll = model.COLLECTIONS[file]
        kept = set(records.by_id(one.doc, coll))
        assert set(records.by_id(ours[file], coll)) | set(records.by_id(theirs[file], coll)) <= kept, (
            "no record is lost"
        )
        assert merge.merge_file(file, base[file], ours[file], base[file]).doc == ours[file]
        assert schema.validate(file, one.doc) == []
        merged[file] = one.doc
        conflicts += one.conflicts
    found = invariants.check(merged)
    if conflicts:
        assert {f.rule for f in found} <= {"merge-conflict"}, found
    else:
        assert found == []
    for task in records.by_id(merged[model.TASKS], model.TASK_RECORDS).values():
        for lost in task.get("contested", ()):
            assert lost["assigned_to"] != task["assigned_to"] or lost["status"] != task["status"]
