"""Faults around a step and a sync: kills, stale locks, bad pushes, rewinds — and what each says."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from testing.repos import files_in
from testing.repos import git
from tests.acceptance.test_sync import Team
from tests.conftest import Coord

from gitcoord import checkout
from gitcoord import lock
from gitcoord import maintenance
from gitcoord import model
from gitcoord import sync as engine
from gitcoord import workspace
from gitcoord.errors import ExitCode
from gitcoord.git import Sha


@pytest.fixture
def team(tmp_path: Path, coord: Coord) -> Team:
    return Team(tmp_path, coord, ["instance-1", "instance-2"])


def _hand_commit(clone: Path, change: str, who: str) -> None:
    path = clone / "coordination" / model.MESSAGES
    log = json.loads(path.read_text())
    if change == "delete":
        log["messages"] = []
        log["response_queue"] = []
        path.write_text(json.dumps(log))
    else:
        path.write_text(path.read_text()[:-10])  # no longer parses
    git(clone, "commit", "-qam", f"by hand\n\nCoord-Instance: {who}", "--no-verify")


@pytest.mark.parametrize("change", ["delete", "break"])
def test_sync_judges_what_it_receives_and_keeps_its_good_state(team: Team, change: str) -> None:
    one, two = team.clones["instance-1"], team.clones["instance-2"]
    _hand_commit(one, change, "instance-1")
    git(one, "push", "-q", "--no-verify", "origin", "main")
    bad = git(one, "rev-parse", "HEAD")
    good = git(two, "rev-parse", "main")
    refused = team.coord(two, "sync")
    assert refused.code == 1, refused
    assert f"{bad[:12]} 'by hand' by Test Author <test@example.com>" in refused.err
    assert "This clone keeps its last good state" in refused.err
    assert git(two, "rev-parse", "main") == good, "nothing of the bad commit was taken"
    # The clone keeps working: a step commits here, and says it could not be shared.
    step = team.coord(two, "msg", "send", "--to", "all", "--subject", "s", "--body", "b", "--sync")
    assert step.code == ExitCode.UNSHARED, step
    assert "committed here, but not shared yet" in step.err
    assert git(two, "rev-parse", "main") != good


def test_the_repair_of_a_refused_tip_is_taken_not_reported_as_a_rewind(team: Team) -> None:
    """The refusal says the human coordinator pushes the last good commit back; once they have,
    the clones that refused the broken tip go on from there (it was never judged good)."""
    one, two = team.clones["instance-1"], team.clones["instance-2"]
    good = git(one, "rev-parse", "main")
    _hand_commit(one, "break", "instance-1")
    git(one, "push", "-q", "--no-verify", "origin", "main")
    assert team.coord(two, "sync").code == 1, "refused"
    git(one, "push", "-q", "--no-verify", "--force", "origin", f"{good}:main")
    repaired = team.coord(two, "sync")
    assert repaired.code == 0, repaired
    assert "rewound" not in repaired.err
    assert git(two, "rev-parse", "main") == good


def test_sync_shares_no_commit_of_its_own_branch_that_breaks_the_rules(team: Team) -> None:
    """A commit that reached the branch by no step here (a fast-forward to a teammate's branch, a
    reset) is judged before it is pushed, as the pre-push hook a sync does not run would judge it:
    where no gate stands, this clone would otherwise make it the shared state."""
    one = team.clones["instance-1"]
    before = git(team.remote, "rev-parse", "main")
    _hand_commit(one, "delete", "instance-1")
    refused = team.coord(one, "sync")
    assert refused.code == 1, refused
    assert "holds a commit that breaks the rules, so nothing was pushed" in refused.err, refused.err
    assert "'by hand'" in refused.err
    assert git(team.remote, "rev-parse", "main") == before


def test_sync_judges_again_only_what_no_step_here_made(team: Team) -> None:
    """A step's commit was judged as it was made, and the branch's reflog says a step moved it
    there: sharing it later judges nothing again. A commit on top by any other way is judged."""
    one = team.clones["instance-1"]
    assert team.coord(one, "checkin", "--no-sync").code == 0
    ws = workspace.open_workspace(one)
    step = git(one, "rev-parse", "HEAD")
    assert checkout.made_here(ws, [Sha(step)])
    _hand_commit(one, "delete", "instance-1")
    assert not checkout.made_here(ws, [Sha(git(one, "rev-parse", "HEAD")), Sha(step)])
    refused = team.coord(one, "sync")
    assert refused.code == 1, refused
    assert "holds a commit that breaks the rules, so nothing was pushed" in refused.err, refused.err
    git(one, "reset", "-q", "--hard", step)
    assert team.coord(one, "sync").code == 0


def test_a_rewound_shared_branch_is_reported_and_not_undone(team: Team) -> None:
    one, two = team.clones["instance-1"], team.clones["instance-2"]
    team("instance-1", "checkin", "--sync")
    team("instance-2", "sync")
    dropped = git(two, "rev-parse", "main")
    git(one, "push", "-q", "--no-verify", "--force", "origin", "main~1:main")
    rewound = team.coord(two, "sync")
    assert rewound.code == 1, rewound
    assert f"it had {dropped[:12]}, which it no longer contains" in rewound.err
    assert git(team.remote, "rev-parse", "main") != dropped, "the rewind was not silently undone"
    again = team.coord(two, "sync")
    assert again.code == 1, "and it stays reported until someone decides"
    # A read and doctor say so too, not that this clone has a commit to share.
    read = team.coord(two, "status")
    assert "origin/main was rewound: it lost commits this clone had judged good" in read.err, read
    assert "not shared yet" not in read.err
    checks = {c["name"]: c for c in json.loads(team.coord(two, "doctor", "--json").out)["data"]["checks"]}
    assert not checks["remote"]["ok"]
    assert "was rewound" in checks["remote"]["detail"]
    taken = team.coord(two, "sync", "--accept-rewind")
    assert taken.code == 0, taken
    assert git(two, "rev-parse", "main") == git(team.remote, "rev-parse", "main")
    assert "rewound" not in team.coord(two, "status").err
    # The checkout went back with its branch: nothing the rewind dropped is left staged in it.
    assert git(two, "status", "--porcelain", "--untracked-files=no") == ""
    assert team.coord(two, "checkin").code == 0


def _rewound_under(team: Team, who: str) -> str:
    """A task instance-1 shares, which `who` sees; then the shared branch is forced back before it."""
    task = team("instance-1", "task", "add", "made before the rewind", "--sync").split()[0]
    team(who, "sync")
    git(team.clones["instance-1"], "push", "-q", "--no-verify", "--force", "origin", "main~1:main")
    return task


def test_a_rewind_accepted_keeps_this_clone_s_steps_that_were_never_shared(team: Team) -> None:
    """Made after the rewind (exit 5: committed here, not shared yet), a step is made again on the
    rewound tip and shared: the rewind drops what the remote had, not what this clone made."""
    two = team.clones["instance-2"]
    lost = _rewound_under(team, "instance-2")
    step = team.coord(two, "task", "add", "made here, after the rewind", "--sync")
    assert step.code == ExitCode.UNSHARED, step
    made = step.out.split()[0]
    taken = team.coord(two, "sync", "--accept-rewind")
    assert taken.code == 0, taken
    shared = git(team.remote, "show", "main:coordination/task-queue.json")
    assert made in shared, "the step is shared"
    assert lost not in shared, "the rewind stands"
    assert git(two, "rev-parse", "main") == git(team.remote, "rev-parse", "main")


def test_a_rewind_accepted_sets_aside_and_names_a_step_that_no_longer_applies(team: Team) -> None:
    """A claim of the task the rewind dropped cannot be made again: it is kept under
    refs/coord/dropped/ and named, not lost."""
    two = team.clones["instance-2"]
    lost = _rewound_under(team, "instance-2")
    assert team.coord(two, "task", "claim", lost, "--sync").code == ExitCode.UNSHARED
    claim = git(two, "rev-parse", "main")
    taken = team.coord(two, "sync", "--accept-rewind", "--json")
    assert taken.code == 1, "told: a step of this clone was left out"
    [dropped] = json.loads(taken.out)["data"]["dropped"]
    assert dropped["commit"] == claim
    assert dropped["why"].startswith("not shared before the rewind: "), dropped
    assert git(two, "rev-parse", dropped["kept"]) == claim
    assert git(two, "rev-parse", "main") == git(team.remote, "rev-parse", "main")


@pytest.mark.parametrize("first", [("status",), ("git", "fetch", "-q", "origin")], ids=["a read", "git fetch"])
def test_a_rewind_is_reported_after_a_read_or_a_fetch_moved_the_remote_tracking_ref(
    team: Team, first: tuple[str, ...]
) -> None:
    """A read refreshes the remote-tracking ref, as `git fetch` does; the sync after it still knows
    what the remote held (what it judged good there), and reports the rewind, not undoes it."""
    one, two = team.clones["instance-1"], team.clones["instance-2"]
    team("instance-1", "checkin", "--sync")
    team("instance-2", "sync")
    dropped = git(two, "rev-parse", "main")
    git(one, "push", "-q", "--no-verify", "--force", "origin", "main~1:main")
    if first[0] == "git":
        git(two, *first[1:])
    else:
        assert team.coord(two, *first).code == 0
    rewound = team.coord(two, "sync")
    assert rewound.code == 1, rewound
    assert f"it had {dropped[:12]}, which it no longer contains" in rewound.err
    assert git(team.remote, "rev-parse", "main") != dropped, "the rewind was not silently undone"
    taken = team.coord(two, "sync", "--accept-rewind")
    assert taken.code == 0, taken
    assert team.coord(two, "sync").code == 0, "taken once, for good"


def test_a_rewind_with_a_forged_commit_on_top_is_not_taken_even_when_accepted(team: Team) -> None:
    one, two = team.clones["instance-1"], team.clones["instance-2"]
    team("instance-1", "checkin", "--sync")
    team("instance-2", "sync")
    before = git(two, "rev-parse", "main")
    git(one, "reset", "-q", "--hard", "main~1")
    _hand_commit(one, "delete", "instance-1")
    git(one, "push", "-q", "--no-verify", "--force", "origin", "main")
    taken = team.coord(two, "sync", "--accept-rewind")
    assert taken.code == 1, taken
    assert "'by hand'" in taken.err
    assert git(two, "rev-parse", "main") == before, "judged before the branch went back, and refused"


def test_a_stale_lock_on_the_remote_is_named(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "REMOTE_LOCK_PATIENCE", 0.5)
    lock = team.remote / "refs" / "heads" / "main.lock"
    lock.write_text("")
    result = team.coord(team.clones["instance-1"], "checkin", "--sync")
    assert result.code == ExitCode.UNSHARED, result
    assert f"keeps {lock} locked: a push to it was killed" in result.err


def test_a_stale_lock_on_the_tracking_ref_is_named(team: Team) -> None:
    team("instance-1", "checkin", "--sync")  # the remote moves, so fetching must move the tracking ref
    clone = team.clones["instance-2"]
    lock = clone / ".git" / "refs" / "remotes" / "origin" / "main.lock"
    lock.write_text("")
    result = team.coord(clone, "sync")
    assert result.code == 1, result
    assert f"{lock} exists" in result.err
    assert "if no git command is running in this clone, remove that file" in result.err


def test_a_step_refused_on_a_view_a_stale_lock_kept_behind_names_the_lock(team: Team) -> None:
    """The task is on the shared branch, but a lock left here keeps this clone's branch from
    moving up to it: the step's refusal ("there is no task") is the old view's, and the lock is
    what to fix."""
    task = team("instance-1", "task", "add", "shared meanwhile", "--sync").split()[0]
    clone = team.clones["instance-2"]
    lock = clone / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text("")
    result = team.coord(clone, "--json", "task", "claim", task, "--sync")
    assert result.code == 1, result
    error = json.loads(result.out)["error"]
    assert error["kind"] == "busy", error
    assert error["message"].startswith(f"{lock} stays locked"), error
    assert f"On this clone's older view the step is refused: there is no task {task!r}" in error["message"]
    lock.unlink()
    assert team.coord(clone, "task", "claim", task, "--sync").code == 0


def test_a_stale_lock_on_coord_s_record_of_what_it_judged_fails_nothing(team: Team) -> None:
    """refs/coord/verified/ is coord's bookkeeping: a record that cannot move means the next look
    judges again from the older one, so a step and a sync go on, and doctor names the lock."""
    team("instance-1", "checkin", "--sync")  # something new for the other clone to judge
    clone = team.clones["instance-2"]
    lock = clone / ".git" / "refs" / "coord" / "verified" / "origin" / "main.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")
    step = team.coord(clone, "msg", "send", "--to", "all", "--subject", "s", "--body", "b", "--sync")
    assert step.code == 0, step
    assert team.coord(clone, "sync").code == 0
    checks = {c["name"]: c for c in json.loads(team.coord(clone, "doctor", "--json").out)["data"]["checks"]}
    assert str(lock) in checks["locks"]["detail"]


def test_a_rewind_accepted_under_a_stale_lock_on_coord_s_record_names_the_lock(team: Team) -> None:
    """Taking a rewind moves the record of what was judged back with the branch: a record left
    ahead of it would report the rewind again at every sync, so the lock is named instead."""
    team("instance-1", "checkin", "--sync")
    two = team.clones["instance-2"]
    team("instance-2", "sync")
    git(team.clones["instance-1"], "push", "-q", "--no-verify", "--force", "origin", "main~1:main")
    lock = two / ".git" / "refs" / "coord" / "verified" / "origin" / "main.lock"
    lock.write_text("")
    taken = team.coord(two, "sync", "--accept-rewind")
    assert taken.code == 1, taken
    assert f"{lock} stays locked, so this clone cannot record that it took the rewind" in taken.err
    lock.unlink()
    assert team.coord(two, "sync", "--accept-rewind").code == 0
    assert team.coord(two, "sync").code == 0, "the rewind is taken, and told no more"
    assert git(two, "rev-parse", "main") == git(team.remote, "rev-parse", "main")


def test_a_clone_where_git_knows_no_committer_is_told_so_and_nothing_is_committed(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = team.clones["instance-1"]
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name)
    git(clone, "config", "user.useConfigOnly", "true")  # no guess from the host's name, here or on CI
    git(clone, "config", "user.name", "")
    git(clone, "config", "user.email", "")
    before = files_in(clone), git(clone, "for-each-ref")
    result = team.coord(clone, "checkin")
    assert result.code == 1, result
    assert "git does not know who commits in this clone (no user.name or user.email)" in result.err
    assert "git config user.email EMAIL" in result.err
    assert "sign" not in result.err, "the cause is the identity, not signing"
    assert (files_in(clone), git(clone, "for-each-ref")) == before, "nothing committed, nothing changed"


def test_a_file_git_does_not_track_where_a_step_writes_stops_it_before_anything_moves(team: Team) -> None:
    """Where the store's branch is checked out, a stray file at a path the step adds (an archive
    shard, left by a reset of an earlier archive) would stop the checkout from following a branch
    already moved, and the step said "nothing was committed" of a commit that was there. It is
    refused before the branch moves."""
    clone = team.clones["instance-1"]
    head = git(clone, "rev-parse", "HEAD")
    assert team.coord(clone, "--as", "human", "archive", "--no-sync").code == 0
    shard = next(
        p for p in git(clone, "diff", "--name-only", "--diff-filter=A", "HEAD~1", "HEAD").split() if "archive/" in p
    )
    git(clone, "reset", "-q", "--hard", head)
    (clone / shard).parent.mkdir(parents=True, exist_ok=True)
    (clone / shard).write_text('{"note": "a file of the person\'s own"}\n')
    refused = team.coord(clone, "--as", "human", "archive", "--no-sync")
    assert refused.code == 1, refused
    assert f"holds files git does not track where this step writes ({shard})" in refused.err, refused
    assert git(clone, "rev-parse", "HEAD") == head, "nothing moved"
    assert git(clone, "status", "--porcelain", "--untracked-files=no") == ""
    (clone / shard).unlink()
    assert team.coord(clone, "--as", "human", "archive", "--no-sync").code == 0


def test_a_killed_step_leaves_a_checkout_the_next_command_finishes(team: Team) -> None:
    clone = team.clones["instance-1"]
    old = git(clone, "rev-parse", "HEAD")
    assert team.coord(clone, "checkin").code == 0
    new = git(clone, "rev-parse", "HEAD")
    # As if a step had moved the ref and been killed before the files followed: HEAD at the new
    # commit, index and files as they were, and the journal the step wrote before moving it.
    git(clone, "read-tree", "-m", "-u", new, old)
    journal = checkout._journal(clone / ".git", git_ref := "refs/heads/main")
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(json.dumps({"ref": git_ref, "old": old, "new": new}))
    assert git(clone, "status", "--porcelain", "--untracked-files=no") != ""
    # A person's commit meanwhile would undo the step (HEAD is the step's, the index is not): the
    # hook says what is going on, not that records were deleted.
    person = subprocess.run(
        ["git", "commit", "-qam", "a person's commit"], cwd=clone, capture_output=True, text=True, check=False
    )
    assert person.returncode != 0, person
    assert "a coord step is bringing this checkout up to main" in person.stdout + person.stderr, person
    assert "was deleted" not in person.stdout + person.stderr
    assert git(clone, "rev-parse", "HEAD") == new
    assert team.coord(clone, "task", "ready").code == 0
    assert team.coord(clone, "checkin").code == 0, "the next step finishes the checkout first"
    assert git(clone, "status", "--porcelain", "--untracked-files=no") == ""
    assert not journal.exists()


def test_a_step_waits_for_a_persons_commit_and_both_land(team: Team, tmp_path: Path) -> None:
    """`git commit -a` holds the index while its hooks run; a step waits for it instead of moving
    the branch under it, and both commits land. (A plain `git commit` after `git add` holds no lock
    while its hooks run, which is one reason the store's own branch is the default.)"""
    clone = team.clones["instance-1"]
    hooks = tmp_path / "slow-hooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\nsleep 1.5\n")
    (hooks / "pre-commit").chmod(0o755)
    (clone / "README.md").write_text("code\n")
    git(clone, "add", "README.md")
    git(clone, "commit", "-qm", "readme", "--no-verify")
    (clone / "README.md").write_text("more code\n")

    def person() -> None:
        git(clone, "-c", f"core.hooksPath={hooks}", "commit", "-qam", "a person's commit")

    worker = threading.Thread(target=person)
    worker.start()
    time.sleep(0.5)
    result = team.coord(clone, "checkin")
    worker.join()
    assert result.code == 0, result
    subjects = git(clone, "log", "--format=%s", "-2").splitlines()
    assert set(subjects) == {"a person's commit", "coord(instance): instance-1 checks in"}
    assert git(clone, "status", "--porcelain", "--untracked-files=no") == ""


def test_a_stale_index_lock_is_named_and_nothing_is_committed(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkout, "INDEX_PATIENCE", 0.3)
    clone = team.clones["instance-1"]
    (clone / ".git" / "index.lock").write_text("")
    head, before = git(clone, "rev-parse", "HEAD"), files_in(clone)
    result = team.coord(clone, "checkin")
    assert result.code == 1, result
    assert "index.lock has been held" in result.err
    assert "nothing was committed" in result.err
    assert (git(clone, "rev-parse", "HEAD"), files_in(clone)) == (head, before)


def test_doctor_names_a_lock_left_behind_and_not_coord_s_own(team: Team) -> None:
    """coord's own lock files (the clone's, the background packer's) stay on disk by design."""
    clone = team.clones["instance-1"]
    for own in (lock.NAME, maintenance.LOCK):
        (clone / ".git" / own).write_text("")
    checks = {c["name"]: c for c in json.loads(team.coord(clone, "doctor", "--json").out)["data"]["checks"]}
    assert checks["locks"] == {"name": "locks", "ok": True, "detail": "none held"}
    # git's: told apart from coord's by path, not by name (a branch named coord has refs/heads/coord.lock).
    for held in (".git/index.lock", ".git/refs/heads/coord.lock", ".git/refs/remotes/origin/coord.lock"):
        (clone / held).write_text("")
        checks = {c["name"]: c for c in json.loads(team.coord(clone, "doctor", "--json").out)["data"]["checks"]}
        assert not checks["locks"]["ok"]
        assert str(clone / held) in checks["locks"]["detail"]
        (clone / held).unlink()
    # The remote's, a directory here: a teammate's push holds it for a moment, and is left alone;
    # held past any push (one killed there), it is named, for whoever can reach the server.
    remote = team.remote / "refs" / "heads" / "main.lock"
    remote.write_text("")
    checks = {c["name"]: c for c in json.loads(team.coord(clone, "doctor", "--json").out)["data"]["checks"]}
    assert checks["remote locks"] == {"name": "remote locks", "ok": True, "detail": "none left behind"}
    assert checks["locks"]["ok"], checks["locks"]
    old = time.time() - 2 * engine.REMOTE_LOCK_PATIENCE
    os.utime(remote, (old, old))
    checks = {c["name"]: c for c in json.loads(team.coord(clone, "doctor", "--json").out)["data"]["checks"]}
    assert not checks["remote locks"]["ok"]
    assert f"{remote} (" in checks["remote locks"]["detail"]
    assert "whoever can reach the server removes it, once no push is running there" in checks["remote locks"]["detail"]


def test_the_copies_a_killed_merge_leaves_are_never_added_and_doctor_names_them(team: Team) -> None:
    """git writes the sides of a merge at the checkout's top for the driver to read; a merge (or a
    sync) killed before it removed them leaves them there. Each clone's info/exclude keeps them
    out of a `git add -A`, and doctor says what they are."""
    clone = team.clones["instance-1"]
    checks = {c["name"]: c for c in json.loads(team.coord(clone, "doctor", "--json").out)["data"]["checks"]}
    assert checks["merge leftovers"] == {"name": "merge leftovers", "ok": True, "detail": "none"}
    left = clone / ".merge_file_Ab3xYz"
    left.write_text("{}")  # a copy of a store file, as git wrote it for the driver
    git(clone, "add", "-A")
    assert ".merge_file_" not in git(clone, "status", "--porcelain", "--ignored=no"), "never added"
    checks = {c["name"]: c for c in json.loads(team.coord(clone, "doctor", "--json").out)["data"]["checks"]}
    assert not checks["merge leftovers"]["ok"]
    assert ".merge_file_Ab3xYz" in checks["merge leftovers"]["detail"]
    assert "delete them if no git merge is running" in checks["merge leftovers"]["detail"]
