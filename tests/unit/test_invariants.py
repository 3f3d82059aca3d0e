from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from tests.conftest import SEED

from gitcoord import ids
from gitcoord import invariants
from gitcoord import model
from gitcoord.findings import Finding
from gitcoord.snapshot import archives_in


@pytest.fixture
def seed() -> dict[str, Any]:
    return {f: json.loads((SEED / f).read_text()) for f in model.FILES}


def _found(state: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(f.where, f.rule, f.message) for f in invariants.check(state)]


def _rules(state: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f.where, f.rule) for f in invariants.check(state)}


def test_the_seed_keeps_every_invariant(seed: dict[str, Any]) -> None:
    assert invariants.check(seed) == []


def test_duplicate_ids_across_lists(seed: dict[str, Any]) -> None:
    tasks = seed[model.TASKS]
    twin = copy.deepcopy(tasks["pending_tasks"][0])
    twin["status"] = "completed"
    twin["assigned_to"] = "instance-1"
    tasks["completed_tasks"].append(twin)
    assert ("$.completed_tasks[0]", "duplicate-id") in _rules(seed)


def test_placement_follows_status(seed: dict[str, Any]) -> None:
    seed[model.DECISIONS]["pending_decisions"][0]["status"] = "active"
    found = _found(seed)
    assert (
        "$.pending_decisions[0]",
        "placement",
        "dec_002 has status 'active', so it belongs in decisions, not pending_decisions",
    ) in found


def test_unknown_references_everywhere(seed: dict[str, Any]) -> None:
    seed[model.TASKS]["pending_tasks"][0]["suggested_assignee"] = "instance-9"
    seed[model.MESSAGES]["messages"][0]["context"]["related_task"] = "task_404"
    seed[model.MESSAGES]["messages"][0]["context"]["related_decision"] = "dec_404"
    seed[model.MESSAGES]["messages"][0]["to"] = "nobody"
    seed[model.DECISIONS]["decisions"][0]["related_tasks"] = ["task_404"]
    seed[model.DECISIONS]["pending_decisions"][0]["input_needed_from"].append("instance-42")
    seed[model.REGISTRY]["instances"]["instance-1"]["current_task"] = "task_404"
    rules = _rules(seed)
    assert rules >= {
        ("$.pending_tasks[0].suggested_assignee", "reference"),
        ("$.messages[0].context.related_task", "reference"),
        ("$.messages[0].context.related_decision", "reference"),
        ("$.messages[0].to", "reference"),
        ("$.decisions[0].related_tasks[0]", "reference"),
        ("$.pending_decisions[0].input_needed_from[2]", "reference"),
        ("$.instances['instance-1'].current_task", "reference"),
    }


def test_all_is_a_broadcast_address_not_an_instance(seed: dict[str, Any]) -> None:
    seed[model.MESSAGES]["messages"][0]["to"] = "all"
    assert invariants.check(seed) == [] or all(f.path[-1] != "to" for f in invariants.check(seed))
    seed[model.REGISTRY]["instances"]["all"] = seed[model.REGISTRY]["instances"]["instance-3"]
    assert ("$.instances.all", "reference") in _rules(seed)


def test_the_human_coordinator_needs_no_registry_entry(seed: dict[str, Any]) -> None:
    seed[model.MESSAGES]["messages"][0]["to"] = "human"
    assert [f for f in invariants.check(seed) if f.rule == "reference"] == []
    seed[model.REGISTRY]["settings"] = {"human_coordinator": "alice"}
    assert ("$.messages[0].to", "reference") in _rules(seed)


def test_dependency_cycles_are_named(seed: dict[str, Any]) -> None:
    seed[model.TASKS]["active_tasks"][0]["dependencies"] = ["task_003"]
    cycles = [m for _, rule, m in _found(seed) if rule == "cycle"]
    assert "dependency cycle: task_001 -> task_003 -> task_001" in cycles
    seed[model.TASKS]["active_tasks"][0]["dependencies"] = ["task_001"]
    assert ("$.active_tasks[0].dependencies[0]", "cycle", "task_001 depends on itself") in _found(seed)


def test_a_long_chain_is_not_a_cycle() -> None:
    tasks = [
        {
            "task_id": f"task_{i:05d}",
            "title": "t",
            "assigned_to": None,
            "status": "pending_assignment",
            "priority": "low",
            "created": "2024-01-01T00:00:00Z",
            "dependencies": [f"task_{i - 1:05d}"] if i else [],
        }
        for i in range(5000)
    ]
    state = {model.TASKS: {"active_tasks": [], "pending_tasks": tasks, "completed_tasks": []}}
    assert invariants.check(state) == []
    tasks[0]["dependencies"] = ["task_04999"]
    assert [f.rule for f in invariants.check(state)] == ["cycle"]


def test_a_started_task_needs_its_dependencies_done(seed: dict[str, Any]) -> None:
    task = seed[model.TASKS]["pending_tasks"].pop(0)
    task.update(status="in_progress", assigned_to="instance-1")
    seed[model.TASKS]["active_tasks"].append(task)
    assert (
        "$.active_tasks[1].dependencies[0]",
        "dependency",
        "task_002 is in_progress but its dependency task_001 is in_progress",
    ) in _found(seed)


def test_assignment_matches_status(seed: dict[str, Any]) -> None:
    seed[model.TASKS]["pending_tasks"][0]["assigned_to"] = "instance-1"
    seed[model.TASKS]["active_tasks"][0]["assigned_to"] = None
    assert _rules(seed) >= {("$.pending_tasks[0].assigned_to", "status"), ("$.active_tasks[0].assigned_to", "status")}


def test_response_queue_is_in_step(seed: dict[str, Any]) -> None:
    log = seed[model.MESSAGES]
    log["response_queue"].append(dict(log["response_queue"][0]))
    assert ("$.response_queue[1]", "response-queue") in _rules(seed)
    log["response_queue"] = []
    assert next(m for _, r, m in _found(seed) if r == "response-queue").startswith(
        "msg_001 awaits an answer but is not queued"
    )
    log["messages"][0]["status"] = "responded"
    assert invariants.check(seed) == []
    log["response_queue"] = [{"responding_to": "msg_001", "from": "instance-1", "status": "pending"}]
    assert ("$.response_queue[0]", "response-queue") in _rules(seed)


def test_message_status_follows_whether_an_answer_is_needed(seed: dict[str, Any]) -> None:
    seed[model.MESSAGES]["messages"][0]["status"] = "acknowledged"
    assert ("$.messages[0].status", "status") in _rules(seed)


def test_decision_inputs_name_options_and_givers(seed: dict[str, Any]) -> None:
    pending = seed[model.DECISIONS]["pending_decisions"][0]
    pending["inputs"] = [
        {"from": "instance-1", "option": "SOAP", "at": "2024-01-15T12:00:00Z"},
        {"from": "instance-1", "option": "REST API", "at": "2024-01-15T12:00:00Z"},
    ]
    assert _rules(seed) >= {
        ("$.pending_decisions[0].inputs[0].option", "reference"),
        ("$.pending_decisions[0].inputs[1]", "duplicate-id"),
    }


def test_unresolved_merge_conflicts_are_refused(seed: dict[str, Any]) -> None:
    seed[model.MESSAGES]["merge_conflicts"] = [
        {
            "record": "msg_001",
            "field": "message",
            "base": "a",
            "values": ["b", "c"],
            "reason": "both sides changed the text",
        }
    ]
    [f] = invariants.check(seed)
    assert f.rule == "merge-conflict"
    assert "coord resolve msg_001 message" in f.message


def test_files_that_failed_their_schema_are_left_out(seed: dict[str, Any]) -> None:
    del seed[model.REGISTRY]
    seed[model.TASKS]["pending_tasks"][0]["suggested_assignee"] = "instance-9"
    assert invariants.check(seed) == []


def test_finding_as_dict_is_stable() -> None:
    f = Finding(model.TASKS, ("a", 0), "schema", "bad", 3, 4)
    assert f.as_dict() == {
        "file": model.TASKS,
        "line": 3,
        "column": 4,
        "path": "$.a[0]",
        "rule": "schema",
        "message": "bad",
    }


def _steps(seed: dict[str, Any], n: int, rng_seed: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """`n` protocol steps from the seed, each as (state before, state after): the after shares what it kept."""
    import datetime as dt
    import random
    from collections import ChainMap

    from testing import simulate

    from gitcoord import ids
    from gitcoord.protocol import Context
    from gitcoord.protocol import Refused

    rng = random.Random(rng_seed)
    now = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
    state: dict[str, Any] = seed
    found: list[Any] = []
    while len(found) < n:
        now += dt.timedelta(minutes=7)
        try:
            change = simulate.choose(state, rng).apply(state, Context(None, now, ids.maker(now, rng.getrandbits)))
        except Refused:
            continue
        after = dict(ChainMap(change.docs, state))
        found.append((state, after))
        state = after
    return found


@pytest.mark.parametrize("rng_seed", range(6))
def test_a_step_checked_through_what_it_touched_finds_what_a_full_check_finds(
    seed: dict[str, Any], rng_seed: int
) -> None:
    for before, after in _steps(seed, 40, rng_seed):
        full = sorted(map(str, invariants.check(after)))
        assert sorted(map(str, invariants.check(after, since=before))) == full


def test_a_step_that_undoes_a_dependency_is_found_at_the_task_that_depends_on_it(seed: dict[str, Any]) -> None:
    tasks = seed[model.TASKS]
    done = {**tasks["pending_tasks"][0], "status": "completed", "assigned_to": "instance-1", "dependencies": []}
    working = {**tasks["pending_tasks"][1], "status": "in_progress", "assigned_to": "instance-2"}
    working["dependencies"] = [done["task_id"]]
    active = [*tasks["active_tasks"], working]
    before = {**seed, model.TASKS: {**tasks, "pending_tasks": [], "active_tasks": active, "completed_tasks": [done]}}
    assert invariants.check(before) == []
    undone = {**done, "status": "pending_assignment", "assigned_to": None}
    after = {**before, model.TASKS: {**before[model.TASKS], "completed_tasks": [], "pending_tasks": [undone]}}
    found = invariants.check(after, since=before)
    assert [f.rule for f in found] == ["dependency"]
    assert found == invariants.check(after)


def test_a_step_that_takes_records_away_is_checked_in_full(seed: dict[str, Any]) -> None:
    log = seed[model.MESSAGES]
    root = log["messages"][0]
    answer = {**root, "message_id": "msg_9", "in_reply_to": root["message_id"], "requires_response": False}
    answer.update(type="consultation_response", status="sent")
    before = {**seed, model.MESSAGES: {**log, "messages": [root, answer], "response_queue": log["response_queue"]}}
    after = {**before, model.MESSAGES: {**before[model.MESSAGES], "messages": [answer], "response_queue": []}}
    found = invariants.check(after, since=before)
    assert "reference" in {f.rule for f in found}  # the answer, untouched, names a message gone
    assert sorted(map(str, found)) == sorted(map(str, invariants.check(after)))


@pytest.mark.parametrize(
    "name", ["Human", "HUMAN", "instance-1.", "Instance-1", "instance_1", "instance1", "instance-l", "lnstance-I"]
)
def test_a_name_that_reads_like_another_is_refused(seed: dict[str, Any], name: str) -> None:
    registry = seed[model.REGISTRY]
    registry["instances"][name] = {**registry["instances"]["instance-2"], "signing_key": None}
    found = [f for f in invariants.check(seed) if f.rule == "duplicate-id" and "reads like" in f.message]
    assert found, f"{name!r} passed"
    assert found[0].path == ("instances", name)


@pytest.mark.parametrize(
    "key",
    [
        "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAAAgQC",  # the pattern's shape, an RSA blob inside
        "ssh-ed25519 AAAA%%%%",
    ],
)
def test_a_signing_key_that_holds_no_key_is_refused(seed: dict[str, Any], key: str) -> None:
    seed[model.REGISTRY]["instances"]["instance-2"]["signing_key"] = key
    found = [f for f in invariants.check(seed) if f.path == ("instances", "instance-2", "signing_key")]
    assert [f.rule for f in found] == ["schema"]
    assert "copy the whole line of the .pub file" in found[0].message


def test_what_a_step_touched_is_found_without_reading_the_files_it_left(seed: dict[str, Any]) -> None:
    """A claim changes the task queue: the 36 MB communication log it left is not parsed to say so."""
    from gitcoord import records

    read: list[str] = []

    class Reading(dict[str, Any]):
        def __getitem__(self, file: str) -> Any:
            read.append(file)
            return super().__getitem__(file)

    old = Reading(seed)
    tasks = seed[model.TASKS]
    first = {**tasks["pending_tasks"][0], "priority": "low"}
    new = records.with_changes(old, {model.TASKS: {**tasks, "pending_tasks": [first, *tasks["pending_tasks"][1:]]}})
    assert records.touched(old, new) == {model.TASKS: {id(first)}}
    assert set(read) == {model.TASKS}
    assert invariants.check(new, files=[model.TASKS], since=old) == invariants.check(new, files=[model.TASKS])


def test_a_decision_s_options_and_escalation_are_whole(seed: dict[str, Any]) -> None:
    pending = seed[model.DECISIONS]["pending_decisions"][0]
    pending["options"].append(copy.deepcopy(pending["options"][0]))
    pending["status"] = "escalated"
    found = _found(seed)
    assert ("$.pending_decisions[0].options", "duplicate-id", "dec_002 lists an option twice") in found
    assert ("$.pending_decisions[0]", "status", "dec_002 is escalated but records no escalation") in found


def test_an_answer_names_its_question_and_the_queue_its_due_time(seed: dict[str, Any]) -> None:
    log = seed[model.MESSAGES]
    log["messages"][0]["expected_response_time"] = "2024-01-15T14:00:00Z"
    answer = {**copy.deepcopy(log["messages"][0]), "message_id": "msg_002", "type": "consultation_response"}
    log["messages"].append({**answer, "requires_response": False, "status": "sent"})
    found = _found(seed)
    assert ("$.messages[1]", "status", "msg_002 is a consultation_response but names no in_reply_to") in found
    due = [m for w, r, m in found if w == "$.response_queue[0].expected_response_time" and r == "response-queue"]
    assert due == [
        "msg_001 is due 2024-01-15T14:00:00Z; the queue follows from the messages, and the next `coord msg` step "
        "rebuilds it"
    ]


def test_an_archive_file_holds_each_record_once_and_none_that_is_live(seed: dict[str, Any]) -> None:
    decided = seed[model.DECISIONS]["decisions"][0]
    archive = model.archive_of(model.DECISIONS)
    seed[archive] = {"decisions": [copy.deepcopy(decided), copy.deepcopy(decided)], "pending_decisions": []}
    found = [(f.file, f.where, f.rule, f.message) for f in invariants.check(seed, files=[archive])]
    assert found == [
        (archive, "$.decisions[1]", "duplicate-id", "dec_001 appears more than once; every record needs its own id"),
        *[
            (
                archive,
                f"$.decisions[{i}]",
                "duplicate-id",
                "dec_001 is both archived and live (in decisions.json); keep the live one and delete this copy",
            )
            for i in (0, 1)
        ],
    ]


def test_a_step_that_makes_a_duplicate_is_checked_in_full(seed: dict[str, Any]) -> None:
    tasks = seed[model.TASKS]
    twin = {**copy.deepcopy(tasks["pending_tasks"][0]), "title": "a second task with the first's id"}
    after = {**seed, model.TASKS: {**tasks, "pending_tasks": [*tasks["pending_tasks"], twin]}}
    found = [(f.where, f.rule) for f in invariants.check(after, since=seed)]
    assert found == [(f"$.pending_tasks[{len(tasks['pending_tasks'])}]", "duplicate-id")]


class _Shelves(dict[str, Any]):
    """A store whose shards dated before `unread` fail the test when read."""

    def __init__(self, docs: dict[str, Any], unread: str) -> None:
        super().__init__(docs)
        self.unread = unread

    def __getitem__(self, file: str) -> Any:
        assert not (model.is_shard(file) and file < self.unread), f"{file} was read"
        return super().__getitem__(file)


def test_a_reference_to_an_archived_record_reads_only_the_shards_from_its_day_on(seed: dict[str, Any]) -> None:
    """From the day before its id's day: an id may be dated a little ahead of the step that made
    it, so a record made just before midnight can be archived on the day before its id's."""
    made = dt.datetime(2025, 3, 10, 0, 4, tzinfo=dt.timezone.utc)
    asked = seed[model.MESSAGES]["messages"][0]
    old = {**copy.deepcopy(asked), "message_id": ids.maker(made)("msg", ())}
    shelf = model.shard_for(file=model.MESSAGES, closed="2025-03-09T23:58:00Z")
    earlier = model.shard_for(file=model.MESSAGES, closed="2025-03-08T08:00:00Z")
    later = model.shard_for(file=model.MESSAGES, closed="2025-03-12T08:00:00Z")
    empty: dict[str, list[Any]] = {"messages": [], "response_queue": []}
    state = _Shelves({**seed, earlier: empty, shelf: {**empty, "messages": [old]}, later: empty}, shelf)
    reply = {**copy.deepcopy(asked), "message_id": ids.maker(made)("msg", {old["message_id"]})}
    reply["in_reply_to"] = old["message_id"]
    state[model.MESSAGES] = {**seed[model.MESSAGES], "messages": [*seed[model.MESSAGES]["messages"], reply]}
    archives = archives_in(state)
    assert archives("message", old["message_id"])
    assert not archives("message", ids.maker(made)("msg", ()))
    found = invariants.check(state, files=[model.MESSAGES], archives=archives)
    assert [f for f in found if f.rule == "reference"] == []
    gone = invariants.check(state, files=[model.MESSAGES])
    assert [f.message for f in gone if f.rule == "reference"] == [
        f"{old['message_id']!r} is not a record in {model.MESSAGES}"
    ]
