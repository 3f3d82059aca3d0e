"""What the read-only commands share: the store of this clone, and a record that must exist."""

from __future__ import annotations

from pathlib import Path

from gitcoord import model
from gitcoord import records
from gitcoord import workspace
from gitcoord.errors import NotFound
from gitcoord.model import Record
from gitcoord.records import State
from gitcoord.snapshot import Snapshot


def open_store(cwd: Path, as_instance: str | None, *files: str) -> tuple[workspace.Workspace, Snapshot]:
    """The workspace and its store, with `files` (what the command reads) fetched in one git call."""
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    snap = workspace.snapshot(ws, strict=False)
    snap.prefetch(list(files or model.FILES))
    return ws, snap


def require(state: State, kind: str, rid: str) -> Record:
    found = records.get(state, kind, rid)
    if found is None:
        raise NotFound(f"there is no {kind} {rid!r}", details={"record": rid})
    return found
