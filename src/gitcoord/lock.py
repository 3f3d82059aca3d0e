"""The clone's lock: one coord process at a time reads, changes and commits the store.

An flock (msvcrt's lock on Windows) on .git/coord.lock: the operating system drops it when
its process dies, so a killed command never leaves a lock held. While it holds the lock, a
process records itself in the file (pid, host, start time, command), so that a command kept
waiting says whom it waits for, and a record left by a process that died says who that was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from gitcoord.errors import Busy

NAME = "coord.lock"


@contextlib.contextmanager
def hold(common_dir: Path, *, timeout: float = 120.0) -> Iterator[None]:
    """Serialize read-modify-commit among the coord processes of one repository."""
    path = common_dir / NAME
    with open(path, "a+b") as f:
        deadline = time.monotonic() + timeout
        while not _try_lock(f.fileno()):
            if time.monotonic() > deadline:
                raise Busy(f"another coord command has held {path} for {timeout:.0f}s ({holder(path)}); is it stuck?")
            time.sleep(0.01)
        try:
            _write(f, _me())
            yield
        finally:
            _write(f, b"")  # released: what is left in the file is only ever a holder that died
            _unlock(f.fileno())


@contextlib.contextmanager
def attempt(common_dir: Path, name: str) -> Iterator[bool]:
    """Hold the lock file `name` if no one else does, without waiting: yields whether it is held.

    For work that another process already doing it makes unnecessary (the background packer).
    """
    with open(common_dir / name, "a+b") as f:
        held = _try_lock(f.fileno())
        try:
            yield held
        finally:
            if held:
                _unlock(f.fileno())


def _me() -> bytes:
    command = " ".join(["coord", *sys.argv[1:]])
    record = {
        "pid": os.getpid(),
        "host": os.uname().nodename,  # what socket.gethostname() says, without loading sockets
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command if len(command) <= 200 else command[:197] + "...",
    }
    return (json.dumps(record) + "\n").encode("utf-8")


def _write(f: IO[bytes], data: bytes) -> None:
    f.truncate(0)  # the file is opened for appending: after truncating, a write starts it anew
    f.write(data)
    f.flush()


def holder(path: Path) -> str:
    """Who the lock file says holds (or last held) the lock, for people."""
    try:
        record = json.loads(path.read_bytes() or b"null")
    except (OSError, ValueError):  # unreadable (Windows locks the bytes) or half written
        record = None
    if not isinstance(record, dict):
        return "holder unknown"
    return f"pid {record.get('pid')} on {record.get('host')} since {record.get('started')}: {record.get('command')}"


if sys.platform == "win32":  # pragma: no cover (no Windows runner in CI yet)
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
