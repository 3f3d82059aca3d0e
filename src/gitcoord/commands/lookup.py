"""What the read-only commands share: the store of this clone, and a record that must exist."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gitcoord import clock
from gitcoord import model
from gitcoord import records
from gitcoord import refresh
from gitcoord import timestamps
from gitcoord import workspace
from gitcoord.errors import BadUsage
from gitcoord.errors import NotFound
from gitcoord.model import Record
from gitcoord.output import Output
from gitcoord.protocol import no_such
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
    for note in refresh.describe(fresh):
        out.note(note)
    return fresh


def require(state: State, kind: str, rid: str) -> Record:
    """The record `rid` names (an id, or the start of one: `records.resolve`); NotFound if there is none."""
    found = records.get(state, kind, records.resolve(state, kind, rid))
    if found is None:
        raise NotFound(no_such(kind, rid), details={"record": rid})
    return found


def when(text: str, *, option: str) -> dt.datetime:
    """The moment `text` names (`+2h`, a local time, RFC 3339), as of now; a usage error naming `option`."""
    try:
        # A time without a zone is this machine's local time (its rules for that date, DST included).
        return timestamps.given(text, now=clock.now(), local=lambda naive: naive.astimezone())
    except ValueError as e:
        raise BadUsage(f"{option} {text!r}: {e}") from None


def stamp(text: str | None, *, option: str) -> str | None:
    """`when`, as the files write a timestamp (None stays None)."""
    return None if text is None else timestamps.format(when(text, option=option))
