"""The board's data: one pure function of a state and a moment."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import ChainMap
from collections.abc import Callable
from typing import Any

import pytest
from tests.conftest import SEED

from gitcoord import health
from gitcoord import ids
from gitcoord import model
from gitcoord import timestamps
from gitcoord.board import data
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import decisions
from gitcoord.protocol import instances
from gitcoord.protocol import messages
from gitcoord.protocol import tasks

NOON = timestamps.parse("2024-01-15T12:00:00Z")
TWO_PM = timestamps.parse("2024-01-15T14:00:00Z")

State = dict[str, Any]


@pytest.fixture
def seed() -> State:
    return {f: json.loads((SEED / f).read_text()) for f in model.FILES}


def play(state: State, actor: str, when: dt.datetime, step: Callable[..., Change], *args: Any, **kwargs: Any) -> State:
    change = step(state, Context(actor, when, ids.maker(when)), *args, **kwargs)
    return dict(ChainMap(change.docs, state))


def test_the_seed_at_two_in_the_afternoon(seed: State) -> None:
    page = data.page_data(seed, TWO_PM, commit="c0ffee", branch="main")
    assert (page["generated_at"], page["commit"], page["branch"], page["human"]) == (
        "2024-01-15T14:00:00Z",
        "c0ffee",
        "main",
        "human",
    )
    assert page["settings"] == {
        "human_coordinator": "human",
        "checkin_hours": 24,
        "response_hours": 4,
        "lease_hours": 24,
        "require_signatures": False,
        "human_key": None,
        "archive_after_days": 2,
        "store_branch": None,
    }
    columns = {c["key"]: c for c in page["columns"]}
    assert [t["task_id"] for t in columns["queue"]["tasks"]] == ["task_002", "task_003"]
    assert [t["task_id"] for t in columns["held"]["tasks"]] == ["task_001"]
    assert columns["closed"] == {**columns["closed"], "total": 0, "tasks": []}
    task_003 = columns["queue"]["tasks"][1]
    assert task_003["waiting_on"] == ["task_001", "task_002"]
    assert (task_003["ready"], task_003["actions"]) == (False, ["cancel"])
    assert columns["held"]["tasks"][0]["actions"] == ["release", "cancel"]


def test_findings_are_the_health_checks_own(seed: State) -> None:
    page = data.page_data(seed, TWO_PM)
    assert page["findings"] == {"total": 2, "items": [f._asdict() for f in health.concerns(seed, TWO_PM)]}
    assert page["health"] == {"healthy": False, "errors": 1, "warnings": 1}


def test_a_consultation_waits_against_its_allowance(seed: State) -> None:
    consult = data.page_data(seed, NOON)["consultations"]["items"][0]
    # The seed's queue expects the answer at 12:00, 40 minutes after the question.
    assert consult["message_id"] == "msg_001"
    assert (consult["waited_hours"], consult["allowed_hours"], consult["late"]) == (0.67, 0.67, False)
    assert consult["related_task"] == "task_002"
    del seed[model.MESSAGES]["response_queue"][0]["expected_response_time"]
    seed[model.REGISTRY]["settings"] = {"response_hours": 2}
    consult = data.page_data(seed, TWO_PM)["consultations"]["items"][0]
    assert (consult["allowed_hours"], consult["due_at"], consult["late"]) == (2.0, "2024-01-15T13:20:00Z", True)


def test_long_bodies_are_cut_and_answered_questions_leave(seed: State) -> None:
    state = play(
        seed,
        "instance-3",
        NOON,
        messages.send,
        to="instance-1",
        subject="Long",
        body="x" * 5000,
        requires_response=True,
    )
    shown = data.page_data(state, NOON)["consultations"]
    assert shown["total"] == 2
    assert max(len(c["body"]) for c in shown["items"]) == data.BODY_LIMIT
    state = play(state, "instance-1", NOON, messages.reply, "msg_001", "REST, with OpenAPI")
    assert [c["subject"] for c in data.page_data(state, NOON)["consultations"]["items"]] == ["Long"]


def test_pending_decisions_show_inputs_received_and_missing(seed: State) -> None:
    state = play(seed, "instance-1", NOON, decisions.give_input, "dec_002", "REST API", "simple to run")
    (decision,) = data.page_data(state, NOON)["decisions"]["items"]
    assert decision["inputs_received"] == [
        {"from": "instance-1", "option": "REST API", "comment": "simple to run", "at": "2024-01-15T12:00:00Z"}
    ]
    assert decision["inputs_missing"] == ["instance-3"]
    assert [o["option"] for o in decision["options"]] == ["REST API", "GraphQL Federation"]
    assert decision["overdue"] is False
    assert data.page_data(state, TWO_PM + dt.timedelta(hours=3))["decisions"]["items"][0]["overdue"] is True


def test_an_escalation_waits_for_the_human(seed: State) -> None:
    state = play(
        seed, "instance-3", NOON, decisions.escalate, "dec_002", reason="we disagree", positions=[("instance-1", "GQL")]
    )
    page = data.page_data(state, TWO_PM)
    assert page["decisions"]["total"] == 0
    (escalation,) = page["escalations"]["items"]
    assert escalation["decision_id"] == "dec_002"
    assert (escalation["raised_by"], escalation["escalated_to"], escalation["waited_hours"]) == (
        "instance-3",
        "human",
        2,
    )
    assert escalation["positions"] == [
        {"instance": "instance-3", "position": "we disagree"},
        {"instance": "instance-1", "position": "GQL", "by": "instance-3"},
    ]


def test_who_holds_what_and_since_when(seed: State) -> None:
    state = play(seed, "instance-2", NOON, tasks.complete, "task_001")
    state = play(state, "instance-1", NOON, tasks.claim, "task_002")
    state = play(state, "instance-2", NOON, tasks.assign, "task_003", "instance-3")
    page = data.page_data(state, TWO_PM)
    assert page["holdings"]["total"] == 2
    assert page["holdings"]["items"] == [
        {
            "instance": "instance-1",
            "tasks": [
                {
                    "task_id": "task_002",
                    "title": "Implement Backend API for Agent Coordination",
                    "status": "assigned",
                    "since": "2024-01-15T12:00:00Z",
                    "hours": 2,
                }
            ],
        },
        {
            "instance": "instance-3",
            "tasks": [{**page["holdings"]["items"][1]["tasks"][0], "status": "offered", "hours": 2}],
        },
    ]
    held = {c["key"]: c for c in page["columns"]}["held"]["tasks"][0]
    assert (held["assigned_at"], held["held_hours"]) == ("2024-01-15T12:00:00Z", 2)
    closed = {c["key"]: c for c in page["columns"]}["closed"]["tasks"]
    assert [(t["task_id"], t["actions"]) for t in closed] == [("task_001", [])]


def test_instances_past_the_check_in_window_are_marked(seed: State) -> None:
    seed[model.REGISTRY]["settings"] = {"checkin_hours": 3}
    rows = {i["instance"]: i for i in data.page_data(seed, TWO_PM)["instances"]}
    assert rows["instance-1"]["stale"] is True  # last seen 10:30, 3.5 h ago
    assert rows["instance-2"]["stale"] is False  # 11:15
    assert rows["instance-2"]["holds"] == ["task_001"]
    assert (rows["instance-3"]["stale"], rows["instance-3"]["hours_since"]) == (False, None)  # pending, never seen


def test_the_open_graph_leaves_out_finished_work_but_not_a_cancelled_dependency(seed: State) -> None:
    state = play(seed, "instance-2", NOON, tasks.complete, "task_001")
    state = play(state, "human", NOON, tasks.cancel, "task_002", "not needed")
    state = play(state, "instance-2", NOON, tasks.add, "Loose end")
    graph = data.page_data(state, NOON)["graph"]
    assert [(n["id"], n["status"]) for n in graph["open"]["nodes"]] == [
        ("task_003", "pending_assignment"),
        ("task_002", "cancelled"),
    ]
    assert [(e["from"], e["to"]) for e in graph["open"]["edges"]] == [("task_002", "task_003")]
    assert graph["open"]["unlinked"] == 1  # the loose end, which is on the board
    assert {n["id"] for n in graph["all"]["nodes"]} == {"task_001", "task_002", "task_003"}


def test_hundreds_of_tasks_stay_drawable(seed: State) -> None:
    state = seed
    doc = dict(state[model.TASKS])
    template = doc["pending_tasks"][0]
    chain = [
        {**template, "task_id": f"task_x{n:04d}", "dependencies": [f"task_x{n - 1:04d}"] if n else []}
        for n in range(500)
    ]
    doc["pending_tasks"] = [*doc["pending_tasks"], *chain]
    state = {**state, model.TASKS: doc}
    page = data.page_data(state, NOON)
    graph = page["graph"]["open"]
    assert len(graph["nodes"]) == data.GRAPH_LIMIT
    assert graph["over_limit"] == 503 - data.GRAPH_LIMIT
    ids_drawn = {n["id"] for n in graph["nodes"]}
    assert all(e["from"] in ids_drawn and e["to"] in ids_drawn for e in graph["edges"])
    queue = {c["key"]: c for c in page["columns"]}["queue"]
    assert (queue["total"], len(queue["tasks"])) == (502, data.LIST_LIMIT)
    json.dumps(page)  # all of it is plain JSON


def test_closed_tasks_are_the_most_recent_few(seed: State) -> None:
    doc = dict(seed[model.TASKS])
    template = {**doc["pending_tasks"][0], "status": "completed", "dependencies": []}
    doc["completed_tasks"] = [
        {**template, "task_id": f"task_c{n:03d}", "updated": f"2024-01-{1 + n % 28:02d}T00:00:00Z"} for n in range(60)
    ]
    page = data.page_data({**seed, model.TASKS: doc}, NOON)
    closed = {c["key"]: c for c in page["columns"]}["closed"]
    assert (closed["total"], len(closed["tasks"])) == (60, data.CLOSED_SHOWN)
    assert closed["tasks"][0]["updated"] == "2024-01-28T00:00:00Z"


def test_registering_keeps_the_instance_list_in_registry_order(seed: State) -> None:
    state = play(seed, "instance-1", NOON, instances.register, "instance-7", role="qa", expertise=["testing"])
    assert [i["instance"] for i in data.page_data(state, NOON)["instances"]][-1] == "instance-7"


def test_the_data_module_is_pure() -> None:
    code = "import sys, gitcoord.board.data; print(sorted(m for m in sys.modules if m in BANNED))"
    banned = ["gitcoord.git", "gitcoord.store", "gitcoord.clock", "gitcoord.workspace", "subprocess", "http.server"]
    done = subprocess.run(
        [sys.executable, "-c", f"BANNED = {banned!r}\n{code}"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_the_cut_keeps_each_urgent_task_with_what_it_waits_for(seed: State) -> None:
    doc = dict(seed[model.TASKS])
    template = {**doc["pending_tasks"][0], "due": None}
    pairs = [
        task
        for n in range(400)
        for task in (
            {**template, "task_id": f"task_u{n:03d}", "priority": "high", "dependencies": [f"task_d{n:03d}"]},
            {**template, "task_id": f"task_d{n:03d}", "priority": "low", "dependencies": []},
        )
    ]
    doc["pending_tasks"] = pairs
    doc["active_tasks"] = []
    graph = data.page_data({**seed, model.TASKS: doc}, NOON)["graph"]["open"]
    # The 300 most urgent alone would be 300 dependents without a single dependency to draw.
    assert (len(graph["nodes"]), len(graph["edges"])) == (300, 150)
    assert {e["from"] for e in graph["edges"]} == {f"task_d{n:03d}" for n in range(150)}
    assert graph["over_limit"] == 500
