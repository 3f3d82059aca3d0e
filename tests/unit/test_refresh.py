"""Fetch before reading (`refresh`), and the git command lines it needs, with real git and a bare remote."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from testing.repos import bare_remote
from testing.repos import commit_all
from testing.repos import git as sh
from testing.repos import make_repo

from gitcoord import git
from gitcoord import refresh
from gitcoord import workspace

MAIN = git.Ref("refs/heads/main")
TRACKING = git.Ref("refs/remotes/origin/main")


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    remote = bare_remote(tmp_path / "remote.git")
    first = make_repo(tmp_path / "first")
    (first / "a.txt").write_text("one\n")
    commit_all(first, "one")
    sh(first, "remote", "add", "origin", str(remote))
    sh(first, "push", "-q", "origin", "main")
    return remote


def clone(remote: Path, path: Path) -> Path:
    sh(path.parent, "clone", "-q", str(remote), str(path))
    return path


def push_one(tmp_path: Path, remote: Path, text: str) -> str:
    """Another clone pushes a commit; its sha."""
    other = tmp_path / f"other-{text}"
    if not other.exists():
        clone(remote, other)
    sh(other, "pull", "-q", "--ff-only")
    (other / "a.txt").write_text(text + "\n")
    sha = commit_all(other, text)
    sh(other, "push", "-q", "origin", "main")
    return sha


def test_fetch_within_stops_a_remote_that_does_not_answer(tmp_path: Path, remote: Path) -> None:
    here = clone(remote, tmp_path / "here")
    sh(here, "config", "remote.origin.uploadpack", "sleep 30; git-upload-pack")
    began = time.monotonic()
    with pytest.raises(git.TimedOut) as caught:
        git.fetch_within(here, "origin", MAIN, TRACKING, timeout=0.5)
    assert time.monotonic() - began < 15
    assert "no answer within 0.5 s" in caught.value.stderr
    with pytest.raises(git.TimedOut):
        git.ls_remote(here, "origin", MAIN, timeout=0.5)


def test_ls_remote_says_where_a_branch_is_and_remote_url_where_the_remote_is(tmp_path: Path, remote: Path) -> None:
    here = clone(remote, tmp_path / "here")
    assert git.ls_remote(here, "origin", MAIN, timeout=30) == sh(remote, "rev-parse", "main")
    assert git.ls_remote(here, "origin", git.Ref("refs/heads/nothing"), timeout=30) is None
    assert git.remote_url(here, "origin") == str(remote)
    assert git.remote_url(here, "upstream") is None
    sh(here, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    with pytest.raises(git.FetchFailed):
        git.ls_remote(here, "origin", MAIN, timeout=30)
    with pytest.raises(git.FetchFailed):
        git.fetch_within(here, "origin", MAIN, TRACKING, timeout=30)
    assert git.commit_date(here, "HEAD").startswith(sh(here, "log", "-1", "--format=%cI")[:10])


def test_a_branch_nobody_checked_out_is_fast_forwarded(tmp_path: Path, remote: Path) -> None:
    here = clone(remote, tmp_path / "here")
    sh(here, "switch", "-q", "-c", "feature")
    pushed = push_one(tmp_path, remote, "two")
    fresh = refresh.refresh(workspace.open_workspace(here), timeout=30)
    assert (fresh.fetched, fresh.problem, fresh.commit, fresh.local) == (True, None, pushed, pushed)
    assert sh(here, "rev-parse", "main") == pushed
    assert fresh.committed == sh(here, "log", "-1", "--format=%cI", pushed)
    assert refresh.describe(fresh) == []


def test_a_checked_out_branch_is_read_at_the_remote_tip_and_left_alone(tmp_path: Path, remote: Path) -> None:
    here = clone(remote, tmp_path / "here")
    before = sh(here, "rev-parse", "main")
    pushed = push_one(tmp_path, remote, "two")
    fresh = refresh.refresh(workspace.open_workspace(here), timeout=30)
    assert (fresh.commit, fresh.local, fresh.tracking) == (pushed, before, pushed)
    assert sh(here, "rev-parse", "main") == before
    assert (here / "a.txt").read_text() == "one\n"
    assert sh(here, "status", "--porcelain") == ""


def test_unshared_commits_are_read_here_and_said(tmp_path: Path, remote: Path) -> None:
    here = clone(remote, tmp_path / "here")
    (here / "b.txt").write_text("mine\n")
    mine = commit_all(here, "mine")
    fresh = refresh.refresh(workspace.open_workspace(here), timeout=30)
    assert (fresh.commit, fresh.unshared, fresh.missing) == (mine, 1, 0)
    assert refresh.describe(fresh) == ["1 commit(s) of this clone are not shared yet; `coord sync` shares them"]
    push_one(tmp_path, remote, "two")
    diverged = refresh.refresh(workspace.open_workspace(here), timeout=30)
    assert (diverged.commit, diverged.unshared, diverged.missing) == (mine, 1, 1)
    assert "origin has 1 commit(s) this view lacks" in refresh.describe(diverged)[0]


def test_a_failed_fetch_reads_this_clone_and_says_how_old_it_is(tmp_path: Path, remote: Path) -> None:
    here = clone(remote, tmp_path / "here")
    sh(here, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    fresh = refresh.refresh(workspace.open_workspace(here), timeout=30)
    assert not fresh.fetched
    assert fresh.problem is not None
    assert fresh.problem.startswith("cannot fetch from origin: ")
    tip = sh(here, "rev-parse", "main")
    assert refresh.describe(fresh) == [
        f"{fresh.problem}; this is this clone's view as of {tip[:12]}, committed {fresh.committed}"
    ]
    assert fresh.as_data()["fetched"] is False


def test_without_a_remote_there_is_nothing_to_fetch_or_say(tmp_path: Path) -> None:
    alone = make_repo(tmp_path / "alone")
    (alone / "a.txt").write_text("one\n")
    tip = commit_all(alone, "one")
    ws = workspace.open_workspace(alone)
    fresh = refresh.refresh(ws, timeout=30)
    assert (fresh.remote, fresh.commit, fresh.committed, refresh.describe(fresh)) == (None, tip, None, [])
    assert not refresh.has_remote(ws)


def test_the_timeout_is_the_clone_s_own(tmp_path: Path, remote: Path) -> None:
    here = clone(remote, tmp_path / "here")
    assert refresh.timeout(workspace.open_workspace(here)) == refresh.TIMEOUT
    for value, expected in (("0.5", 0.5), ("soon", refresh.TIMEOUT), ("-1", refresh.TIMEOUT)):
        sh(here, "config", "coord.fetchTimeout", value)
        assert refresh.timeout(workspace.open_workspace(here)) == expected
    sh(here, "config", "remote.origin.uploadpack", "sleep 30; git-upload-pack")
    fresh = refresh.refresh(workspace.open_workspace(here), timeout=0.5)
    assert fresh.problem == "origin did not answer within 0.5 s"


def test_a_remote_without_the_branch_yet_is_no_failure(tmp_path: Path) -> None:
    empty = bare_remote(tmp_path / "empty.git")
    here = make_repo(tmp_path / "here")
    (here / "a.txt").write_text("one\n")
    tip = commit_all(here, "one")
    sh(here, "remote", "add", "origin", str(empty))
    fresh = refresh.refresh(workspace.open_workspace(here), timeout=30)
    assert (fresh.fetched, fresh.problem, fresh.commit) == (True, None, tip)
