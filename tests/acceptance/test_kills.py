"""A step killed at chosen instants: before or after each git command that writes, in both layouts.

The kill comes from a `git` on PATH that SIGKILLs the coord process which started it (the
first time it sees the chosen command): the real coord, the real git, a real kill. Whatever
the instant, the next coord commands work, the checkout holds no half-applied step, and the
clones agree, with every commit on the shared branch judged good.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from testing.repos import bare_remote
from testing.repos import git

from gitcoord import model
from gitcoord.git import clean_env

WRAPPER = """#!{python}
import os, signal, subprocess, sys
args = sys.argv[1:]
i = 0
while i < len(args) and args[i].startswith("-"):
    i += 2 if args[i] in ("-c", "-C") else 1
command = args[i] if i < len(args) else ""
marker = os.environ["COORD_KILL_MARK"]
chosen = command == os.environ["COORD_KILL_ON"] and not os.path.exists(marker)
if chosen:
    open(marker, "w").close()
if chosen and os.environ["COORD_KILL_WHEN"] == "before":
    os.kill(os.getppid(), signal.SIGKILL)
    sys.exit(1)
code = subprocess.run([{git!r}, *args]).returncode
if chosen:
    os.kill(os.getppid(), signal.SIGKILL)
sys.exit(code)
"""
POINTS = ("hash-object", "commit-tree", "update-ref", "push")


def _coord(clone: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitcoord", "-C", str(clone), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**clean_env(), **(env or {})},
    )


def _ok(clone: Path, *args: str) -> str:
    done = _coord(clone, *args)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


@pytest.fixture(params=["coord", "main"], ids=["own-branch", "code-branch"])
def clones(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path, str]:
    branch: str = request.param
    remote = bare_remote(tmp_path / "remote.git")
    one, two = tmp_path / "one", tmp_path / "two"
    git(tmp_path, "init", "-q", "-b", "main", str(one))
    _ok(one, "init", "--example", "--branch", branch)
    git(one, "remote", "add", "origin", str(remote))
    git(one, "push", "-q", "--no-verify", "origin", "main")
    _ok(one, "--as", "instance-1", "sync")
    git(tmp_path, "clone", "-q", str(remote), str(two))
    _ok(two, "install", "--as", "instance-2")
    return one, two, branch


def _killer(tmp_path: Path, point: str, when: str) -> tuple[dict[str, str], Path]:
    """The environment that has coord killed before or after its first `git point`, and the mark it leaves."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(WRAPPER.format(python=sys.executable, git=shutil.which("git")))
    wrapper.chmod(0o755)
    mark = tmp_path / "killed"
    kill = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "COORD_KILL_ON": point,
        "COORD_KILL_WHEN": when,
        "COORD_KILL_MARK": str(mark),
    }
    return kill, mark


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("point", POINTS)
def test_a_step_killed_at_any_git_command_leaves_clones_that_work(
    clones: tuple[Path, Path, str], tmp_path: Path, point: str, when: str
) -> None:
    one, two, branch = clones
    kill, mark = _killer(tmp_path, point, when)
    step = ("--as", "instance-2", "msg", "send", "--to", "all", "--subject", "killed?", "--body", "b", "--sync")
    killed = _coord(two, *step, env=kill)
    assert mark.exists(), f"the step ran no `git {point}`"
    assert killed.returncode == -9, (killed.returncode, killed.stderr)
    # The next commands work, and the checkout holds nothing half-applied.
    assert "instance-2" in _ok(two, "status")
    _ok(two, "--as", "instance-2", "msg", "send", "--to", "all", "--subject", "again", "--body", "b", "--sync")
    assert git(two, "status", "--porcelain", "--untracked-files=no") == ""
    _ok(two, "validate")
    # The clones agree, and the shared history is good from its root.
    _ok(one, "--as", "instance-1", "sync")
    assert git(one, "rev-parse", f"origin/{branch}") == git(two, "rev-parse", f"origin/{branch}")
    root = git(one, "rev-list", "--max-parents=0", f"origin/{branch}").splitlines()[0]
    _ok(one, "check", "--range", f"{root}..origin/{branch}")
    subjects = git(one, "log", "--format=%s", f"origin/{branch}")
    assert "again" in subjects
    assert subjects.count("killed?") <= 1, "a step lands once, or not at all"


@pytest.mark.parametrize("then", ["sync", "step-then-sync"])
def test_a_step_made_again_and_killed_once_its_push_landed_lands_once(
    clones: tuple[Path, Path, str], tmp_path: Path, then: str
) -> None:
    """The remote moved, so the step is made again on its tip and pushed: killed the moment the push
    returns, before the branch here follows, the next sync takes the remote's line, not a merge
    of the step with itself; nor does a step committed here on top of it first (not shared)
    bring it in twice."""
    one, two, branch = clones
    _ok(one, "--as", "instance-1", "msg", "send", "--to", "all", "--subject", "first", "--body", "b", "--sync")
    git(two, "config", "coord.fetchTimeout", "0.0001")  # the step is made on the view here, behind the remote
    kill, mark = _killer(tmp_path, "push", "after")
    step = ("--as", "instance-2", "msg", "send", "--to", "all", "--subject", "killed?", "--body", "b", "--sync")
    killed = _coord(two, *step, env=kill)
    assert mark.exists(), "the step pushed nothing"
    assert killed.returncode == -9, (killed.returncode, killed.stderr)
    shared = git(two, "log", "--format=%s", str(remote_tip(two, branch)))
    assert shared.count("killed?") == 1, "the step made again reached the remote before the kill"
    if then == "step-then-sync":
        _ok(two, "--as", "instance-2", "msg", "send", "--to", "all", "--subject", "after", "--body", "b", "--no-sync")
    _ok(two, "--as", "instance-2", "sync")
    _ok(one, "--as", "instance-1", "sync")
    subjects = git(one, "log", "--format=%s", f"origin/{branch}")
    assert subjects.count("killed?") == 1, subjects
    assert subjects.count("after") == (then == "step-then-sync"), subjects
    assert [m["subject"] for m in json.loads(_ok(one, "msg", "list", "--json"))["data"]].count("killed?") == 1
    assert git(two, "rev-parse", branch) == git(one, "rev-parse", f"origin/{branch}")


def remote_tip(clone: Path, branch: str) -> str:
    return git(clone, "ls-remote", "origin", f"refs/heads/{branch}").split()[0]


def _on_the_code_branch(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A remote with the store on its code branch, the clone that made it, and one more joined."""
    remote = bare_remote(tmp_path / "remote.git")
    one, two = tmp_path / "one", tmp_path / "two"
    git(tmp_path, "init", "-q", "-b", "main", str(one))
    _ok(one, "init", "--example", "--branch", "main")
    git(one, "remote", "add", "origin", str(remote))
    git(one, "push", "-q", "--no-verify", "origin", "main")
    git(tmp_path, "clone", "-q", str(remote), str(two))
    _ok(two, "install", "--as", "instance-2")
    return remote, one, two


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("point", ["commit-tree", "push", "update-ref", "config"])
def test_a_migrate_killed_at_any_git_command_is_finished_by_the_next(tmp_path: Path, point: str, when: str) -> None:
    """Killed anywhere, `coord migrate` leaves a clone whose next `coord migrate` finishes the move
    (or makes it afresh): the remote ends with the store on its own branch and none on the code
    branch, never a code branch without the store and no store branch."""
    remote, one, two = _on_the_code_branch(tmp_path)
    kill, mark = _killer(tmp_path, point, when)
    killed = _coord(one, "--as", "human", "migrate", "--branch", "coord", env=kill)
    assert mark.exists(), f"migrate ran no `git {point}`"
    assert killed.returncode == -9, (killed.returncode, killed.stderr)
    _ok(one, "--as", "human", "migrate", "--branch", "coord")
    assert git(one, "config", "coord.branch") == "coord"
    heads = git(remote, "for-each-ref", "--format=%(refname)", "refs/heads/").split()
    assert heads == ["refs/heads/coord", "refs/heads/main"], heads
    assert "MOVED.md" in git(remote, "ls-tree", "--name-only", "main:coordination").split()
    assert model.REGISTRY in git(remote, "ls-tree", "--name-only", "coord:coordination").split()
    _ok(two, "install", "--as", "instance-2")
    _ok(two, "--as", "instance-2", "checkin")
    root = git(one, "rev-list", "--max-parents=0", "origin/coord").splitlines()[0]
    _ok(one, "check", "--range", f"{root}..origin/coord")


def test_an_install_killed_while_it_carries_steps_over_carries_them_the_next_time(tmp_path: Path) -> None:
    """After a migrate, `coord install` makes again on the store's new branch the steps this clone
    had not shared on the old one. Killed once it has chosen the new branch and before it carried
    them, the next install still knows where they were, and carries them."""
    _, one, two = _on_the_code_branch(tmp_path)
    _ok(two, "--as", "instance-2", "msg", "send", "--to", "all", "--subject", "unshared", "--body", "b", "--no-sync")
    _ok(one, "--as", "human", "migrate", "--branch", "coord")
    kill, mark = _killer(tmp_path, "commit-tree", "before")
    killed = _coord(two, "install", "--as", "instance-2", env=kill)
    assert mark.exists(), "install made no step again"
    assert killed.returncode == -9, (killed.returncode, killed.stderr)
    assert git(two, "config", "coord.branch") == "coord", "killed after it chose the new branch"
    again = _ok(two, "install", "--as", "instance-2")
    assert "carried over to coord 1 step(s) not shared on main" in again, again
    _ok(two, "--as", "instance-2", "sync")
    assert "unshared" in git(two, "log", "--format=%s", "origin/coord")
