"""The object store stays small: loose objects are packed in the background, and a step never pays for it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from testing.repos import git as sh
from tests.conftest import Coord

from gitcoord import git
from gitcoord import lock
from gitcoord import maintenance


def _loose(repo: Path) -> git.Loose:
    return git.loose_objects(git.discover(repo).common_dir)


def _steps(coord: Coord, repo: Path, n: int) -> None:
    for k in range(n):
        result = coord(
            repo, "--as", "instance-1", "msg", "send", "--to", "instance-2", "--subject", f"n{k}", "--body", "b"
        )
        assert result.code == 0, result


def _count_objects(repo: Path) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in sh(repo, "count-objects", "-v").splitlines())


def test_the_loose_objects_are_counted_as_git_counts_them(seed_repo: Path, coord: Coord) -> None:
    _steps(coord, seed_repo, 3)
    found = _loose(seed_repo)
    assert found.objects == int(_count_objects(seed_repo)["count"]) > 0
    assert found.size > 0


def test_packing_leaves_no_loose_object_and_every_object_readable(seed_repo: Path, coord: Coord) -> None:
    _steps(coord, seed_repo, 5)
    tip = sh(seed_repo, "rev-parse", "HEAD")
    assert maintenance.run(seed_repo)
    assert _loose(seed_repo) == git.Loose(0, 0)
    counts = _count_objects(seed_repo)
    assert counts["count"] == "0"
    assert int(counts["in-pack"]) > 0
    sh(seed_repo, "fsck", "--strict", "--no-dangling")
    assert sh(seed_repo, "rev-parse", "HEAD") == tip
    assert coord(seed_repo, "validate").code == 0
    assert (git.discover(seed_repo).common_dir / "objects" / "info" / "commit-graphs").is_dir()


def test_packs_roll_up_rather_than_pile_up(seed_repo: Path, coord: Coord) -> None:
    for _ in range(6):
        _steps(coord, seed_repo, 2)
        assert maintenance.run(seed_repo)
    # Geometric: each pack at least twice the next one; six small batches leave a few packs, not six.
    assert int(_count_objects(seed_repo)["packs"]) <= 3


def test_a_step_starts_the_packer_only_past_the_threshold_and_does_not_wait_for_it(
    seed_repo: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[subprocess.Popen[bytes]] = []
    real = maintenance.start

    def spy(root: Path) -> subprocess.Popen[bytes]:
        started.append(real(root))
        return started[-1]

    monkeypatch.setattr(maintenance, "start", spy)
    _steps(coord, seed_repo, 2)
    assert started == []  # a handful of loose objects: nothing to do
    monkeypatch.setattr(maintenance, "LOOSE_OBJECTS", _loose(seed_repo).objects + 3)
    _steps(coord, seed_repo, 1)
    assert len(started) == 1
    assert started[0].wait(timeout=120) == 0
    assert _loose(seed_repo).objects == 0
    assert coord(seed_repo, "validate").code == 0


def test_the_bytes_threshold_packs_big_files_sooner(seed_repo: Path) -> None:
    common = git.discover(seed_repo).common_dir
    assert not maintenance.due(common)
    assert maintenance.due(common, objects=10**6, size=1)
    assert maintenance.due(common, objects=1, size=10**12)


def test_a_step_never_fails_because_maintenance_did(
    seed_repo: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(root: Path) -> subprocess.Popen[bytes]:
        raise OSError("no processes left")

    monkeypatch.setattr(maintenance, "LOOSE_OBJECTS", 1)
    monkeypatch.setattr(maintenance, "start", broken)
    _steps(coord, seed_repo, 1)
    monkeypatch.setattr(maintenance, "due", lambda d: 1 / 0)  # a bug in the policy itself
    _steps(coord, seed_repo, 1)
    assert sh(seed_repo, "log", "-1", "--format=%s").startswith("coord(msg): instance-1 tells instance-2")


def test_a_packer_that_fails_leaves_the_objects_loose_and_the_store_whole(
    seed_repo: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    _steps(coord, seed_repo, 2)
    before = _loose(seed_repo)
    sh(seed_repo, "config", "pack.depth", "deep")  # only the packer reads it, and refuses it
    with pytest.raises(git.GitError):
        maintenance.run(seed_repo)
    monkeypatch.setattr(maintenance, "LOOSE_OBJECTS", 1)
    started: list[subprocess.Popen[bytes]] = []
    real = maintenance.start

    def start(root: Path) -> subprocess.Popen[bytes]:
        started.append(real(root))
        return started[-1]

    monkeypatch.setattr(maintenance, "start", start)
    _steps(coord, seed_repo, 1)
    assert started[0].wait(timeout=120) != 0
    assert _loose(seed_repo).objects > before.objects
    assert coord(seed_repo, "validate").code == 0
    sh(seed_repo, "config", "--unset", "pack.depth")
    assert maintenance.run(seed_repo)


def test_two_packers_never_run_at_once(seed_repo: Path, coord: Coord) -> None:
    _steps(coord, seed_repo, 2)
    common = git.discover(seed_repo).common_dir
    with lock.attempt(common, maintenance.LOCK) as held:
        assert held
        assert not maintenance.run(seed_repo)  # another packer is at it: nothing to do
        assert _loose(seed_repo).objects > 0
    assert maintenance.run(seed_repo)


def test_coord_maintenance_false_leaves_packing_to_git(seed_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(maintenance, "LOOSE_OBJECTS", 1)
    repo = git.discover(seed_repo)
    assert maintenance.after_commit(repo, {"coord.maintenance": "false"}) is None
    started = maintenance.after_commit(repo, {})
    assert started is not None
    assert started.wait(timeout=120) == 0
