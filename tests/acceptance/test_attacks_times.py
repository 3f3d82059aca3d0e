"""Attacks with time: stamps written to win (a claim dated first, a question closed long ago), commits
dated ahead of the server or long before their parent, and a live holder's task taken back.

A time an actor writes may lie neither after its own commit's date (beyond a little skew) nor
before its parent's; a commit may not be dated ahead of the server's clock; staleness (a reclaim)
is judged from commit dates and the checker's clock, never from a time the actor wrote.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from testing.forgery import NOW
from testing.forgery import Change
from testing.forgery import Forger
from testing.forgery import accepted
from testing.forgery import append
from testing.forgery import claim
from testing.forgery import current
from testing.forgery import found
from testing.forgery import move
from testing.forgery import new_message
from testing.forgery import new_task
from testing.forgery import record
from testing.forgery import refused
from testing.forgery import stamp
from testing.repos import git
from testing.signed import HUMAN
from testing.signed import Team

from gitcoord import model

TQ, ML, DC = model.TASKS, model.MESSAGES, model.DECISIONS
ME, VICTIM, HOLDER = "instance-3", "instance-1", "instance-2"
now, tomorrow = stamp(NOW), stamp(NOW + dt.timedelta(days=1))


# Times an actor writes ------------------------------------------------------------------------------------

# (id, file, change, rule): stamps an actor writes may lie neither after its commit nor before its parent.
TIMES = [
    ("created-tomorrow", TQ, lambda d: d["pending_tasks"].append(new_task("task_t", ME, created=tomorrow)), "time"),
    ("message-from-tomorrow", ML, lambda d: d["messages"].append(new_message("msg_t", ME, timestamp=tomorrow)), "time"),
    (
        "input-from-tomorrow",
        DC,
        append("dec_002", "inputs", {"from": ME, "option": "REST API", "comment": "c", "at": tomorrow}),
        "time",
    ),
    (
        "task-created-in-2000",
        TQ,
        lambda d: d["pending_tasks"].append(new_task("task_t", ME, created="2000-01-01T00:00:00Z")),
        "time",
    ),
]


@pytest.mark.parametrize(("file", "change", "rule"), [c[1:] for c in TIMES], ids=[c[0] for c in TIMES])
def test_a_time_written_outside_its_commit_is_refused(attacker: Forger, file: str, change: Change, rule: str) -> None:
    attacker.edit(file, change)
    attacker.commit("a time of my choosing")
    refused(attacker, rule)
    found(attacker, rule)


@pytest.mark.parametrize("at", [tomorrow, "2000-01-01T00:00:00Z"], ids=["tomorrow", "in-2000"])
def test_a_claim_dated_outside_its_commit_is_refused(attacker: Forger, at: str) -> None:
    attacker.edit(TQ, lambda d: d["pending_tasks"].append(new_task("task_t", ME)))
    attacker.commit("instance-3 adds a task")
    attacker.edit(TQ, claim("task_t", ME, at))
    attacker.commit("instance-3 claims it, dated as it likes")
    refused(attacker, "time")
    found(attacker, "time")


@pytest.mark.parametrize(
    "date", ["@999999999999 +0000", "@4102444800 +0000", "tomorrow"], ids=["year-33658", "year-2100", "one-day-ahead"]
)
def test_a_commit_dated_ahead_of_the_server_is_refused(attacker: Forger, date: str) -> None:
    date = f"@{int((NOW + dt.timedelta(days=1)).timestamp())} +0000" if date == "tomorrow" else date
    attacker.edit(model.REGISTRY, lambda d: d["instances"][ME].update(expertise_areas=["from the future"]))
    attacker.commit("dated ahead", date=date)
    refused(attacker, "time")
    found(attacker, "time")


def test_an_empty_commit_dated_ahead_of_the_server_is_refused_on_the_store_branch(attacker: Forger) -> None:
    """It changes nothing, yet every later step would be judged against its date."""
    attacker.commit("chore: nothing", actor="", key=None, date="@4070908800 +0000")
    said = refused(attacker, "time")
    assert "ahead of this server's clock" in said


def test_an_empty_commit_dated_ahead_raises_no_floor_under_the_commits_after_it(attacker: Forger) -> None:
    """Where no gate refused it (CI's view), the honest change after it keeps the rules."""
    attacker.commit("chore: nothing", actor="", key=None, date="@4070908800 +0000")
    attacker.edit(model.REGISTRY, lambda d: d["instances"][ME].update(expertise_areas=["after the odd commit"]))
    attacker.commit("instance-3's own expertise")
    result = attacker.team.run(ME, "check", "--range", "origin/main..HEAD")
    assert result.code == 0, result


def test_a_commit_dated_in_the_past_writes_no_time_after_its_date(attacker: Forger) -> None:
    """A commit may be dated long ago (git's dates are the committer's word), but then every time it
    writes must be no later than that date, and none earlier than its parent's."""
    attacker.edit(TQ, lambda d: d["pending_tasks"].append(new_task("task_old", ME)))
    attacker.commit("a task, in a commit dated 1970", date="@1 +0000")
    refused(attacker, "time")
    found(attacker, "time")


def test_a_question_closed_backdated_to_be_archived_at_once_is_refused(attacker: Forger) -> None:
    old = "2000-01-01T00:00:00Z"
    question = new_message(
        "msg_old",
        ME,
        to=HOLDER,
        type="consultation_request",
        requires_response=True,
        status="pending_response",
        timestamp=old,
    )
    attacker.edit(
        ML,
        lambda d: (
            d["messages"].append(question),
            d["response_queue"].append({"responding_to": "msg_old", "from": HOLDER, "status": "pending"}),
        ),
    )
    attacker.commit("ask, dated 2000")
    attacker.edit(
        ML, lambda d: (record(d, "msg_old").update(status="closed", closed_at=old), d["response_queue"].pop())
    )
    attacker.commit("close, dated 2000")
    refused(attacker, "time")
    found(attacker, "time")


def test_a_task_closed_without_its_moment_is_refused_so_it_waits_for_the_archive(example_team: Team) -> None:
    """task_001, in progress since 2024 with no `updated`, completed without saying when: it would
    look closed in 2024 and free to leave the live files at once, past the archive's wait."""
    holder = Forger(example_team, HOLDER).fresh()
    holder.edit(TQ, lambda d: move(d, "task_001", "completed_tasks", status="completed"))
    holder.commit("instance-2 completes task_001, saying not when")
    said = refused(holder, "time")
    assert "task_001: a move to completed writes updated, the moment it closed" in said
    found(holder, "time")
    holder.fresh().edit(TQ, lambda d: move(d, "task_001", "completed_tasks", status="completed", updated=current()))
    holder.commit("instance-2 completes task_001, now")
    accepted(holder)


def test_a_backdated_claim_does_not_win_a_contested_task(example_team: Team) -> None:
    """instance-1 claims a task honestly and shares it first; instance-3's hand-made claim, backdated to
    2000 so that "the earlier claim wins", is refused when its own `coord sync` pushes the merge."""
    attacker = Forger(example_team, ME).fresh()
    task = example_team.ok(VICTIM, "task", "add", "wanted by two", "--sync").split()[0]
    attacker.fresh()
    example_team.ok(VICTIM, "task", "claim", task, "--sync")
    attacker.edit(TQ, claim(task, ME, "2000-01-01T00:00:00Z"))
    attacker.commit(f"instance-3 claims {task}")
    found(attacker, "time", "origin/main..HEAD")
    before = example_team.remote_tip()
    assert example_team.run(ME, "sync").code != 0
    assert example_team.remote_tip() == before
    assert record(_remote(example_team, TQ), task)["assigned_to"] == VICTIM


# Taking a live holder's task back ----------------------------------------------------------------------


@pytest.mark.parametrize("ahead", [0, 25], ids=["now", "commit-dated-past-the-lease"])
def test_reclaiming_a_live_holder_s_task_is_refused(example_team: Team, ahead: int) -> None:
    attacker = Forger(example_team, ME).fresh()
    example_team.ok(VICTIM, "checkin", "--sync")
    task = example_team.ok(VICTIM, "task", "add", "mine", "--sync").split()[0]
    example_team.ok(VICTIM, "task", "claim", task, "--sync")
    when = NOW + dt.timedelta(hours=ahead)
    attacker.fresh().edit(
        TQ,
        lambda d: move(
            d,
            task,
            "pending_tasks",
            status="pending_assignment",
            assigned_to=None,
            assigned_at=None,
            status_reason="reclaimed",
            updated=stamp(when),
        ),
    )
    attacker.commit("reclaim", date=f"@{int(when.timestamp())} +0000")
    refused(attacker, "authorization")
    found(attacker, "authorization")


def test_the_human_may_take_a_live_holder_s_task_back(example_team: Team) -> None:
    human = Forger(example_team, HUMAN).fresh()
    human.edit(
        TQ,
        lambda d: move(
            d,
            "task_001",
            "pending_tasks",
            status="pending_assignment",
            assigned_to=None,
            status_reason="the human takes it back",
            updated=current(),
        ),
    )
    human.commit("the human releases task_001")
    accepted(human)


def _remote(team: Team, file: str) -> dict[str, Any]:
    return dict(json.loads(git(team.remote, "show", f"main:coordination/{file}")))
