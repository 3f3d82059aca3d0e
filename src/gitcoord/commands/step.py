"""Running one protocol step from the command line: identity, clock, commit, and the report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitcoord import clock
from gitcoord import commit
from gitcoord import ids
from gitcoord import workspace
from gitcoord.output import Output
from gitcoord.output import safe
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.records import State

Build = Callable[[State, Context], Change]


def run(
    build: Build,
    *,
    cwd: Path,
    as_instance: str | None,
    out: Output,
    creates: str | None = None,
    no_commit: bool = False,
) -> int:
    """Apply `build` as one commit and report it. `creates` names the id key of a new record."""
    applied, ws = apply(build, cwd=cwd, as_instance=as_instance, no_commit=no_commit)
    change = applied.change
    where = _where(applied.commit, ws.branch, change)
    if creates and change.record is not None:
        out.emit(change.record, change.record[creates])
        out.note(f"{safe(change.event.summary)} ({where})")
    else:
        out.emit(envelope(applied), [f"{safe(change.event.summary)} ({where})"])
    for note in change.notes:
        out.note(f"note: {safe(note)}")
    return 0


def apply(
    build: Build, *, cwd: Path, as_instance: str | None, no_commit: bool = False
) -> tuple[commit.Applied, workspace.Workspace]:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    now = clock.now()
    ctx = Context(ws.identity, now, ids.maker(now))
    return commit.apply(ws, lambda state: build(state, ctx), no_commit=no_commit), ws


def envelope(applied: commit.Applied) -> dict[str, Any]:
    change = applied.change
    return {
        "event": change.event.name,
        "instance": change.event.actor,
        "subject": change.event.subject,
        "commit": applied.commit,
        "staged": applied.commit is None,
        "record": change.record,
        "notes": list(change.notes),
    }


def _where(sha: str | None, branch: str, change: Change) -> str:
    if sha is None:
        return f"staged, not committed; commit it with:\n  git commit -F- <<'EOF'\n{change.event.message()}EOF"
    return f"{branch} {sha[:12]}"
