from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from tests.conftest import SEED

from gitcoord import history
from gitcoord import model
from gitcoord import timestamps


@pytest.fixture
def old() -> dict[str, Any]:
    return {f: json.loads((SEED / f).read_text()) for f in model.FILES}


def edit(state: dict[str, Any], file: str, change: Any) -> dict[str, Any]:
    new = dict(state)
    new[file] = copy.deepcopy(state[file])
    change(new[file])
    return new


# The moment of the change: just after the seed's last events.
WHEN = dt.datetime(2024, 1, 15, 12, 0, tzinfo=dt.timezone.utc)


def rules(
    old: dict[str, Any], new: dict[str, Any], actor: str | None, when: dt.datetime = WHEN
) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in history.check(old, new, actor, when=when)]


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
    ("complete", "task_001", "instance-2", "instance-1", {"status": "completed", "updated": "2024-01-15T12:00:00Z"}),
    ("block", "task_001", "instance-2", "instance-1", {"status": "blocked", "status_reason": "waiting"}),
    ("release", "task_001", "instance-2", "instance-1", {"status": "pending_assignment", "assigned_to": None}),
    ("release by the human", "task_001", "human", "instance-1", {"status": "pending_assignment", "assigned_to": None}),
    ("cancel", "task_002", "human", "instance-1", {"status": "cancelled", "updated": "2024-01-15T12:00:00Z"}),
]


@pytest.mark.parametrize(("step", "rid", "allowed", "denied", "fields"), STEPS, ids=[s[0] for s in STEPS])
def test_each_task_step_is_allowed_to_its_role_only(
    old: dict[str, Any], step: str, rid: str, allowed: str, denied: str | None, fields: dict[str, Any]
) -> None:
    target = model.TASK_LIST[fields["status"]]
    old = edit(old, model.TASKS, lambda d: move_task(d, "task_002", "pending_tasks", dependencies=[]))  # ready
    new = edit(old, model.TASKS, lambda d: move_task(d, rid, target, **fields))
    assert rules(old, new, allowed) == []
    if denied:
        [(rule, message)] = rules(old, new, denied)
        assert rule == "authorization"
        assert message.startswith(f"{denied} may not ")
        assert rid in message


def test_a_close_writes_its_own_moment_which_the_archive_wait_counts_from(old: dict[str, Any]) -> None:
    """A close that kept an old `updated` would make the task look closed long ago, and free to
    leave the live files at once: the move into a closed status writes the time anew."""
    since = WHEN - dt.timedelta(minutes=1)
    started = edit(old, model.TASKS, lambda d: move_task(d, "task_001", "active_tasks", updated="2023-01-01T00:00:00Z"))
    kept = edit(started, model.TASKS, lambda d: move_task(d, "task_001", "completed_tasks", status="completed"))
    [(rule, message)] = [
        (f.rule, f.message) for f in history.check(started, kept, "instance-2", when=WHEN, since=since)
    ]
    assert rule == "time"
    assert "task_001 moves to completed with updated = 2023-01-01T00:00:00Z, before the state it changes" in message
    fresh = edit(
        kept, model.TASKS, lambda d: move_task(d, "task_001", "completed_tasks", updated="2024-01-15T12:00:00Z")
    )
    assert history.check(started, fresh, "instance-2", when=WHEN, since=since) == []
    # within the skew of the state it changes, the time it had is the moment it closed
    recent = edit(
        started, model.TASKS, lambda d: move_task(d, "task_001", "active_tasks", updated="2024-01-15T11:55:00Z")
    )
    closed = edit(recent, model.TASKS, lambda d: move_task(d, "task_001", "completed_tasks", status="completed"))
    assert history.check(recent, closed, "instance-2", when=WHEN, since=since) == []


def test_a_time_once_written_is_not_taken_away(old: dict[str, Any]) -> None:
    """Without its `updated`, a completed task's wait would count from when it was created."""
    done = edit(
        old,
        model.TASKS,
        lambda d: move_task(d, "task_001", "completed_tasks", status="completed", updated="2024-01-15T12:00:00Z"),
    )
    bare = copy.deepcopy(done)
    del next(t for t in bare[model.TASKS]["completed_tasks"] if t["task_id"] == "task_001")["updated"]
    found = [(f.rule, f.message) for f in history.check(done, bare, "instance-2", when=WHEN)]
    assert ("time", "task_001.updated = 2024-01-15T12:00:00Z was taken away; it stays") in found


def test_a_close_with_no_time_is_refused(old: dict[str, Any]) -> None:
    log = old[model.MESSAGES]
    asked = next(m for m in log["messages"] if m["status"] == "pending_response")
    closed = edit(old, model.MESSAGES, lambda d: _set(d, asked["message_id"], status="closed"))
    found = [(f.rule, f.message) for f in history.check(old, closed, asked["from"], when=WHEN)]
    assert ("time", f"{asked['message_id']}: a move to closed writes closed_at, the moment it closed") in found


def _set(doc: dict[str, Any], rid: str, **fields: Any) -> None:
    for m in doc["messages"]:
        if m["message_id"] == rid:
            m.update(fields)


def test_a_task_is_taken_only_once_what_it_waits_for_is_done(old: dict[str, Any]) -> None:
    """A claim, or an offer to oneself (a claim accepted later), of a task that waits is refused;
    an offer to another is not (they start it once it is ready); the same once the wait is over."""
    waits = "task_002 is not ready: it waits for task_001 (in_progress)"
    claimed = edit(
        old,
        model.TASKS,
        lambda d: move_task(d, "task_002", "active_tasks", status="assigned", assigned_to="instance-1"),
    )
    assert rules(old, claimed, "instance-1") == [("dependency", waits)]
    offered = edit(
        old,
        model.TASKS,
        lambda d: move_task(d, "task_002", "pending_tasks", status="offered", assigned_to="instance-1"),
    )
    assert rules(old, offered, "instance-1") == [("dependency", waits)]
    assert rules(old, offered, "instance-5") == []
    done = edit(old, model.TASKS, lambda d: move_task(d, "task_001", "completed_tasks", status="completed"))
    both = edit(claimed, model.TASKS, lambda d: move_task(d, "task_001", "completed_tasks", status="completed"))
    assert rules(done, both, "instance-1") == []


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


def test_a_reclaim_needs_a_stale_holder_judged_by_the_moment_of_the_change(old: dict[str, Any]) -> None:
    def reclaim(at: str) -> dict[str, Any]:
        return edit(
            old,
            model.TASKS,
            lambda d: move_task(
                d, "task_001", "pending_tasks", status="pending_assignment", assigned_to=None, updated=at
            ),
        )

    # instance-2 last checked in at 2024-01-15T11:15Z; the lease is 24 hours.
    late = dt.datetime(2024, 1, 16, 12, 0, tzinfo=dt.timezone.utc)
    assert rules(old, reclaim("2024-01-16T12:00:00Z"), "instance-5", when=late) == []
    [(rule, _)] = rules(old, reclaim("2024-01-15T12:00:00Z"), "instance-5")
    assert rule == "authorization"
    # Writing a late `updated` does not make the holder stale: the change is dated when it was made.
    assert rules(old, reclaim("2024-01-16T12:00:00Z"), "instance-5")[0][0] == "authorization"
    # A holder that never checked in is not stale while the task it took is younger than the lease.
    never = edit(old, model.REGISTRY, lambda d: d["instances"]["instance-2"].update(last_update=None))
    taken = edit(
        never, model.TASKS, lambda d: move_task(d, "task_001", "active_tasks", assigned_at="2024-01-16T11:00:00Z")
    )
    gone = {**reclaim("2024-01-16T12:00:00Z"), model.REGISTRY: never[model.REGISTRY]}
    assert rules(taken, gone, "instance-5", when=late)[0][0] == "authorization"


def test_the_human_coordinator_holding_a_task_is_never_stale(old: dict[str, Any]) -> None:
    """The human needs no registry entry and never checks in: only the human takes back its tasks."""
    held = edit(old, model.TASKS, lambda d: move_task(d, "task_001", "active_tasks", assigned_to="human"))
    back = edit(
        held,
        model.TASKS,
        lambda d: move_task(d, "task_001", "pending_tasks", status="pending_assignment", assigned_to=None),
    )
    years = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    [(rule, message)] = rules(held, back, "instance-5", when=years)
    assert (rule, message.split(" (")[0]) == ("authorization", "instance-5 may not release/reclaim it")
    assert rules(held, back, "human", when=years) == []


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
        "dec_001.rationale cannot change while it is active; only decide or resolve change it",
    )
    superseded = edit(old, model.DECISIONS, lambda d: d["decisions"][0].update(status="superseded"))
    assert rules(old, superseded, "instance-2") == []
    assert rules(old, superseded, "instance-5")[0][0] == "authorization"


def test_records_are_not_deleted(old: dict[str, Any]) -> None:
    new = edit(old, model.MESSAGES, lambda d: d["messages"].clear())
    assert (
        "deleted",
        "msg_001 was deleted; records are never deleted (closed ones move to the archive)",
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
        (
            "authorization",
            "instance-2 may not change its available_for_consultation on instance-1; "
            "the instance itself (instance-1) may",
        )
    ]
    assert rules(old, new, "human")[0][0] == "authorization", "presence is the instance's own to report"


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
    assert rules(old, new, "instance-4") == [
        ("authorization", "instance-4 may not create it on msg_002; its sender (instance-2) may")
    ]


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


def test_an_id_that_says_it_was_made_later_than_its_change_is_refused(old: dict[str, Any]) -> None:
    """The archive is searched for an id from the day it says it was made: a later day would hide it there."""
    from gitcoord import ids

    pending = old[model.TASKS]["pending_tasks"][0]
    now_made = ids.maker(WHEN)("task", set())
    later = "task_zzzzzzab12"
    said = ids.created(later)
    assert said is not None
    assert said > WHEN
    for rid, expected in ((now_made, []), (later, ["time"])):
        new = edit(old, model.TASKS, lambda d, rid=rid: d["pending_tasks"].append({**pending, "task_id": rid}))
        assert [rule for rule, _ in rules(old, new, "instance-1")] == expected


def test_a_time_written_ahead_of_the_checkers_clock_is_refused_though_the_commit_is_dated_ahead(
    old: dict[str, Any],
) -> None:
    """The gate lets a commit be dated a little ahead of its clock; the times it writes may not add
    their own skew on top, or the floor they raise would refuse everyone's commits until then."""
    from gitcoord import rulebook

    dated, ahead = WHEN + rulebook.SKEW * 0.9, timestamps.format(WHEN + rulebook.SKEW * 1.8)
    new = edit(old, model.REGISTRY, lambda d: d["instances"]["instance-1"].update(last_update=ahead))
    assert rules(old, new, "instance-1", when=dated) == [], "the commit's own date allows it"
    found = [(f.rule, f.path) for f in history.check(old, new, "instance-1", when=dated, now=WHEN)]
    assert found == [("time", ("instances", "instance-1", "last_update"))]


def test_a_new_store_has_no_history_to_break(old: dict[str, Any]) -> None:
    assert history.check({}, old, None, when=WHEN) == []


# What a careful attacker tries, each refused by the rulebook -----------------------------


def test_the_human_coordinator_is_who_the_old_state_says(old: dict[str, Any]) -> None:
    """Making oneself the human coordinator and using that power in the same change does not work."""

    def promote_and_cancel(d: dict[str, Any]) -> None:
        d[model.REGISTRY]["settings"] = {"human_coordinator": "instance-4"}
        move_task(d[model.TASKS], "task_001", "completed_tasks", status="cancelled", status_reason="mine now")

    new = copy.deepcopy(old)
    promote_and_cancel(new)
    found = rules(old, new, "instance-4")
    assert ("authorization", "instance-4 changed the settings; only the human coordinator (human) may") in found
    assert any(rule == "authorization" and "cancel it" in message for rule, message in found)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("assigned_to", "instance-4"),
        ("status_reason", "taken over"),
        ("updated", "2024-01-15T11:59:00Z"),
        ("assigned_at", "2024-01-15T11:59:00Z"),
    ],
)
def test_every_field_needs_authority_with_the_status_unchanged(old: dict[str, Any], field: str, value: Any) -> None:
    new = edit(old, model.TASKS, lambda d: d["active_tasks"][0].update({field: value}))
    found = rules(old, new, "instance-4")
    assert found, f"{field} changed by an instance with no role on task_001"
    assert all(rule in ("authorization", "immutable") for rule, _ in found)
    assert rules(old, new, "instance-2") == [] or field in ("assigned_to", "assigned_at")


def test_decided_by_names_the_decider(old: dict[str, Any]) -> None:
    def decide(d: dict[str, Any], by: list[str]) -> None:
        pending = d["pending_decisions"].pop(0)
        pending.update(status="active", decision="REST API", rationale="r", decided_by=by, date="2024-01-15T11:50:00Z")
        d["decisions"].append(pending)

    # dec_002 names no proposer: only the human decides it, or whom the human names.
    assert rules(old, edit(old, model.DECISIONS, lambda d: decide(d, ["human"])), "human") == []
    by_other = rules(old, edit(old, model.DECISIONS, lambda d: decide(d, ["instance-1"])), "human")
    assert by_other == [
        (
            "authorization",
            "human may not write decided_by = ['instance-1']; it must name the acting instance on dec_002",
        )
    ]
    assert rules(old, edit(old, model.DECISIONS, lambda d: decide(d, ["instance-5"])), "instance-5")[0][0] == (
        "authorization"
    )
    named = edit(old, model.DECISIONS, lambda d: d["pending_decisions"][0].update(proposed_by="instance-2"))
    assert rules(old, named, "human") == []
    assert rules(old, named, "instance-2")[0][0] == "authorization", "only the human names who decides"
    assert rules(named, edit(named, model.DECISIONS, lambda d: decide(d, ["instance-2"])), "instance-2") == []


def test_escalation_positions_are_each_ones_own(old: dict[str, Any]) -> None:
    escalation = {
        "subject": "dec_002",
        "raised_by": "instance-1",
        "raised_at": "2024-01-15T11:30:00Z",
        "reason": "we disagree",
        "escalated_to": "human",
        "positions": [
            {"instance": "instance-1", "position": "REST"},
            {"instance": "instance-3", "position": "GQL", "by": "instance-1"},
        ],
    }
    raised = edit(
        old, model.DECISIONS, lambda d: d["pending_decisions"][0].update(status="escalated", escalation=escalation)
    )
    assert rules(old, raised, "instance-1") == []
    # Another's position, written by the raiser, says so: else it reads as that instance's own words.
    unmarked = {**escalation, "positions": [escalation["positions"][0], {"instance": "instance-3", "position": "GQL"}]}
    passed_off = edit(
        old, model.DECISIONS, lambda d: d["pending_decisions"][0].update(status="escalated", escalation=unmarked)
    )
    assert rules(old, passed_off, "instance-1") == [
        (
            "authorization",
            "dec_002: the position of instance-3 is written by instance-1, who raises the escalation, "
            "and must say so (by: instance-1)",
        )
    ]
    forged = edit(
        raised,
        model.DECISIONS,
        lambda d: d["pending_decisions"][0]["escalation"]["positions"][1].update(position="I changed my mind"),
    )
    # Its own words now: they may not say the raiser wrote them down (the human would read them so).
    assert rules(raised, forged, "instance-3") == [
        (
            "authorization",
            "dec_002: instance-3 writes the position of instance-3 as written down by instance-1; a position "
            "written since the escalation was raised is its writer's own: leave out `by`",
        )
    ]
    restated = edit(
        raised,
        model.DECISIONS,
        lambda d: d["pending_decisions"][0]["escalation"]["positions"].__setitem__(
            1, {"instance": "instance-3", "position": "I changed my mind"}
        ),
    )
    assert rules(raised, restated, "instance-3") == []
    assert rules(raised, forged, "instance-1") == [
        ("authorization", "instance-1 may not change the position of instance-3 on dec_002")
    ]
    to_someone = edit(
        old,
        model.DECISIONS,
        lambda d: d["pending_decisions"][0].update(
            status="escalated", escalation={**escalation, "escalated_to": "instance-1"}
        ),
    )
    assert ("authorization", "dec_002 is escalated to 'instance-1', who is not the human coordinator (human)") in rules(
        old, to_someone, "instance-1"
    )


def test_times_an_actor_writes_do_not_lie_in_the_future(old: dict[str, Any]) -> None:
    new = edit(old, model.REGISTRY, lambda d: d["instances"]["instance-1"].update(last_update="2030-01-01T00:00:00Z"))
    assert rules(old, new, "instance-1") == [
        ("time", "instance-1.last_update = 2030-01-01T00:00:00Z lies after the change itself (2024-01-15T12:00:00Z)")
    ]


def test_a_merge_conflict_is_not_written_by_hand(old: dict[str, Any]) -> None:
    conflict = {"record": "task_001", "field": "title", "values": ["a", "b"], "reason": "made up"}
    new = edit(old, model.TASKS, lambda d: d.update(merge_conflicts=[conflict]))
    assert rules(old, new, "instance-2") == [
        ("authorization", "a merge conflict is written only by the merge driver, in a merge")
    ]


def test_deleting_the_whole_store_deletes_every_record(old: dict[str, Any]) -> None:
    found = rules(old, {}, "human")
    assert {rule for rule, _ in found} == {"deleted"}
    assert len(found) == 6 + 3 + 1 + 2


def test_archiving_moves_only_closed_records_long_enough_closed(old: dict[str, Any]) -> None:
    shard = "archive/2024/01/15/decisions.json"
    decided = old[model.DECISIONS]["decisions"][0]  # dec_001, decided 2024-01-15T11:15Z

    def archive(d: dict[str, Any]) -> None:
        d[model.DECISIONS] = {**d[model.DECISIONS], "decisions": []}
        d[shard] = {"decisions": [decided], "pending_decisions": []}

    new = copy.deepcopy(old)
    archive(new)
    later = dt.datetime(2024, 1, 18, 12, 0, tzinfo=dt.timezone.utc)
    assert rules(old, new, "instance-5", when=later) == []
    [(rule, message)] = rules(old, new, "instance-5")
    assert rule == "archive"
    assert "it may move to the archive 2 days after" in message
    new[shard]["decisions"] = [{**decided, "rationale": "rewritten on the way"}]
    assert rules(old, new, "instance-5", when=later)[0][0] == "immutable"
    pending = copy.deepcopy(old)
    moved = pending[model.TASKS]["pending_tasks"].pop(0)
    pending["archive/2024/01/15/task-queue.json"] = {
        "active_tasks": [],
        "pending_tasks": [moved],
        "completed_tasks": [],
    }
    assert ("archive", "task_002 is pending_assignment: only closed records move to the archive") in rules(
        old, pending, "instance-5", when=later
    )


def test_a_task_a_live_task_waits_for_stays_live(old: dict[str, Any]) -> None:
    """Whether a task can start is answered from the live files: what it waits for stays there."""
    later = dt.datetime(2024, 2, 1, tzinfo=dt.timezone.utc)
    done = copy.deepcopy(old)
    task = done[model.TASKS]["active_tasks"].pop(0)  # task_001, which task_002 and task_003 wait for
    done[model.TASKS]["completed_tasks"].append({**task, "status": "completed", "updated": "2024-01-15T12:00:00Z"})
    gone = copy.deepcopy(done)
    archived = gone[model.TASKS]["completed_tasks"].pop()
    gone["archive/2024/01/15/task-queue.json"] = {
        "active_tasks": [],
        "pending_tasks": [],
        "completed_tasks": [archived],
    }
    assert (
        "archive",
        "task_001 is what task_002 waits for: a task stays live while a live task depends on it",
    ) in rules(done, gone, "instance-5", when=later)
    for waiting in gone[model.TASKS]["pending_tasks"]:
        waiting["dependencies"] = []
    assert rules(done, gone, "human", when=later) == []
