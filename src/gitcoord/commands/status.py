"""`coord status`: the board at a glance."""

from __future__ import annotations

import itertools
from pathlib import Path

from gitcoord import model
from gitcoord import render
from gitcoord import validation
from gitcoord import views
from gitcoord import workspace
from gitcoord.output import Output


def status(*, cwd: Path, as_instance: str | None, out: Output) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    snap = workspace.snapshot(ws, strict=False)
    snap.prefetch(list(model.FILES))
    with validation.reading(snap):
        data = {"branch": ws.branch, "commit": snap.commit, **views.board(snap)}
        out.emit(data, itertools.chain([f"On {ws.branch} at {str(snap.commit)[:12]}"], render.board(data)))
        return 0
