"""A clone joins on the coordination branch's tip, not its history: `git clone --single-branch`
then `coord install` fetches the one commit the commands need, and coordinates from there."""

from __future__ import annotations

from pathlib import Path

from testing.repos import bare_remote
from testing.repos import git
from tests.conftest import Coord

STORE = "coord"


def _ok(coord: Coord, where: Path, *args: str) -> str:
    result = coord(where, *args)
    assert result.code == 0, result
    return result.out


def _founded(tmp_path: Path, coord: Coord, events: int) -> tuple[Path, Path]:
    """A remote whose store has `events` commits after the seed, and the clone that made them."""
    remote = bare_remote(tmp_path / "remote.git")
    first = tmp_path / "first"
    git(tmp_path, "init", "-q", "-b", "main", str(first))
    _ok(coord, first, "init", "--example")
    git(first, "remote", "add", "origin", str(remote))
    git(first, "push", "-q", "--no-verify", "origin", "main", STORE)
    for n in range(events):
        _ok(coord, first, "--as", "instance-2", "task", "add", f"work {n}")
    return remote, first


def test_a_single_branch_clone_fetches_the_tip_of_the_store_alone(tmp_path: Path, coord: Coord) -> None:
    remote, _ = _founded(tmp_path, coord, 4)
    joiner = tmp_path / "joiner"
    git(tmp_path, "clone", "-q", "--single-branch", str(remote), str(joiner))
    said = _ok(coord, joiner, "install")
    assert f"refs/remotes/origin/{STORE}" in said
    assert f"judged the tip of origin/{STORE}, which this shallow join fetched without its history" in said
    assert git(joiner, "config", "coord.branch") == STORE
    assert git(joiner, "rev-parse", f"origin/{STORE}") == git(remote, "rev-parse", STORE)
    assert git(joiner, "rev-list", "--count", f"origin/{STORE}") == "1", "the tip, without its history"
    assert "work 3" in _ok(coord, joiner, "task", "list")
    assert "nothing to do" in _ok(coord, joiner, "install"), "installed once: nothing fetched again"


def test_a_clone_that_joined_on_the_tip_steps_merges_and_checks_what_came_since(tmp_path: Path, coord: Coord) -> None:
    remote, first = _founded(tmp_path, coord, 2)
    joiner = tmp_path / "joiner"
    git(tmp_path, "clone", "-q", "--single-branch", str(remote), str(joiner))
    _ok(coord, joiner, "install")
    joined = git(joiner, "rev-parse", f"origin/{STORE}")
    _ok(coord, first, "--as", "instance-2", "msg", "send", "--to", "instance-1", "--subject", "s", "--body", "b")
    _ok(coord, joiner, "--as", "instance-1", "task", "add", "from the joiner", "--no-sync")
    _ok(coord, joiner, "--as", "instance-1", "sync")  # a merge: its base is the commit it joined on
    tip = git(remote, "rev-parse", STORE)
    assert git(joiner, "rev-parse", STORE) == tip
    assert len(git(remote, "rev-list", "--parents", "-n1", tip).split()) == 3, "a merge of both sides"
    _ok(coord, joiner, "check", "--range", f"{joined}..{STORE}")
    assert "from the joiner" in _ok(coord, first, "--as", "instance-2", "task", "list")


def test_a_full_clone_and_a_store_on_the_code_branch_fetch_nothing_more(tmp_path: Path, coord: Coord) -> None:
    remote, _ = _founded(tmp_path, coord, 1)
    full = tmp_path / "full"
    git(tmp_path, "clone", "-q", str(remote), str(full))
    assert "refs/remotes/origin/" not in _ok(coord, full, "install")
    assert not (full / ".git" / "shallow").exists()
    code = bare_remote(tmp_path / "code.git")
    alone = tmp_path / "alone"
    git(tmp_path, "init", "-q", "-b", "main", str(alone))
    _ok(coord, alone, "init", "--example", "--branch", "main")
    git(alone, "push", "-q", "--no-verify", str(code), "main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "--single-branch", str(code), str(other))
    _ok(coord, other, "install")
    assert git(other, "config", "coord.branch") == "main"
    assert not (other / ".git" / "shallow").exists()


def test_a_clone_that_joined_on_the_tip_takes_a_merge_of_lines_that_forked_before_it_joined(
    tmp_path: Path, coord: Coord
) -> None:
    """Two clones' lines fork from a commit below the tip this clone joined on; their merge is
    judged against what the driver makes from their base, which this clone never fetched: it
    fetches as much history as that takes, instead of calling the merge one of unrelated histories."""
    remote, first = _founded(tmp_path, coord, 1)
    second = tmp_path / "second"
    git(tmp_path, "clone", "-q", str(remote), str(second))
    _ok(coord, second, "install")
    git(second, "config", "coord.fetchTimeout", "0.0001")  # its step is made on the view here, behind
    _ok(coord, first, "--as", "instance-2", "msg", "send", "--to", "all", "--subject", "s", "--body", "b", "--sync")
    joiner = tmp_path / "joiner"
    git(tmp_path, "clone", "-q", "--single-branch", str(remote), str(joiner))
    _ok(coord, joiner, "install")
    assert (joiner / ".git" / "shallow").exists()
    _ok(coord, second, "--as", "instance-1", "task", "add", "from before the join", "--no-sync")
    _ok(coord, second, "--as", "instance-1", "sync")  # a merge whose base is below the joiner's tip
    tip = git(remote, "rev-parse", STORE)
    assert len(git(remote, "rev-list", "--parents", "-n1", tip).split()) == 3, "a merge of both sides"
    _ok(coord, joiner, "--as", "instance-3", "sync")
    assert git(joiner, "rev-parse", f"origin/{STORE}") == tip
    assert "from before the join" in _ok(coord, joiner, "task", "list")
    _ok(coord, joiner, "--as", "instance-3", "checkin")
