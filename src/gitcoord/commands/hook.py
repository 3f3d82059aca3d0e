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
    staged = git.staged_names(ws.root, [model.COORD_DIR])
    if not staged or ws.identity is None:
        return 0
    path = message_file if message_file.is_absolute() else ws.root / message_file
    text = path.read_text("utf-8", "replace")
    # As `coord check` reads it: a Coord-Instance line outside the trailer block names no one.
    if any(key.lower() == events.INSTANCE.lower() for key, _ in git.message_trailers(ws.root, path)):
        return 0
    if text and not text.endswith("\n"):
        # git writes MERGE_MSG without a final newline, and interpret-trailers would then
        # glue the trailer onto the subject instead of giving it a paragraph of its own.
        path.write_text(text + "\n", "utf-8")
    git.interpret_trailers(ws.root, path, {events.INSTANCE: ws.identity})
    return 0


def pre_receive(*, cwd: Path, text: str) -> int:
    """The server's gate (installed by `coord install --server`): what it refuses goes to the pusher."""
    import time

    import click

    from gitcoord.commands import gate

    code, lines = gate.pre_receive(cwd=cwd, text=text, now=time.time())
    for line in lines:
        click.echo(line, err=True)
    return code
