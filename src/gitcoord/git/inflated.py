"""Large blobs kept inflated beside the object store: reading the store's tip then costs a file
read, as reading the files on disk would, not zlib inflating megabytes again for every command.

A copy is named by its path and blob id, so it is that blob or nothing: never stale. Only blobs
of `LARGE` bytes or more are kept (a smaller one inflates in less time than a file takes to
open), and the latest `KEPT` versions of each path: a newer one replaces the oldest. Written
aside and renamed into place, a copy is whole or absent; one whose size is not the blob's is passed over. Nothing here
is needed: a copy that cannot be read or written leaves the reading to git.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from gitcoord.git.objects import Info
from gitcoord.git.objects import object_infos
from gitcoord.git.objects import read_blobs
from gitcoord.git.repo import Repo

LARGE = 256 * 1024
KEPT = 2  # versions of a path: a sync reads the tip it starts from and the one it ends at
DIRECTORY = "coord-inflated"  # in the repository's common directory, shared by its worktrees
_ABANDONED = 600  # seconds after which a copy being written was left by a process that died


def read_tip_blobs(repo: Repo, specs: Sequence[str]) -> list[bytes | None]:
    """The contents of `COMMIT:PATH` specs (None where there is none), large ones from their copies."""
    infos = object_infos(repo.root, specs)
    folder = repo.common_dir / DIRECTORY
    found: list[bytes | None] = [None] * len(specs)
    wanted: list[tuple[int, Info]] = []
    for i, (spec, info) in enumerate(zip(specs, infos, strict=True)):
        if info is None or info.type != "blob":
            continue
        copy = _copy(folder, _name(spec, info)) if info.size >= LARGE else None
        if copy is not None and len(copy) == info.size:
            found[i] = copy
        else:
            wanted.append((i, info))
    for (i, info), data in zip(wanted, read_blobs(repo.root, [info.sha for _, info in wanted]), strict=True):
        found[i] = data
        if data is not None and info.size >= LARGE:
            _keep(folder, _name(specs[i], info), data)
    return found


def _name(spec: str, info: Info) -> str:
    path = spec.split(":", 1)[1]
    return f"{path.replace('/', '%')}@{info.sha}"


def _copy(folder: Path, name: str) -> bytes | None:
    try:
        return (folder / name).read_bytes()
    except OSError:
        return None


def _keep(folder: Path, name: str, data: bytes) -> None:
    """`data` as the copy `name`, replacing the path's oldest version (and what a dead writer left)."""
    path = name.rsplit("@", 1)[0]
    try:
        folder.mkdir(exist_ok=True)
        fd, scratch = tempfile.mkstemp(dir=folder, prefix=".new-")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(scratch, folder / name)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(scratch)
        return
    now = time.time()
    versions: list[tuple[float, Path]] = []
    for other in folder.iterdir():
        with contextlib.suppress(OSError):
            if other.name.rsplit("@", 1)[0] == path and other.name != name:
                versions.append((other.stat().st_mtime, other))
            elif other.name.startswith(".new-") and now - other.stat().st_mtime > _ABANDONED:
                other.unlink()
    for _, older in sorted(versions, reverse=True)[KEPT - 1 :]:
        with contextlib.suppress(OSError):
            older.unlink()
