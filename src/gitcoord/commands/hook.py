"""`coord hook NAME`: what git's own hooks call (installed by `coord install`)."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
from collections.abc import Iterator
from collections.abc import Sequence
from pathlib import Path

import click

from gitcoord import events
from gitcoord import git
from gitcoord import hooks
from gitcoord import model
from gitcoord import workspace


def prepare_commit_msg(*, cwd: Path, as_instance: str | None, message_file: Path) -> int:
    """Name the acting instance in a commit that changes coordination files, for `coord check`:
    against HEAD, or in a merge against the side merged in (a conflict resolved to this side's
    records changes nothing against HEAD, yet the merge commit changes the other side's store)."""
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    merging = git.rev_parse(ws.root, "MERGE_HEAD")
    sides = [None, *([merging] if merging else [])]
    if ws.identity is None or not any(git.staged_names(ws.root, [model.COORD_DIR], against=s) for s in sides):
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


ZEROS = "0" * 40  # git's name for no commit, on a pre-push line: a branch created or deleted


def run_checks(*, cwd: Path, stage: str, args: Sequence[str], text: str) -> int:
    """The coordination hooks of `stage` (`hooks.HOOKS`), each where its files changed, run as
    pre-commit runs them (their entries, a pushed range as PRE_COMMIT_FROM_REF/TO_REF), but by
    this gitcoord: nothing of the checkout decides what runs. Non-zero when one fails."""
    from gitcoord.cli import main
    from gitcoord.commands import check  # here: the trailer hook runs at every commit and needs none of it

    root = git.discover(cwd).root
    runs: list[tuple[set[str], dict[str, str]]] = []
    if stage == "pre-push":
        # git's lines: "<local ref> <local sha> <remote ref> <remote sha>"; the hook script adds a
        # newline, so a push that updates nothing gives a blank one.
        for line in (line for line in text.splitlines() if line.strip()):
            _, local, _, remote = line.split()
            if local == ZEROS:
                continue  # a deletion: nothing is pushed to check
            base = remote if remote != ZEROS and git.rev_parse(root, remote) else ZEROS
            pushed = {"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": local}
            runs.append((git.paths_changed_by(root, check.revisions_of(f"{base}..{local}")), pushed))
    else:
        # As pre-commit chooses files: a deletion alone (a code branch leaving the store) runs no hook.
        runs.append((set(git.staged_names(root, [], deleted=False)), {}))
    failed = []
    for changed, env in runs:
        for hook in (h for h in hooks.HOOKS if stage in h.stages):
            if not any(re.search(hook.files, path) for path in changed):
                continue
            with _environment(env):
                code = main(["-C", str(root), *shlex.split(hook.entry)[1:]])
            if code != 0:
                failed.append(hook.name)
    for name in failed:
        click.echo(f"gitcoord {stage} hook: {name}: failed", err=True)
    return 1 if failed else 0


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
