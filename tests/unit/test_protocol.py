from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import ChainMap
from collections.abc import Mapping
from typing import Any

import pytest
from tests.conftest import SEED

from gitcoord import history
from gitcoord import ids
from gitcoord import invariants
from gitcoord import model
from gitcoord import records
from gitcoord import schema
from gitcoord import shapes
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import Refused
from gitcoord.protocol import decisions
from gitcoord.protocol import instances
from gitcoord.protocol import messages
from gitcoord.protocol import tasks

NOW = dt.datetime(2024, 1, 15, 12, 0, tzinfo=dt.timezone.utc)


def ctx(actor: str | None, minutes: int = 0) -> Context:
    counter = itertools.count(1)
    return Context(actor, NOW + dt.timedelta(minutes=minutes), ids.maker(NOW, lambda bits: next(counter)))


@pytest.fixture
def state() -> dict[str, Any]:
    return {f: json.loads((SEED / f).read_text()) for f in model.FILES}


def apply(state: dict[str, Any], change: Change) -> dict[str, Any]:
    """The state after `change`, checked as every command's step is: schema, invariants, history."""
    new = dict(ChainMap(change.docs, state))
    for file in change.docs:
        assert schema.validate(file, new[file]) == [], file
    assert invariants.check(new) == []
    assert history.check(state, new, change.event.actor, when=NOW + dt.timedelta(hours=1)) == []
    return new


def task(state: dict[str, Any], rid: str) -> dict[str, Any]:
    return record(state, "task", rid)


def record(state: dict[str, Any], kind: str, rid: str) -> dict[str, Any]:
    found = records.get(state, kind, rid)
    assert found is not None
    return found


def stepped(change: Change) -> Mapping[str, Any]:
    """The record a step created or changed."""
    assert change.record is not None
    return change.record


def test_new_ids_keep_the_prefix_and_order_by_time() -> None:
    early = ids.maker(NOW)("task", set())
    later = ids.maker(NOW + dt.timedelta(seconds=1))("task", set())
    assert early.startswith("task_")
    assert len(early) == len("task_") + 10
    assert early[:11] < later[:11]
    draws = iter([5, 5, 6])
    new = ids.maker(NOW, lambda bits: next(draws))
    first = new("task", set())
    assert new("task", {first}) == first[:-1] + "6"  # the same random draw again is skipped


def test_register_and_check_in(state: dict[str, Any]) -> None:
    state = apply(
        state, instances.register(state, ctx("instance-2"), "instance-7", role="qa", expertise=["testing", "testing"])
    )
    entry = state[model.REGISTRY]["instances"]["instance-7"]
    assert (entry["status"], entry["expertise_areas"], entry["last_update"]) == ("pending", ["testing"], None)
    change = instances.checkin(state, ctx("instance-7", 5))
    state = apply(state, change)
    entry = state[model.REGISTRY]["instances"]["instance-7"]
    assert entry["status"] == "active"
    assert entry["last_update"] == "2024-01-15T12:05:00Z"
    assert entry["available_for_consultation"] is True
    assert entry["current_session_id"].startswith("session_")
    assert state[model.REGISTRY]["last_registry_update"] == "2024-01-15T12:05:00Z"
    assert change.event.message().startswith("coord(instance): instance-7 checks in\n\nCoord-Event: instance.checkin\n")


def test_registration_refusals(state: dict[str, Any]) -> None:
    with pytest.raises(Refused, match="already registered"):
        instances.register(state, ctx("x"), "instance-1", role="r", expertise=[])
    with pytest.raises(Refused, match="'all' is reserved"):
        instances.register(state, ctx("x"), "all", role="r", expertise=[])
    with pytest.raises(Refused, match="'instance-9' is not registered"):
        instances.checkin(state, ctx("instance-9"))
    with pytest.raises(Refused, match="say which instance you are"):
        instances.checkin(state, ctx(None))


def test_a_clock_behind_never_moves_last_update_back(state: dict[str, Any]) -> None:
    state = apply(state, instances.checkin(state, ctx("instance-1")))
    state = apply(state, instances.checkin(state, ctx("instance-1", -600)))
    assert state[model.REGISTRY]["instances"]["instance-1"]["last_update"] == "2024-01-15T12:00:00Z"


def test_checkout_keeps_held_tasks_and_says_so(state: dict[str, Any]) -> None:
    change = instances.checkout(state, ctx("instance-2"))
    state = apply(state, change)
    assert state[model.REGISTRY]["instances"]["instance-2"]["status"] == "offline"
    assert task(state, "task_001")["assigned_to"] == "instance-2"
    assert "you still hold task_001" in change.notes[0]


def test_task_lifecycle_moves_between_the_seed_lists(state: dict[str, Any]) -> None:
    change = tasks.add(
        state,
        ctx("instance-2"),
        "Write docs",
        depends=["task_001"],
        expertise=["documentation"],
        suggest="instance-4",
        deliverables=["/docs/"],
    )
    state = apply(state, change)
    tid = stepped(change)["task_id"]
    assert [t["task_id"] for t in state[model.TASKS]["pending_tasks"]][-1] == tid
    with pytest.raises(Refused, match=f"{tid} is not ready: it waits for task_001 \\(in_progress\\)"):
        tasks.claim(state, ctx("instance-4"), tid)
    with pytest.raises(Refused, match="task_001 is in_progress; start needs it assigned or blocked"):
        tasks.start(state, ctx("instance-2"), "task_001")
    held = tasks.assign(state, ctx("instance-2"), tid, "instance-4")
    done = tasks.complete(apply(state, held), ctx("instance-2", 1), "task_001")
    assert done.notes == (f"now ready: task_002, {tid} (offered to instance-4)",), "one offered too"
    done = tasks.complete(state, ctx("instance-2", 1), "task_001")
    assert done.notes == (f"now ready: task_002, {tid}",)
    state = apply(state, done)
    assert task(state, "task_001") in state[model.TASKS]["completed_tasks"]
    state = apply(state, tasks.assign(state, ctx("instance-2", 2), tid, "instance-4"))
    assert task(state, tid)["status"] == "offered"
    assert task(state, tid) in state[model.TASKS]["pending_tasks"]
    with pytest.raises(Refused, match=r"instance-3 may not accept it .* its holder \(instance-4\) may"):
        tasks.accept(state, ctx("instance-3"), tid)
    with pytest.raises(Refused, match="offered to instance-4; it can be claimed once they decline"):
        tasks.claim(state, ctx("instance-3"), tid)
    state = apply(state, tasks.decline(state, ctx("instance-4", 3), tid, "busy with the model"))
    declined = task(state, tid)
    assert (declined["status"], declined["assigned_to"], declined["declines"][0]["reason"]) == (
        "pending_assignment",
        None,
        "busy with the model",
    )
    state = apply(state, tasks.claim(state, ctx("instance-3", 4), tid))
    assert task(state, tid) in state[model.TASKS]["active_tasks"]
    assert state[model.REGISTRY]["instances"]["instance-3"]["current_task"] == tid
    with pytest.raises(Refused, match="was never started"):
        tasks.complete(state, ctx("instance-3"), tid)
    state = apply(state, tasks.start(state, ctx("instance-3", 5), tid))
    state = apply(state, tasks.block(state, ctx("instance-3", 6), tid, "waiting for review"))
    assert task(state, tid)["status_reason"] == "waiting for review"
    state = apply(state, tasks.start(state, ctx("instance-3", 7), tid))
    state = apply(state, tasks.complete(state, ctx("instance-3", 8), tid))
    assert task(state, tid)["status"] == "completed"
    assert state[model.REGISTRY]["instances"]["instance-3"]["current_task"] is None


def test_starting_needs_dependencies_done(state: dict[str, Any]) -> None:
    state = apply(state, tasks.assign(state, ctx("instance-2"), "task_002", "instance-1"))
    state = apply(state, tasks.accept(state, ctx("instance-1", 1), "task_002"))
    with pytest.raises(Refused, match=r"task_002 cannot start: it waits for task_001 \(in_progress\)"):
        tasks.start(state, ctx("instance-1", 2), "task_002")


def test_dependencies_must_exist(state: dict[str, Any]) -> None:
    with pytest.raises(Refused, match="there is no task 'task_404'"):
        tasks.add(state, ctx("instance-2"), "x", depends=["task_404"])
    with pytest.raises(Refused, match="'ghost' is not registered"):
        tasks.add(state, ctx("instance-2"), "x", suggest="ghost")


def test_release_and_cancel(state: dict[str, Any]) -> None:
    with pytest.raises(
        Refused, match=r"instance-3 may not release/reclaim it .*; its holder \(instance-2\), the human"
    ):
        tasks.release(state, ctx("instance-3"), "task_001", "x")
    released = apply(state, tasks.release(state, ctx("human"), "task_001", "reassigning"))
    assert task(released, "task_001")["status"] == "pending_assignment"
    with pytest.raises(
        Refused,
        match=r"instance-5 may not cancel it \(pending_assignment -> cancelled\) on task_002; the human coordinator \(human\) may",
    ):
        tasks.cancel(state, ctx("instance-5"), "task_002", "x")
    # Its holder does not cancel it: anyone may claim a task that waits, then cancel it as "its holder".
    with pytest.raises(Refused, match=r"instance-2 may not cancel it \(in_progress -> cancelled\) on task_001"):
        tasks.cancel(state, ctx("instance-2"), "task_001", "superseded")
    change = tasks.cancel(state, ctx("human"), "task_001", "superseded")
    cancelled = apply(state, change)
    assert task(cancelled, "task_001")["status"] == "cancelled"
    assert change.notes == ("task_002, task_003 depend on task_001 and can no longer start",)


def test_a_consultation_thread(state: dict[str, Any]) -> None:
    with pytest.raises(Refused, match="may not answer msg_001, which was sent to instance-1"):
        messages.reply(state, ctx("instance-3"), "msg_001", "me too")
    change = messages.reply(state, ctx("instance-1"), "msg_001", "REST now, federation later")
    state = apply(state, change)
    answer = change.record
    assert answer is not None
    assert (answer["to"], answer["in_reply_to"], answer["subject"]) == (
        "instance-2",
        "msg_001",
        "Re: API Design for Agent Coordination",
    )
    assert record(state, "message", "msg_001")["status"] == "responded"
    assert state[model.MESSAGES]["response_queue"] == []
    with pytest.raises(Refused, match="the requester closes a thread"):
        messages.ack(state, ctx("instance-3"), "msg_001")
    state = apply(state, messages.ack(state, ctx("instance-2", 5), "msg_001"))
    assert record(state, "message", "msg_001")["status"] == "closed"
    assert record(state, "message", answer["message_id"])["status"] == "acknowledged"
    with pytest.raises(Refused, match="is closed; start a new thread"):
        messages.reply(state, ctx("instance-1"), "msg_001", "more")
    # Nor through its answer: the thread is over, and its asker would read a "thanks" as an answer.
    with pytest.raises(Refused, match=f"{answer['message_id']} answers msg_001, whose thread is closed"):
        messages.reply(state, ctx("instance-2"), answer["message_id"], "thanks")
    with pytest.raises(Refused, match="already closed"):
        messages.ack(state, ctx("instance-2"), "msg_001")


def test_a_request_is_queued_with_its_due_time(state: dict[str, Any]) -> None:
    change = messages.send(
        state,
        ctx("instance-3"),
        to="instance-1",
        subject="Auth?",
        body="JWT or sessions?",
        requires_response=True,
        task="task_002",
        files=["src/auth.py"],
    )
    state = apply(state, change)
    rid = stepped(change)["message_id"]
    assert {
        "responding_to": rid,
        "from": "instance-1",
        "status": "pending",
        "expected_response_time": "2024-01-15T16:00:00Z",
    } in state[model.MESSAGES]["response_queue"]
    assert (
        state[model.MESSAGES]["response_queue"][0]["expected_response_time"] == "2024-01-15T12:00:00Z"
    )  # the seed's own entry stays
    with pytest.raises(Refused, match="cannot require a response"):
        messages.send(state, ctx("instance-3"), to="all", subject="x", body="y", requires_response=True)
    with pytest.raises(Refused, match="'nobody' is not registered"):
        messages.send(state, ctx("instance-3"), to="nobody", subject="x", body="y", requires_response=False)
    with pytest.raises(Refused, match="there is no task 'task_9'"):
        messages.send(state, ctx("instance-3"), to="all", subject="x", body="y", requires_response=False, task="task_9")


def test_a_decision_with_inputs(state: dict[str, Any]) -> None:
    with pytest.raises(Refused, match="'SOAP' is not an option of dec_002"):
        decisions.give_input(state, ctx("instance-1"), "dec_002", "SOAP")
    change = decisions.give_input(state, ctx("instance-1"), "dec_002", "GraphQL Federation", "scales better")
    assert change.notes == ("still waiting for instance-3",)
    state = apply(state, change)
    with pytest.raises(Refused, match=r"may not decide it .*ask the human to name who decides it"):
        decisions.decide(state, ctx("instance-2"), "dec_002", option="REST API", rationale="simple")
    # The specification's dec_002 names nobody to decide it: the human names instance-2.
    with pytest.raises(Refused, match=r"human may not|may not change its proposed_by"):
        decisions.name_decider(state, ctx("instance-2"), "dec_002", "instance-2")
    state = apply(state, decisions.name_decider(state, ctx("human"), "dec_002", "instance-2"))
    with pytest.raises(Refused, match="still needs input from instance-3"):
        decisions.decide(state, ctx("instance-2"), "dec_002", option="REST API", rationale="simple")
    state = apply(state, decisions.give_input(state, ctx("instance-3", 1), "dec_002", "REST API"))
    state = apply(
        state, decisions.give_input(state, ctx("instance-3", 2), "dec_002", "GraphQL Federation", "changed my mind")
    )
    pending = record(state, "decision", "dec_002")
    assert [(i["from"], i["option"]) for i in pending["inputs"]] == [
        ("instance-1", "GraphQL Federation"),
        ("instance-3", "GraphQL Federation"),
    ]
    state = apply(
        state,
        decisions.decide(
            state, ctx("instance-2", 3), "dec_002", option="GraphQL Federation", rationale="both experts agree"
        ),
    )
    made = record(state, "decision", "dec_002")
    assert made in state[model.DECISIONS]["decisions"]
    assert (made["status"], made["decided_by"], made["affects_instances"]) == (
        "active",
        ["instance-2"],
        ["instance-2", "instance-1", "instance-3"],
    )
    assert len(made["inputs"]) == 2
    with pytest.raises(Refused, match="was decided on"):
        decisions.give_input(state, ctx("instance-1"), "dec_002", "REST API")


def test_proposals(state: dict[str, Any]) -> None:
    options: list[shapes.Option] = [
        {"option": "Postgres", "pros": ["relational"], "cons": []},
        {"option": "Mongo", "pros": [], "cons": ["joins"]},
    ]
    change = decisions.propose(
        state,
        ctx("instance-1"),
        "Database",
        options=options,
        input_from=["instance-5"],
        deadline="2024-01-16T12:00:00Z",
        tasks=["task_002"],
    )
    state = apply(state, change)
    rid = stepped(change)["decision_id"]
    with pytest.raises(Refused, match=r"may not decide it .*its proposer \(instance-1\) may"):
        decisions.decide(state, ctx("instance-2"), rid, option="Postgres", rationale="x", force=True)
    with pytest.raises(Refused, match="at least two options"):
        decisions.propose(state, ctx("instance-1"), "x", options=options[:1])
    with pytest.raises(Refused, match="its own name"):
        decisions.propose(state, ctx("instance-1"), "x", options=[options[0], options[0]])
    made = apply(
        state,
        decisions.decide(
            state, ctx("instance-1", 1), rid, option="Postgres", rationale="joins", force=True, affects=["all"]
        ),
    )
    assert record(made, "decision", rid)["affects_instances"] == ["all"]


def test_escalating_a_decision_records_each_side(state: dict[str, Any]) -> None:
    state = apply(state, decisions.give_input(state, ctx("instance-3"), "dec_002", "REST API", "simpler for the UI"))
    change = decisions.escalate(state, ctx("instance-1", 1), "dec_002", reason="REST will not scale to many agents")
    state = apply(state, change)
    escalated = record(state, "decision", "dec_002")
    assert escalated["status"] == "escalated"
    assert escalated["escalation"]["positions"] == [
        {"instance": "instance-1", "position": "REST will not scale to many agents"},
        {"instance": "instance-3", "position": "REST API: simpler for the UI", "by": "instance-1"},
    ]
    notice = [m for m in state[model.MESSAGES]["messages"] if m["to"] == "human"]
    assert notice
    assert notice[0]["context"]["related_decision"] == "dec_002"
    with pytest.raises(Refused, match=r"may not resolve it .*the human coordinator \(human\) may"):
        decisions.decide(state, ctx("instance-2"), "dec_002", option="REST API", rationale="x")
    state = apply(
        state,
        decisions.decide(
            state, ctx("human", 2), "dec_002", option="REST API, revisited at 10 agents", rationale="start simple"
        ),
    )
    assert record(state, "decision", "dec_002")["decision"] == "REST API, revisited at 10 agents"


def test_escalating_a_task_or_a_thread_creates_a_decision_for_the_human(state: dict[str, Any]) -> None:
    change = decisions.escalate(
        state,
        ctx("instance-3"),
        "task_002",
        reason="the API should wait for the UI design",
        positions=[("instance-1", "the API comes first")],
    )
    state = apply(state, change)
    dec = change.record
    assert dec is not None
    assert (dec["status"], dec["related_tasks"], dec["input_needed_from"]) == ("escalated", ["task_002"], ["human"])
    assert [o["option"] for o in dec["options"]] == ["instance-3", "instance-1"]
    state = apply(state, messages.reply(state, ctx("instance-1", 1), "msg_001", "GraphQL is overkill"))
    thread = decisions.escalate(state, ctx("instance-2", 2), "msg_001", reason="we disagree on the API style")
    state = apply(state, thread)
    positions = {p["instance"]: p["position"] for p in stepped(thread)["escalation"]["positions"]}
    assert positions == {"instance-2": "we disagree on the API style", "instance-1": "GraphQL is overkill"}
    with pytest.raises(Refused, match="not a task, message or decision id"):
        decisions.escalate(state, ctx("instance-2"), "instance-1", reason="x")


def test_a_lost_task_is_cleared_from_the_registry_at_the_next_check_in(state: dict[str, Any]) -> None:
    state[model.REGISTRY]["instances"]["instance-3"]["current_task"] = "task_001"
    change = instances.checkin(state, ctx("instance-3"))
    state = apply(state, change)
    assert state[model.REGISTRY]["instances"]["instance-3"]["current_task"] is None
    assert change.notes == ("your current task task_001 is no longer yours (in_progress, held by instance-2)",)
