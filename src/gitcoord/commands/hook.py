"""`coord hook NAME`: what git's own hooks call (installed by `coord install` and pre-commit)."""

from __future__ import annotations

from pathlib import Path

from gitcoord import events
from gitcoord import git
from gitcoord import model
from gitcoord import workspace


def prepare_commit_msg(*, cwd: Path, as_instance: str | None, message_file: Path) -> int:
    """Name the acting instance in a commit that changes coordination files, for `coord check`."""
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    staged = git.out(["diff", "--cached", "--name-only", "-z", "--", model.COORD_DIR], ws.root)
    if not staged or ws.identity is None:
        return 0
    path = message_file if message_file.is_absolute() else ws.root / message_file
    if events.INSTANCE in events.trailers(path.read_text("utf-8", "replace")):
        return 0
    git.run(["interpret-trailers", "--in-place", "--trailer", f"{events.INSTANCE}: {ws.identity}", str(path)], ws.root)
    return 0
