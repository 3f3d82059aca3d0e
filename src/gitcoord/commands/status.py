"""`coord status`: the board at a glance."""

from __future__ import annotations

import itertools
from pathlib import Path

from gitcoord import render
from gitcoord import validation
from gitcoord import views
from gitcoord.commands.lookup import open_fresh
from gitcoord.output import Output


def status(*, cwd: Path, as_instance: str | None, out: Output) -> int:
    ws, snap, fresh = open_fresh(cwd, as_instance, out)
    with validation.reading(snap):
        data = {"branch": ws.branch, "commit": snap.commit, **views.board(snap), "freshness": fresh.as_data()}
        out.emit(data, itertools.chain([f"On {ws.branch} at {str(snap.commit)[:12]}"], render.board(data)))
        return 0
