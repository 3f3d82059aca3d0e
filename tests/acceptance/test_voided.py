"""Honest steps that the shared line made void while they waited to be shared are left out by sync.

A step judged lawful when it was made can lose its grounds before it is shared (here: the human
keeps closed records longer, so an archive made under the old policy moves records too early).
The gate must refuse a merge that brings it in; the clone must not be wedged by it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from testing.forgery import Forger
from testing.repos import git
from testing.signed import HUMAN
from testing.signed import Team

from gitcoord import model

REG = model.REGISTRY


def _keep_closed_records_for_good(team: Team) -> None:
    human = Forger(team, HUMAN).fresh()
    human.edit(REG, lambda d: d["settings"].update(archive_after_days=3650))
    human.commit("the human keeps closed records for good")
    pushed = human.push()
    assert pushed.returncode == 0, pushed.stderr


def _origin_subjects(clone: Path) -> list[str]:
    return git(clone, "log", "--format=%s", "origin/main").splitlines()


def _left_out(team: Team, who: str) -> Any:
    """What `coord sync` did, which says it failed: a step of this clone will never be shared."""
    said = team.run(who, "sync", "--json")
    assert said.code == 1, said
    envelope = json.loads(said.out)
    assert envelope["error"]["kind"] == "check_failed"
    assert "left out, void under the shared line" in envelope["error"]["message"]
    return envelope["data"]


def test_a_step_made_void_since_is_left_out_kept_and_the_rest_shared(example_team: Team) -> None:
    team = example_team
    clone = team.clones["instance-1"]
    team.fresh("instance-1")
    team.ok("instance-1", "archive", "--no-sync")  # lawful now: dec_001 closed in 2024, the policy keeps 2 days
    team.ok("instance-1", "msg", "send", "--to", "human", "--subject", "later", "--body", "b", "--no-sync")
    _keep_closed_records_for_good(team)
    synced: Any = _left_out(team, "instance-1")
    [dropped] = synced["dropped"]
    assert "archives" in dropped["subject"]
    assert "3650 days" in dropped["why"], "why: under the policy the shared line has now"
    assert git(clone, "rev-parse", dropped["kept"]) == dropped["commit"], "nothing is lost"
    subjects = _origin_subjects(clone)
    assert any("instance-1 tells human: later" in s for s in subjects), "the step after it was shared"
    assert not any("archives" in s for s in subjects)
    assert git(clone, "rev-parse", "main") == git(clone, "rev-parse", "origin/main")
    root = git(clone, "rev-list", "--max-parents=0", "main")
    assert team.ok("instance-1", "check", "--range", f"{root}..main").startswith("ok: ")
    team.ok("instance-1", "checkin", "--sync")  # and the clone goes on
    assert _origin_subjects(clone)[0].endswith("instance-1 checks in")


def test_the_sync_says_what_it_left_out(example_team: Team) -> None:
    team = example_team
    team.fresh("instance-1")
    team.ok("instance-1", "archive", "--no-sync")
    _keep_closed_records_for_good(team)
    said = team.run("instance-1", "sync")
    assert said.code == 1, said
    assert "left out" in said.err + said.out
    assert team.run("instance-1", "sync").code == 0, "once said, it is nothing to share"
    assert "refs/coord/dropped/" in said.err + said.out


def test_a_step_whose_own_commit_is_left_out_says_so_and_fails(example_team: Team) -> None:
    team = example_team
    clone = team.clones["instance-1"]
    team.fresh("instance-1")
    team.ok("instance-1", "msg", "send", "--to", "human", "--subject", "first", "--body", "b", "--no-sync")
    _keep_closed_records_for_good(team)
    archived = team.run("instance-1", "archive", "--json")  # made on this clone's view, shared after
    assert archived.code == 1, archived
    envelope = json.loads(archived.out)
    assert envelope["error"]["kind"] == "refused"
    assert "the step was left out when it was shared" in envelope["error"]["message"]
    assert "refs/coord/dropped/" in envelope["error"]["message"]
    assert any("instance-1 tells human: first" in s for s in _origin_subjects(clone)), "the rest was shared"


def test_a_completion_the_shared_line_took_away_is_left_out_and_the_release_stands(example_team: Team) -> None:
    """instance-2 completes its task offline while the human releases it: shared, the completion would
    undo the release through the driver's "further along wins", so the sync leaves it out and says so."""
    team = example_team
    clone = team.clones["instance-2"]
    team.fresh("instance-2")
    team.ok("instance-2", "task", "complete", "task_001", "--no-sync")
    team.ok("instance-2", "msg", "send", "--to", "human", "--subject", "done", "--body", "b", "--no-sync")
    team.fresh(HUMAN)
    team.ok(HUMAN, "task", "release", "task_001", "--reason", "instance-2 is needed elsewhere", "--sync")
    synced: Any = _left_out(team, "instance-2")
    [dropped] = synced["dropped"]
    assert "completes task_001" in dropped["subject"]
    assert "task_001" in dropped["why"]
    assert git(clone, "rev-parse", dropped["kept"]) == dropped["commit"], "nothing is lost"
    shown = json.loads(team.ok("instance-2", "task", "show", "task_001", "--json"))["data"]
    assert (shown["status"], shown["assigned_to"]) == ("pending_assignment", None)
    assert any("instance-2 tells human: done" in s for s in _origin_subjects(clone)), "the step after it was shared"
    root = git(clone, "rev-list", "--max-parents=0", "main")
    assert team.ok("instance-2", "check", "--range", f"{root}..main").startswith("ok: ")


def test_a_claim_that_lost_the_task_to_one_shared_first_says_so(example_team: Team) -> None:
    """Made first and shared second, a claim would take the task from a holder the shared line
    gave it to: it is left out, and the sync says whose claim won, not which field it changed."""
    made = example_team.ok(HUMAN, "task", "add", "Only one can have it", "--sync", "--json")
    task = json.loads(made)["data"]["record"]["task_id"]
    for who in ("instance-1", "instance-2"):
        example_team.ok(who, "sync")
    example_team.ok("instance-1", "task", "claim", task, "--no-sync")
    example_team.ok("instance-2", "task", "claim", task, "--sync")
    lost = example_team.run("instance-1", "sync")
    assert lost.code == 1, lost
    assert f"your claim on {task} lost to instance-2's, shared first" in lost.out + lost.err, lost
    assert "`coord task ready --mine` shows other work" in lost.out + lost.err
