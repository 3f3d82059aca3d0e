"""Keeping the clone's object store small, without ever making a step wait for it.

Each step stores every file it changes as a new loose object: a whole compressed copy of
the file (about 1 MB for the M store's message log, 8 MB at L). git packs them only once
some 6,700 have piled up (`gc.auto`); until then the store grows by a copy of a file per
step, and every clone or fetch from it has to compress them all again. So after each step
coord looks at the loose objects (a directory listing, no git process) and, past a
threshold, starts a packer in the background: `git repack --geometric` packs them with
deltas against each other, so that a version of a file costs about what changed in it,
and keeps the number of packs logarithmic. The step has returned by then and holds no
lock; the packer takes a lock of its own, so that two never run at once, and one that
fails leaves the objects loose for the next.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from gitcoord import git
from gitcoord import lock

# A step writes a commit, two or three trees and a blob per file it changes: about 50 steps.
LOOSE_OBJECTS = 256
# Or sooner when the files are big, so that the disk a clone's loose objects take stays bounded.
LOOSE_BYTES = 64 * 2**20
LOCK = "coord-maintenance.lock"


def due(common_dir: Path, *, objects: int | None = None, size: int | None = None) -> bool:
    """Whether the loose objects are past either threshold (by default the ones above)."""
    loose = git.loose_objects(common_dir)
    return loose.objects >= (objects or LOOSE_OBJECTS) or loose.size >= (size or LOOSE_BYTES)


def after_commit(repo: git.Repo, config: Mapping[str, str] | None = None) -> subprocess.Popen[bytes] | None:
    """Start the packer in the background if the loose objects call for it (the process, for tests).

    `config`: the clone's coord.* settings; `coord.maintenance false` leaves the packing to
    git (for a clone that runs `git maintenance` on a schedule of its own). Never fails:
    the step it follows is committed already, and objects left loose are only slower,
    never wrong; the next step tries again.
    """
    if (config or {}).get("coord.maintenance", "").lower() in ("false", "no", "off", "0"):
        return None
    try:
        if not due(repo.common_dir):
            return None
        return start(repo.root)
    except Exception:  # whatever went wrong, the step that called this has succeeded
        return None


def start(root: Path) -> subprocess.Popen[bytes]:
    """`python -m gitcoord.maintenance ROOT`, detached: it outlives the command that started it,
    and neither its output nor a signal to the terminal's process group reaches it."""
    command = [sys.executable, "-m", "gitcoord.maintenance", str(root)]
    quiet = subprocess.DEVNULL
    if sys.platform == "win32":
        flags = subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
        return subprocess.Popen(
            command, cwd=root, stdin=quiet, stdout=quiet, stderr=quiet, env=git.clean_env(), creationflags=flags
        )
    return subprocess.Popen(
        command, cwd=root, stdin=quiet, stdout=quiet, stderr=quiet, env=git.clean_env(), start_new_session=True
    )


def run(root: Path) -> bool:
    """Pack the loose objects now, unless another packer is at it (False then)."""
    repo = git.discover(root)
    with lock.attempt(repo.common_dir, LOCK) as held:
        if not held:
            return False
        git.repack_loose(repo.root)
        git.write_commit_graph(repo.root)
        return True


if __name__ == "__main__":  # pragma: no cover (run as a child process; its coverage is measured there)
    run(Path(sys.argv[1]))
