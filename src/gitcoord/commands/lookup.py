"""What the read-only commands share: the store of this clone, and a record that must exist."""

from __future__ import annotations

from pathlib import Path

from gitcoord import model
from gitcoord import records
from gitcoord import refresh
from gitcoord import workspace
from gitcoord.errors import FatalError
from gitcoord.escape import safe
from gitcoord.model import Record
from gitcoord.output import Output
from gitcoord.records import State
from gitcoord.snapshot import Snapshot


def open_store(cwd: Path, as_instance: str | None, *files: str) -> tuple[workspace.Workspace, Snapshot]:
    """The workspace and its store, with `files` (what the command reads) fetched in one git call."""
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    snap = workspace.snapshot(ws, strict=False)
    snap.prefetch(list(files or model.FILES))
    return ws, snap


def open_fresh(
    cwd: Path, as_instance: str | None, out: Output, *files: str
) -> tuple[workspace.Workspace, Snapshot, refresh.Freshness]:
    """`open_store`, after fetching what the others did (bounded); the reader is told when that failed."""
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    fresh = read_fresh(ws, out)
    snap = workspace.snapshot(ws, strict=False, commit=fresh.commit)
    snap.prefetch(list(files or model.FILES))
    return ws, snap, fresh


def read_fresh(ws: workspace.Workspace, out: Output) -> refresh.Freshness:
    fresh = refresh.refresh(ws, timeout=refresh.timeout(ws))
    tell(out, refresh.describe(fresh))
    return fresh


def tell(out: Output, notes: list[str]) -> None:
    """Notes for the reader, as the commands give them (the one place that writes their prefix)."""
    for text in notes:
        out.note(f"note: {safe(text)}")


def require(state: State, kind: str, rid: str) -> Record:
    found = records.get(state, kind, rid)
    if found is None:
        raise FatalError(f"there is no {kind} {rid!r}")
    return found
