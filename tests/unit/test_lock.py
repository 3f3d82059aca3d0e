from __future__ import annotations

import json
import multiprocessing
import os
import socket
import time
from pathlib import Path

import pytest

from gitcoord import lock
from gitcoord.errors import FatalError


def _hold(directory: str, log: str, name: str) -> None:
    with lock.hold(Path(directory)):
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
    with lock.hold(Path(directory)):
        os._exit(1)


def test_a_killed_holder_does_not_leave_the_lock_behind(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=_die_holding, args=(str(tmp_path),))
    p.start()
    p.join()
    with lock.hold(tmp_path, timeout=2):
        pass


def test_the_lock_file_names_its_holder_while_held(tmp_path: Path) -> None:
    path = tmp_path / lock.NAME
    with lock.hold(tmp_path):
        record = json.loads(path.read_text())
        assert record["pid"] == os.getpid()
        assert record["host"] == socket.gethostname()
        assert record["command"].startswith("coord")
        assert record["started"].endswith("+00:00")
    assert path.read_bytes() == b"", "released: no holder left named"


def _hold_until(directory: str, started: str, release: str) -> None:
    with lock.hold(Path(directory)):
        Path(started).touch()
        deadline = time.monotonic() + 30
        while not Path(release).exists() and time.monotonic() < deadline:
            time.sleep(0.01)


def test_a_command_kept_waiting_says_whom_it_waits_for(tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    p = multiprocessing.get_context("spawn").Process(
        target=_hold_until, args=(str(tmp_path), str(started), str(release))
    )
    p.start()
    try:
        while not started.exists():
            time.sleep(0.01)
        with (
            pytest.raises(FatalError, match=rf"held .*coord.lock for 0s \(pid {p.pid} on "),
            lock.hold(tmp_path, timeout=0.2),
        ):
            pass
    finally:
        release.touch()
        p.join()
