from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from gitcoord import store


def test_write_atomic_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.json"
    store.write_atomic(target, b"one")
    store.write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]


def test_write_atomic_leaves_the_old_file_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.json"
    target.write_bytes(b"old")

    def full(*args: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError, match="No space left"):
        store.write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def _hold(directory: str, log: str, name: str) -> None:
    with store.lock(Path(directory)):
        with open(log, "a") as f:
            f.write(f"{name}+\n")
        time.sleep(0.2)
        with open(log, "a") as f:
            f.write(f"{name}-\n")


def test_the_lock_serializes_processes(tmp_path: Path) -> None:
    log = tmp_path / "log"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hold, args=(str(tmp_path), str(log), str(n))) for n in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    lines = log.read_text().split()
    assert len(lines) == 6
    for i in range(0, 6, 2):  # every hold is entered and left before the next one starts
        assert lines[i][:-1] == lines[i + 1][:-1]
        assert (lines[i][-1], lines[i + 1][-1]) == ("+", "-")


def _die_holding(directory: str) -> None:
    with store.lock(Path(directory)):
        os._exit(1)


def test_a_killed_holder_does_not_leave_the_lock_behind(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=_die_holding, args=(str(tmp_path),))
    p.start()
    p.join()
    with store.lock(tmp_path, timeout=2):
        pass


def test_ensure_lines(tmp_path: Path) -> None:
    path = tmp_path / "attributes"
    assert store.ensure_lines(path, ("a", "b"))
    path.write_text("x\na")
    assert store.ensure_lines(path, ("a", "b"))
    assert path.read_text() == "x\na\nb\n"
    assert not store.ensure_lines(path, ("a", "b"))
