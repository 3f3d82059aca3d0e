from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from tests.conftest import SEED

from gitcoord import history
from gitcoord import model


@pytest.fixture
def old() -> dict[str, Any]:
    return {f: json.loads((SEED / f).read_text()) for f in model.FILES}


def edit(state: dict[str, Any], file: str, change: Any) -> dict[str, Any]:
    new = dict(state)
    new[file] = copy.deepcopy(state[file])
    change(new[file])
    return new


def rules(old: dict[str, Any], new: dict[str, Any], actor: str | None) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in history.check(old, new, actor)]


def move_task(doc: dict[str, Any], rid: str, to_list: str, **fields: Any) -> None:
    for name in ("active_tasks", "pending_tasks", "completed_tasks"):
        for t in list(doc[name]):
            if t["task_id"] == rid:
                doc[name].remove(t)
                t.update(fields)
                doc[to_list].append(t)


# (a step, the task it starts from, who takes it, who may not, what changes)
STEPS = [
    ("assign", "task_002", "instance-5", None, {"status": "offered", "assigned_to": "instance-1"}),
    ("claim", "task_002", "instance-1", "instance-3", {"status": "assigned", "assigned_to": "instance-1"}),
    ("complete", "task_001", "instance-2", "instance-1", {"status": "completed"}),
    ("block", "task_001", "instance-2", "instance-1", {"status": "blocked", "status_reason": "waiting"}),
    ("release", "task_001", "instance-2", "instance-1", {"status": "pending_assignment", "assigned_to": None}),
    ("release by the human", "task_001", "human", "instance-1", {"status": "pending_assignment", "assigned_to": None}),
    ("cancel", "task_002", "human", "instance-1", {"status": "cancelled"}),
]


@pytest.mark.parametrize(("step", "rid", "allowed", "denied", "fields"), STEPS, ids=[s[0] for s in STEPS])
def test_each_task_step_is_allowed_to_its_role_only(
    old: dict[str, Any], step: str, rid: str, allowed: str, denied: str | None, fields: dict[str, Any]
) -> None:
    target = model.TASK_LIST[fields["status"]]
    new = edit(old, model.TASKS, lambda d: move_task(d, rid, target, **fields))
    assert rules(old, new, allowed) == []
    if denied:
        [(rule, message)] = rules(old, new, denied)
        assert rule == "authorization"
        assert message.startswith(f"{denied} may not ")
        assert rid in message


def test_offers_are_accepted_or_declined_by_the_offeree(old: dict[str, Any]) -> None:
    offered = edit(
        old,
        model.TASKS,
        lambda d: move_task(d, "task_002", "pending_tasks", status="offered", assigned_to="instance-1"),
    )
    accepted = edit(offered, model.TASKS, lambda d: move_task(d, "task_002", "active_tasks", status="assigned"))
    assert rules(offered, accepted, "instance-1") == []
    assert rules(offered, accepted, "instance-3")[0][0] == "authorization"
    declined = edit(
        offered,
        model.TASKS,
        lambda d: move_task(d, "task_002", "pending_tasks", status="pending_assignment", assigned_to=None),
    )
    assert rules(offered, declined, "instance-1") == []


def test_a_reclaim_needs_a_stale_holder(old: dict[str, Any]) -> None:
    def reclaim(at: str) -> dict[str, Any]:
        return edit(
            old,
            model.TASKS,
            lambda d: move_task(
                d, "task_001", "pending_tasks", status="pending_assignment", assigned_to=None, updated=at
            ),
        )

    # instance-2 last checked in at 2024-01-15T11:15Z; the lease is 24 hours.
    assert rules(old, reclaim("2024-01-16T12:00:00Z"), "instance-5") == []
    assert rules(old, reclaim("2024-01-15T12:00:00Z"), "instance-5")[0][0] == "authorization"


def test_only_declared_transitions(old: dict[str, Any]) -> None:
    new = edit(
        old,
        model.TASKS,
        lambda d: move_task(d, "task_002", "completed_tasks", status="completed", assigned_to="instance-1"),
    )
    [(rule, message)] = rules(old, new, "instance-1")
    assert rule == "transition"
    assert (
        message
        == "task_002: pending_assignment -> completed is not a step of the protocol; from pending_assignment it can go to assigned, cancelled, offered"
    )


def test_sent_text_never_changes(old: dict[str, Any]) -> None:
    new = edit(old, model.MESSAGES, lambda d: d["messages"][0].update(message="I never asked that"))
    assert rules(old, new, "instance-2") == [
        ("immutable", "msg_001.message never changes once written; write a new record instead")
    ]


def test_made_decisions_never_change(old: dict[str, Any]) -> None:
    new = edit(old, model.DECISIONS, lambda d: d["decisions"][0].update(rationale="revised"))
    assert rules(old, new, "human")[0] == (
        "immutable",
        "dec_001 was decided; its rationale stays as it was (supersede it with a new decision)",
    )
    superseded = edit(old, model.DECISIONS, lambda d: d["decisions"][0].update(status="superseded"))
    assert rules(old, superseded, "instance-2") == []
    assert rules(old, superseded, "instance-5")[0][0] == "authorization"


def test_records_are_not_deleted(old: dict[str, Any]) -> None:
    new = edit(old, model.MESSAGES, lambda d: d["messages"].clear())
    assert (
        "deleted",
        "msg_001 was deleted; records are never deleted (`coord archive` moves old closed ones)",
    ) in rules(old, new, "instance-2")


def test_time_does_not_go_backwards(old: dict[str, Any]) -> None:
    new = edit(old, model.REGISTRY, lambda d: d["instances"]["instance-1"].update(last_update="2024-01-14T00:00:00Z"))
    assert rules(old, new, "instance-1") == [
        ("time", "instance-1.last_update went back from 2024-01-15T10:30:00Z to 2024-01-14T00:00:00Z")
    ]


def test_an_instance_changes_only_its_own_entry(old: dict[str, Any]) -> None:
    new = edit(old, model.REGISTRY, lambda d: d["instances"]["instance-1"].update(available_for_consultation=False))
    assert rules(old, new, "instance-1") == []
    assert rules(old, new, "instance-2") == [
        ("authorization", "instance-2 may not change its available_for_consultation on instance-1")
    ]
    assert rules(old, new, "human") == []


def test_messages_are_sent_only_as_oneself(old: dict[str, Any]) -> None:
    forged = {
        **old[model.MESSAGES]["messages"][0],
        "message_id": "msg_002",
        "status": "sent",
        "requires_response": False,
        "type": "notification",
    }
    new = edit(old, model.MESSAGES, lambda d: d["messages"].append(forged))
    assert rules(old, new, "instance-2") == []
    assert rules(old, new, "instance-4") == [("authorization", "instance-4 may not create it as instance-2 on msg_002")]


def test_only_the_recipient_answers(old: dict[str, Any]) -> None:
    answer = {
        "message_id": "msg_002",
        "from": "instance-3",
        "to": "instance-2",
        "type": "consultation_response",
        "timestamp": "2024-01-15T12:00:00Z",
        "subject": "Re",
        "message": "me",
        "requires_response": False,
        "status": "sent",
        "in_reply_to": "msg_001",
    }
    new = edit(old, model.MESSAGES, lambda d: d["messages"].append(answer))
    assert rules(old, new, "instance-3") == [
        ("authorization", "instance-3 may not answer msg_001, which was sent to instance-1 on msg_002")
    ]


def test_inputs_are_ones_own(old: dict[str, Any]) -> None:
    given = {"from": "instance-3", "option": "REST API", "at": "2024-01-15T12:00:00Z"}
    new = edit(old, model.DECISIONS, lambda d: d["pending_decisions"][0].setdefault("inputs", []).append(given))
    assert rules(old, new, "instance-3") == []
    assert rules(old, new, "instance-1") == [
        ("authorization", "instance-1 may not change the input of instance-3 on dec_002")
    ]


def test_settings_belong_to_the_human(old: dict[str, Any]) -> None:
    new = edit(old, model.REGISTRY, lambda d: d.update(settings={"response_hours": 48}))
    assert rules(old, new, "human") == []
    assert rules(old, new, "instance-1") == [
        ("authorization", "instance-1 changed the settings; only the human coordinator (human) may")
    ]


def test_a_change_needs_an_instance(old: dict[str, Any]) -> None:
    new = edit(old, model.REGISTRY, lambda d: d["instances"]["instance-1"].update(status="offline"))
    [(rule, message)] = rules(old, new, None)
    assert rule == "authorization"
    assert "names no instance" in message


def test_a_new_record_starts_where_the_protocol_starts_it(old: dict[str, Any]) -> None:
    born_done = {
        **old[model.TASKS]["pending_tasks"][0],
        "task_id": "task_009",
        "status": "completed",
        "assigned_to": "instance-1",
    }
    new = edit(old, model.TASKS, lambda d: d["completed_tasks"].append(born_done))
    assert rules(old, new, "instance-1") == [
        ("transition", "task_009 is created completed; a new task starts offered or pending_assignment")
    ]


def test_a_new_store_has_no_history_to_break() -> None:
    assert history.check(None, {}, None) == []
