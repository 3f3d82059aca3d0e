"""`coord install`: what one clone needs beyond the committed files (git keeps it out of git).

A fresh clone runs it once; it is safe to run again. See `clone` for what it sets up.
"""

from __future__ import annotations

from pathlib import Path

from gitcoord import clone
from gitcoord import git
from gitcoord.output import Output


def install(*, cwd: Path, out: Output) -> int:
    changed = clone.set_up(git.discover(cwd))
    out.emit({"changed": changed}, [f"set {c}" for c in changed] or ["already installed; nothing to do"])
    return 0
