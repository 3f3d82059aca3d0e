"""coord sync between clones through a bare remote, as instances on several machines would."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from testing.repos import commit_msg_002_by_hand
from testing.repos import files_in
from testing.repos import git
from testing.unsigned import UnsignedTeam
from tests.conftest import Coord
from tests.conftest import Result

from gitcoord import model
from gitcoord import sync as engine
from gitcoord import workspace
from gitcoord.errors import FatalError
from gitcoord.git import Sha


class Team(UnsignedTeam):
    """The example store on the code branch, and a clone for each named instance."""

    def __init__(self, tmp: Path, coord: Coord, names: list[str]) -> None:
        super().__init__(tmp, coord, names, branch="main")

    def refused_sync(self, who: str) -> Result:
        """`coord sync` that fails, and keeps this clone's commits and files as they were."""
        clone = self.clones[who]
        head, before = git(clone, "rev-parse", "HEAD"), files_in(clone)
        result: Result = self.coord(clone, "sync")
        assert result.code == 1, result
        assert (git(clone, "rev-parse", "HEAD"), files_in(clone)) == (head, before)
        return result


@pytest.fixture
def team(tmp_path: Path, coord: Coord) -> Team:
    return Team(tmp_path, coord, ["instance-2", "instance-4", "instance-5"])


def test_changes_travel_between_clones(team: Team) -> None:
    team("instance-2", "task", "complete", "task_001", "--sync")
    synced = team.json("instance-4", "sync")
    assert (synced["fetched"], synced["pushed"], synced["merged"]) == (1, 0, False)
    assert "task_001  completed" in team("instance-4", "task", "list")
    assert git(team.clones["instance-4"], "status", "--porcelain") == "", "the checkout on main follows"


def test_a_race_for_one_task_is_decided_and_the_loser_told(team: Team) -> None:
    task = team("instance-2", "task", "add", "Agent dashboard", "--sync").splitlines()[0]
    team("instance-4", "sync")
    team("instance-5", "sync")
    team("instance-4", "task", "claim", task, "--no-sync")  # both claim before either shares
    team("instance-5", "task", "claim", task, "--no-sync")
    team("instance-4", "sync")
    report = team("instance-5", "sync")
    assert "merged with origin" in report
    loser = "instance-5"
    assert f"your claim on {task} lost to instance-4's" in report
    team("instance-4", "sync")
    record = next(t for t in team.json("instance-4", "task", "list") if t["task_id"] == task)
    assert record["assigned_to"] == "instance-4"
    shown = team.json(loser, "task", "show", task)
    assert shown["contested"][0]["assigned_to"] == loser
    briefing = team(loser, "checkin")
    assert f"Claims you lost in a merge:\n  {task}" in briefing


def test_every_clone_ends_byte_for_byte_equal(team: Team) -> None:
    team("instance-2", "checkin", "--sync")
    team("instance-4", "checkin", "--sync")
    team("instance-5", "msg", "send", "--to", "instance-2", "--subject", "hi", "--body", "x", "--sync")
    for name in team.clones:
        team(name, "sync")
    remote = git(team.remote, "rev-parse", "main")
    for clone in team.clones.values():
        assert git(clone, "rev-parse", "main") == remote
    stores = [{p: d for p, d in files_in(c).items() if p.startswith("coordination/")} for c in team.clones.values()]
    assert stores[0] == stores[1] == stores[2]


def test_code_both_sides_changed_merges_along_with_the_records(team: Team) -> None:
    # Files beyond the store send the whole merge through git and the driver; the records still merge.
    first, second = team.clones["instance-2"], team.clones["instance-4"]
    (first / "notes.txt").write_text("one\ntwo\nthree\nfour\nfive\n")
    git(first, "add", "notes.txt")
    git(first, "commit", "-q", "--no-verify", "-m", "notes")
    team("instance-2", "sync")
    team("instance-4", "sync")
    for clone, old, new in ((first, "one", "ONE"), (second, "five", "FIVE")):
        path = clone / "notes.txt"
        path.write_text(path.read_text().replace(old, new))
        git(clone, "commit", "-q", "--no-verify", "-am", f"edit {old}")
    team("instance-2", "task", "add", "From the first", "--sync")
    team("instance-4", "task", "add", "From the second", "--no-sync")
    assert "merged with origin" in team("instance-4", "sync")
    assert (second / "notes.txt").read_text() == "ONE\ntwo\nthree\nfour\nFIVE\n"
    titles = {t["title"] for t in team.json("instance-4", "task", "list")}
    assert {"From the first", "From the second"} <= titles


def test_a_file_beside_the_store_is_never_taken_from_one_side(team: Team) -> None:
    # coordination/notes.json has the driver's attribute but is no store file: git merges it as
    # text, and different edits of one line stop the sync instead of keeping either side alone.
    first, second = team.clones["instance-2"], team.clones["instance-4"]
    (first / "coordination" / "notes.json").write_text('{"note": "base"}\n')
    git(first, "add", "coordination/notes.json")
    git(first, "commit", "-q", "--no-verify", "-m", "notes")
    team("instance-2", "sync")
    team("instance-4", "sync")
    for clone, text in ((first, "first"), (second, "second")):
        (clone / "coordination" / "notes.json").write_text(f'{{"note": "{text}"}}\n')
        git(clone, "commit", "-q", "--no-verify", "-am", f"note {text}")
    team("instance-2", "sync")
    result = team.refused_sync("instance-4")
    assert "needs a person" in result.err
    assert "coordination/notes.json" in result.err
    assert (second / "coordination" / "notes.json").read_text() == '{"note": "second"}\n'


def test_an_unreachable_remote_keeps_local_commits(team: Team, tmp_path: Path) -> None:
    team("instance-4", "checkin")
    shutil.move(str(team.remote), str(tmp_path / "moved.git"))
    result = team.refused_sync("instance-4")
    assert "cannot fetch main from origin" in result.err
    assert "Your commits are kept" in result.err


def test_a_refused_push_says_why(team: Team) -> None:
    hook = team.remote / "hooks" / "pre-receive"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\necho 'protected branch: changes need review' >&2\nexit 1\n")
    hook.chmod(0o755)
    team("instance-2", "checkin", "--no-sync")
    result = team.refused_sync("instance-2")
    assert "origin refuses main:\n protected branch: changes need review" in result.err
    assert "So the 1 commit(s) of this clone that refs/remotes/origin/main lacks will never be shared as" in result.err
    assert "instance-2 checks in" in result.err
    said = result.err
    assert (
        "`git reset --keep refs/remotes/origin/main`" in said or "`git branch -f main refs/remotes/origin/main`" in said
    )
    # A step on top is committed all the same: it says so, with its new id, and why it is not shared.
    step = team.run("instance-2", "task", "add", "one more", "--json")
    assert step.code == 5, step
    envelope = json.loads(step.out)
    assert envelope["data"]["task_id"].startswith("task_")
    assert envelope["error"]["kind"] == "refused"
    assert "the step is committed here, but the remote refuses it" in envelope["error"]["message"]
    # A read then says so, instead of promising that the next sync shares them.
    status = json.loads(team("instance-2", "status", "--json"))
    assert status["data"]["freshness"]["refused"] is True, status
    said = team.run("instance-2", "status")
    assert "2 commit(s) of this clone are not shared: origin refused them" in said.err, said
    assert "`coord sync` shares them" not in said.err
    hook.unlink()  # the remote takes them now: a sync shares them, and the reads forget the refusal
    team("instance-2", "sync")
    status = json.loads(team("instance-2", "status", "--json"))
    assert status["data"]["freshness"]["refused"] is False
    assert git(team.clones["instance-2"], "for-each-ref", "refs/coord/refused/") == ""


def test_a_remote_that_keeps_moving_gives_up_when_patience_runs_out(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    team("instance-2", "checkin", "--no-sync")
    rival = team.clones["instance-5"]
    ws = workspace.open_workspace(team.clones["instance-2"])
    head = git(team.clones["instance-2"], "rev-parse", "HEAD")
    push, delays = engine._push, []

    def overtaken(ws: workspace.Workspace, commit: Sha) -> bool:
        git(rival, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")  # another writer pushes first, for real
        git(rival, "commit", "-q", "--allow-empty", "--no-verify", "-m", "someone else's work")
        git(rival, "push", "-q", "origin", "main")
        return push(ws, commit)

    def sleep(seconds: float) -> None:  # time passes only while backing off
        delays.append(seconds)
        now[0] += seconds

    now = [0.0]
    monkeypatch.setattr(engine, "_push", overtaken)
    with pytest.raises(FatalError, match=r"kept moving: for 5 s, each of \d+ pushes of main was overtaken"):
        engine.sync(ws, patience=5, sleep=sleep, clock=lambda: now[0])
    assert sum(delays[:-1]) < 5 <= sum(delays), "gives up once patience runs out, not before"
    assert all(0 < d <= 3 for d in delays), "jittered, bounded backoff"
    assert len(set(delays)) == len(delays), "jittered: writers that collided do not wait alike"
    assert git(team.clones["instance-2"], "merge-base", "--is-ancestor", head, "main") == ""  # local commits kept


def test_a_record_made_again_under_a_shared_id_is_left_out_and_kept(team: Team) -> None:
    """Two clones write msg_002 by hand, the specification's sequential ids: settled either way, one
    sent message would be gone. The shared line's stands; this clone's commit is set aside, kept."""
    for name, text in (("instance-2", "Ship it"), ("instance-4", "Hold it")):
        commit_msg_002_by_hand(team.clones[name], text)
    team("instance-2", "sync")
    clone = team.clones["instance-4"]
    mine = git(clone, "rev-parse", "HEAD")
    left = team.run("instance-4", "sync")
    assert left.code == 1, left
    said = left.out
    assert f"left out {mine[:12]}" in said
    assert "give the side line's record a new id there, then merge" in said
    assert git(clone, "rev-parse", f"refs/coord/dropped/{mine}") == mine, "kept"
    shared = json.loads(git(clone, "show", f"origin/main:coordination/{model.MESSAGES}"))
    assert [m["message"] for m in shared["messages"] if m["message_id"] == "msg_002"] == ["Ship it"]


def test_sync_from_a_feature_branch_leaves_the_checkout_alone(team: Team) -> None:
    clone = team.clones["instance-4"]
    git(clone, "checkout", "-q", "-b", "feature/ml")
    (clone / "model.py").write_text("weights = []\n")
    before = files_in(clone)
    team("instance-2", "task", "complete", "task_001", "--sync")
    team("instance-4", "sync")
    team("instance-4", "task", "claim", "task_002", "--sync")
    assert files_in(clone) == before
    assert git(clone, "rev-parse", "--abbrev-ref", "HEAD") == "feature/ml"
    assert git(team.remote, "log", "-1", "--format=%s", "main") == "coord(task): instance-4 claims task_002"


def test_sync_needs_the_merge_driver(team: Team) -> None:
    git(team.clones["instance-5"], "config", "--remove-section", "merge.coord")
    result = team.refused_sync("instance-5")
    assert "cannot merge safely" in result.err
    assert "coord install" in result.err


def test_sync_by_default_when_the_clone_says_so(team: Team) -> None:
    git(team.clones["instance-5"], "config", "coord.sync", "true")
    team("instance-5", "checkin")
    assert git(team.remote, "log", "-1", "--format=%s", "main") == "coord(instance): instance-5 checks in"
    team("instance-5", "task", "add", "Monitoring", "--no-sync")
    assert "Monitoring" not in git(team.remote, "log", "-1", "--format=%s", "main")


def test_doctor_reads_the_shared_branch_as_the_remote_has_it(team: Team, tmp_path: Path) -> None:
    """An instance registered after its clone was made is registered: doctor fetches first."""
    newcomer = team.clone("instance-9")
    team("instance-2", "register", "instance-9", "--role", "tester", "--sync")
    said = json.loads(team.ok(newcomer, "doctor", "--json"))["data"]
    checks = {c["name"]: c for c in said["checks"]}
    assert checks["identity"]["ok"], checks["identity"]
    assert checks["remote"]["ok"], checks["remote"]
    git(newcomer, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    unreachable = team.coord(newcomer, "doctor")
    assert unreachable.code == 1
    assert [line.split()[0] for line in unreachable.out.splitlines() if "remote:" in line] == ["FAIL"]


def test_a_claim_lost_in_a_step_s_sync_is_a_note_of_that_step(team: Team) -> None:
    """In the step's JSON too: an agent that reads only `ok` and `notes` must not work on it."""
    task = team("instance-2", "task", "add", "Agent dashboard", "--sync").splitlines()[0]
    team("instance-5", "sync")
    team("instance-4", "task", "claim", task, "--sync")
    team("instance-5", "task", "claim", task, "--no-sync")  # on what this clone saw: unclaimed
    sent = json.loads(team("instance-5", "msg", "send", "--to", "all", "--subject", "hi", "--body", "b", "--json"))
    assert sent["ok"]
    assert sent["data"]["sync"]["merged"]
    assert f"your claim on {task} lost to instance-4's; `coord task ready --mine` shows other work" in sent["notes"]


def test_a_step_that_loses_the_race_is_made_again_on_the_new_tip_with_no_merge(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitcoord.commands import step

    team("instance-4", "sync")
    team("instance-2", "task", "add", "First in", "--sync")
    monkeypatch.setattr(step, "_caught_up", lambda ws, out: (None, None))  # its push then meets what it had not seen
    made = json.loads(team("instance-4", "task", "add", "Second", "--json"))
    assert made["ok"]
    assert made["data"]["sync"]["merged"] is False
    clone = team.clones["instance-4"]
    assert git(clone, "rev-list", "--merges", "--count", "origin/main") == "0"
    assert (
        git(clone, "log", "-1", "--format=%s", "origin/main")
        == f"coord(task): instance-4 adds {made['data']['task_id']}: Second"
    )
    assert made["data"]["commit"] == git(clone, "rev-parse", "origin/main") == git(clone, "rev-parse", "main")


def test_a_claim_that_loses_the_race_is_refused_and_nothing_is_committed(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitcoord.commands import step

    task = team("instance-2", "task", "add", "Agent dashboard", "--sync").splitlines()[0]
    team("instance-5", "sync")
    team("instance-4", "task", "claim", task, "--sync")
    monkeypatch.setattr(step, "_caught_up", lambda ws, out: (None, None))
    lost = team.run("instance-5", "task", "claim", task, "--json")
    assert lost.code == 1, lost
    envelope = json.loads(lost.out)
    assert envelope["error"]["kind"] == "refused"
    assert "the step no longer applies" in envelope["error"]["message"]
    assert "Nothing was committed" in envelope["error"]["message"]
    clone = team.clones["instance-5"]
    assert git(clone, "rev-parse", "main") == git(clone, "rev-parse", "origin/main"), "taken back"
    assert git(clone, "status", "--porcelain") == "", "the checkout follows"


def test_a_step_shared_as_made_again_while_the_branch_cannot_follow_lands_once(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The push of the step made again goes through, then a lock keeps the local branch on the
    step as first made: the step is shared (exit 0, and a note says why the branch lags), and the
    next sync takes the remote's line instead of merging the first version in: it lands once."""
    from gitcoord import sync as engine
    from gitcoord.commands import step

    team("instance-4", "sync")
    team("instance-2", "task", "add", "First in", "--sync")
    monkeypatch.setattr(step, "_caught_up", lambda ws, out: (None, None))  # its push then meets what it had not seen
    clone = team.clones["instance-4"]
    lock = clone / ".git" / "refs" / "heads" / "main.lock"
    real = engine.advance

    def locked(*args: Any) -> bool:
        lock.write_text("")  # a git command at work, or one killed, just as the branch is to move
        return real(*args)

    monkeypatch.setattr(engine, "advance", locked)
    made = json.loads(team("instance-4", "task", "add", "Second", "--json"))
    assert made["ok"], made
    assert any("could not follow it" in n and str(lock) in n for n in made["notes"]), made["notes"]
    shared = made["data"]["commit"]
    assert git(clone, "rev-parse", "origin/main") == shared != git(clone, "rev-parse", "main")
    monkeypatch.setattr(engine, "advance", real)
    lock.unlink()
    team("instance-4", "sync")
    assert git(clone, "rev-parse", "main") == git(team.remote, "rev-parse", "main") == shared, "no merge"
    queue = git(team.remote, "show", "main:coordination/task-queue.json")
    assert queue.count('"title": "Second"') == 1
