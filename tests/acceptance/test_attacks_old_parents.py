"""Attacks that build on an old parent, whose state lends authority the line it joins has since taken away:
a branch from before signatures were required, and a reclaim judged on a parent where the holder looked silent.

Each needs a history of its own (a store that started unsigned; a team that began thirty hours ago),
so each builds its team. The change on the old parent is lawful there; merged into the coordination
branch it is judged again under that branch's authority, and the gate refuses it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from testing.forgery import Forger
from testing.forgery import found
from testing.forgery import move
from testing.forgery import new_key
from testing.forgery import refused
from testing.forgery import stamp
from testing.repos import bare_remote
from testing.repos import git
from testing.repos import make_repo
from testing.signed import HUMAN
from testing.signed import Edit
from testing.signed import Team
from tests.conftest import Coord

from gitcoord import model


def test_an_unsigned_branch_from_before_signatures_were_required_is_refused(
    tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that started unsigned, then turned signatures on (`coord key publish` and `coord register`, then `coord key require`).
    An outsider branches off a commit from before, commits unsigned as the human, making its own key the
    human's, and merges that into the coordination branch signed with that key."""
    monkeypatch.setenv("COORD_KEYS_DIR", str(tmp_path / "keys"))
    team = Team(tmp_path, coord, ("instance-1", "evil"))
    bare_remote(team.remote)
    team.ok(None, "install", "--server", where=team.remote)
    git(make_repo(team.clones[HUMAN]), "remote", "add", "origin", str(team.remote))
    team.ok(HUMAN, "init", "--branch", "main")
    team.ok(HUMAN, "sync")
    team.ok(HUMAN, "install", "--as", HUMAN)
    team.ok(HUMAN, "key", "publish", "--sync")
    git(tmp_path, "clone", "-q", str(team.remote), str(team.clones["instance-1"]))
    team.ok("instance-1", "install", "--as", "instance-1")
    team.ok("instance-1", "register", "instance-1", "--role", "developer", "--sync")
    team.ok(HUMAN, "sync")
    before = team.remote_tip()  # signatures not required yet
    team.ok(HUMAN, "key", "require", "--sync")
    team.ok("instance-1", "checkin", "--sync")

    git(tmp_path, "clone", "-q", str(team.remote), str(team.clones["evil"]))
    outsider = Forger(team, "evil")
    evil, evil_key = new_key(tmp_path, "evil")
    git(outsider.clone, "checkout", "-q", "-b", "side", before)
    outsider.edit(model.REGISTRY, lambda d: d["settings"].update(human_key=evil_key))
    outsider.commit("the human's key, says the trailer", actor=HUMAN, key=None)
    git(outsider.clone, "checkout", "-q", "main")
    outsider.merge("side")
    # The result written by hand: the branch's registry, with the side's change.
    outsider.write(model.REGISTRY, json.loads(git(outsider.clone, "show", f"main:coordination/{model.REGISTRY}")))
    outsider.edit(model.REGISTRY, lambda d: d["settings"].update(human_key=evil_key))
    outsider.commit("merge side", actor=HUMAN, key=evil)
    refused(outsider, "signature")
    found(outsider, "signature")


def _at(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime | None) -> None:
    """Every clock coord and git read says `moment` (None: the real clock again)."""
    for name in ("COORD_NOW", "GIT_COMMITTER_DATE", "GIT_AUTHOR_DATE"):
        if moment is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, stamp(moment) if name == "COORD_NOW" else f"@{int(moment.timestamp())} +0000")


def _merged_from(
    team: Team, old: str, change: Edit, subject: str, *, date: str | None = None, beside: str | None = None
) -> Forger:
    """instance-2's change of the task queue, made on the old commit `old` (lawful there), then the
    shared line merged into it with the real driver: the merge is what the gate judges. `beside`: a
    branch the change is pushed to first, on its own (the gate takes it there)."""
    attacker = Forger(team, "instance-2").fresh()
    git(attacker.clone, "reset", "-q", "--hard", old)
    attacker.edit(model.TASKS, change)
    attacker.commit(subject, date=date)
    assert team.ok("instance-2", "check", "--range", f"{old}..HEAD").startswith("ok: "), "lawful on its own parent"
    if beside is not None:
        git(attacker.clone, "push", "-q", "--no-verify", "origin", f"HEAD:refs/heads/{beside}")
    git(attacker.clone, "fetch", "-q", "origin")
    git(attacker.clone, "merge", "-q", "--no-edit", "--no-verify", "origin/main")
    return attacker


def _holders(team: Team, task: str) -> list[str]:
    tasks = json.loads(git(team.remote, "show", f"main:coordination/{model.TASKS}"))
    return [t["assigned_to"] for t in tasks["active_tasks"] if t["task_id"] == task]


def test_a_reclaim_judged_on_a_parent_where_the_holder_looked_silent_is_refused(
    tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """instance-1 took a task thirty hours ago and has checked in since (an hour ago, and now). instance-2
    reclaims it on the commit from thirty hours ago, where instance-1 looks silent past the lease, and
    merges that into the coordination branch with the real driver: the gate refuses the merge."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    monkeypatch.setenv("COORD_KEYS_DIR", str(tmp_path / "team" / "keys"))
    _at(monkeypatch, now - dt.timedelta(hours=31))
    team = Team.build(tmp_path / "team", coord, ("instance-1", "instance-2"))
    _at(monkeypatch, now - dt.timedelta(hours=30))
    team.ok("instance-1", "checkin", "--sync")
    task = team.ok("instance-1", "task", "add", "Long job", "--sync").split()[0]
    team.ok("instance-1", "task", "claim", task, "--sync")
    team.ok("instance-1", "task", "start", task, "--sync")
    old = team.remote_tip()
    _at(monkeypatch, now - dt.timedelta(hours=1))
    team.ok("instance-1", "checkin", "--sync")
    _at(monkeypatch, None)
    team.ok("instance-1", "checkin", "--sync")

    fields = {"status": "pending_assignment", "assigned_to": None, "assigned_at": None, "status_reason": "silent"}
    reclaim = _merged_from(
        team, old, lambda d: move(d, task, "pending_tasks", **fields, updated=stamp(now)), f"instance-2 reclaims {task}"
    )
    refused(reclaim, "authorization")
    found(reclaim, "authorization")
    assert _holders(team, task) == ["instance-1"]


def _released_and_claimed_again(tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch) -> tuple[Team, str, str]:
    """instance-2 started a task; the human released it since and instance-1 claimed it. The team,
    the task, and the shared tip from before the release."""
    monkeypatch.setenv("COORD_KEYS_DIR", str(tmp_path / "team" / "keys"))
    team = Team.build(tmp_path / "team", coord, ("instance-1", "instance-2"))
    task = team.ok(HUMAN, "task", "add", "Ship the release", "--sync").split()[0]
    team.ok("instance-2", "sync")
    team.ok("instance-2", "task", "claim", task, "--sync")
    team.ok("instance-2", "task", "start", task, "--sync")
    old = team.remote_tip()
    team.ok(HUMAN, "sync")
    team.ok(HUMAN, "task", "release", task, "--reason", "instance-2 is needed elsewhere", "--sync")
    team.ok("instance-1", "sync")
    team.ok("instance-1", "task", "claim", task, "--sync")
    return team, task, old


def test_a_former_holder_completing_on_a_parent_from_before_the_release_is_refused(
    tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """instance-2 held a task; the human released it and instance-1 claimed it. instance-2 completes it
    on the commit from before the release, where it still holds it, and merges the shared line with the
    real driver, whose "further along wins" would hand it back completed: the gate refuses the merge."""
    team, task, old = _released_and_claimed_again(tmp_path, coord, monkeypatch)

    completion = _merged_from(
        team,
        old,
        lambda d: move(d, task, "completed_tasks", status="completed", status_reason="done"),
        f"instance-2 completes {task}",
    )
    said = refused(completion, "transition")
    assert "which this merge brings in" in said
    # The commit named is the one that broke the rule, not the release the shared line made.
    assert f"instance-2 completes {task}" in said
    assert "releases" not in said, said
    assert _holders(team, task) == ["instance-1"]


def _claimed_on_the_line(
    tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch, *, gate: bool
) -> tuple[Team, str, str, dt.datetime]:
    """A task added thirty minutes ago, and claimed by instance-1 now and shared (`gate`: the remote
    has one): the team, the task, the commit that added it, and a moment just after that."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    monkeypatch.setenv("COORD_KEYS_DIR", str(tmp_path / "team" / "keys"))
    _at(monkeypatch, now - dt.timedelta(minutes=31))
    team = Team.build(tmp_path / "team", coord, ("instance-1", "instance-2"))
    if not gate:
        (team.remote / "hooks" / "pre-receive").unlink()
    _at(monkeypatch, now - dt.timedelta(minutes=30))
    task = team.ok(HUMAN, "task", "add", "Agent dashboard", "--sync").split()[0]
    added = team.remote_tip()
    _at(monkeypatch, None)
    team.ok("instance-1", "sync")
    team.ok("instance-1", "task", "claim", task, "--sync")
    return team, task, added, now - dt.timedelta(minutes=30) + dt.timedelta(seconds=5)


@pytest.mark.parametrize("beside", [None, "wip-instance-2"], ids=["merged at once", "pushed beside first"])
def test_a_claim_dated_in_an_old_parents_era_does_not_win_a_task_claimed_on_the_line(
    tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch, beside: str | None
) -> None:
    """instance-1 claimed a task and shared it. instance-2 claims it on the commit from just after it was
    added, dated then (lawful there), and merges: the driver's "the earlier claim wins" would hand it over.
    The line already shared keeps its claim; the merge is refused. So it is when the claim went to a
    branch of its own first: a branch holds it, but the store's line never did."""
    team, task, added, early = _claimed_on_the_line(tmp_path, coord, monkeypatch, gate=True)
    fields = {"status": "assigned", "assigned_to": "instance-2", "assigned_at": stamp(early), "updated": stamp(early)}
    claim = _merged_from(
        team,
        added,
        lambda d: move(d, task, "active_tasks", **fields),
        f"instance-2 claims {task}",
        date=stamp(early),
        beside=beside,
    )
    assert "which this merge brings in" in refused(claim, "immutable")
    assert _holders(team, task) == ["instance-1"]


def test_without_a_gate_the_clone_that_shared_a_claim_first_refuses_a_backdated_one_merged_in(
    tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, on a remote with no gate (CI is the check there): the push goes through, but
    instance-1's sync judges it before moving, and its own claim, shared before, still counts as
    shared: the merge is refused, and the clone keeps its claim."""
    team, task, added, early = _claimed_on_the_line(tmp_path, coord, monkeypatch, gate=False)
    fields = {"status": "assigned", "assigned_to": "instance-2", "assigned_at": stamp(early), "updated": stamp(early)}
    change = lambda d: move(d, task, "active_tasks", **fields)  # noqa: E731
    claim = _merged_from(team, added, change, f"instance-2 claims {task}", date=stamp(early), beside="wip")
    assert claim.push().returncode == 0, "no gate here"
    assert _holders(team, task) == ["instance-2"]
    mine = git(team.clones["instance-1"], "rev-parse", "main")
    said = team.run("instance-1", "sync")
    assert said.code == 1, said
    assert "which this merge brings in" in said.err, said.err
    assert git(team.clones["instance-1"], "rev-parse", "main") == mine, "it keeps its last good state"


def test_a_completion_hidden_in_a_merge_on_the_side_line_is_refused(
    tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, but the completion is what a merge on the side line adds beyond its parents (an
    empty commit on the old parent, merged with that parent): brought by no other commit, it is
    judged as a change of the joined line's version all the same."""
    team, task, old = _released_and_claimed_again(tmp_path, coord, monkeypatch)

    attacker = Forger(team, "instance-2").fresh()
    git(attacker.clone, "reset", "-q", "--hard", old)
    empty = attacker.commit("instance-2 notes")
    git(attacker.clone, "reset", "-q", "--hard", old)
    attacker.edit(model.TASKS, lambda d: move(d, task, "completed_tasks", status="completed", status_reason="done"))
    git(attacker.clone, "add", "-A")
    side = attacker.commit_tree(
        git(attacker.clone, "write-tree"), [empty, old], "merge\n\nCoord-Instance: instance-2\n"
    )
    git(attacker.clone, "reset", "-q", "--hard", side)
    git(attacker.clone, "fetch", "-q", "origin")
    git(attacker.clone, "merge", "-q", "--no-edit", "--no-verify", "origin/main")
    assert "which this merge brings in" in refused(attacker, "transition")
    assert _holders(team, task) == ["instance-1"]


def test_a_backdated_claim_does_not_win_because_the_joined_side_has_a_new_commit_too(
    tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim from the old parent's era, merged into a check-in of the attacker's own on the shared
    tip: that new commit does not make instance-1's claim, shared before, the driver's to settle."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    monkeypatch.setenv("COORD_KEYS_DIR", str(tmp_path / "team" / "keys"))
    _at(monkeypatch, now - dt.timedelta(minutes=31))
    team = Team.build(tmp_path / "team", coord, ("instance-1", "instance-2"))
    _at(monkeypatch, now - dt.timedelta(minutes=30))
    task = team.ok(HUMAN, "task", "add", "Agent dashboard", "--sync").split()[0]
    added = team.remote_tip()
    _at(monkeypatch, None)
    team.ok("instance-1", "sync")
    team.ok("instance-1", "task", "claim", task, "--sync")

    attacker = Forger(team, "instance-2").fresh()
    git(attacker.clone, "reset", "-q", "--hard", added)
    early = now - dt.timedelta(minutes=30) + dt.timedelta(seconds=5)
    fields = {"status": "assigned", "assigned_to": "instance-2", "assigned_at": stamp(early), "updated": stamp(early)}
    attacker.edit(model.TASKS, lambda d: move(d, task, "active_tasks", **fields))
    claim = attacker.commit(f"instance-2 claims {task}", date=stamp(early))
    attacker.fresh()
    attacker.edit(model.REGISTRY, lambda d: d["instances"]["instance-2"].update(last_update=stamp(now)))
    attacker.commit("instance-2 checks in")
    git(attacker.clone, "merge", "-q", "--no-edit", "--no-verify", claim)
    assert "which this merge brings in" in refused(attacker, "immutable")
    assert _holders(team, task) == ["instance-1"]


def test_a_decision_made_again_on_a_side_line_is_refused_and_named_as_the_sides(
    tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """instance-2 proposed a decision and the human decided it, on the shared line. instance-2 decides
    it its own way on the commit from before, where it is still pending (lawful there), and merges the
    shared line, settling the conflict its way: the gate refuses the merge, and names instance-2's
    commit, not the human's decision that the line keeps."""
    monkeypatch.setenv("COORD_KEYS_DIR", str(tmp_path / "team" / "keys"))
    team = Team.build(tmp_path / "team", coord, ("instance-1", "instance-2"))
    asked = ["decision", "propose", "Which database", "--option", "Postgres", "--option", "Mongo", "--sync"]
    decision = team.ok("instance-2", *asked).split()[0]
    old = team.remote_tip()
    team.ok(HUMAN, "sync")
    team.ok(HUMAN, "decision", "decide", decision, "--option", "Postgres", "--rationale", "the human's call", "--sync")
    shared = json.loads(git(team.remote, "show", f"main:coordination/{model.DECISIONS}"))
    made = next(d for d in shared["decisions"] if d["decision_id"] == decision)

    def decide_again(doc: dict[str, Any]) -> None:
        doc["pending_decisions"] = [d for d in doc["pending_decisions"] if d["decision_id"] != decision]
        doc["decisions"].append({**made, "decision": "Mongo", "decided_by": ["instance-2"], "rationale": "mine"})

    attacker = Forger(team, "instance-2").fresh()
    git(attacker.clone, "reset", "-q", "--hard", old)
    attacker.edit(model.DECISIONS, decide_again)
    attacker.commit(f"instance-2 decides {decision}")
    side = git(attacker.clone, "rev-parse", "HEAD")
    git(attacker.clone, "fetch", "-q", "origin")
    attacker.merge("origin/main", strategy=("-s", "ours"))  # the side's version of the decision kept
    attacker.commit("merge origin/main")
    said = refused(attacker, "transition")
    assert f"{side[:12]} (instance-2 decides {decision})" in said, said
    assert "human" not in said, said
