"""`coord log`: the event log, the coordination commits on the shared branch."""

from __future__ import annotations

from pathlib import Path

from gitcoord import git
from gitcoord import model
from gitcoord import records
from gitcoord import workspace
from gitcoord.output import Output
from gitcoord.output import safe

BY_HAND = "by-hand"  # the event of a commit made without a coord step, which names none


def log(
    *, cwd: Path, as_instance: str | None, out: Output, instance: str | None, subject: str | None, limit: int
) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    subject = _subject(ws, subject)
    # Every commit that changed the store, on every side of each merge: a step, a sync's merge,
    # and a commit by hand (`coord edit`, a conflict settled), which names no event.
    entries = [
        e
        for e in git.log(ws.root, workspace.tip(ws), paths=[model.COORD_DIR], every_side=True)
        if (instance is None or e.trailers.get("Coord-Instance") == instance)
        and (subject is None or e.trailers.get("Coord-Subject") == subject)
    ][:limit]
    data = [
        {
            "commit": e.sha,
            "date": e.date,
            "event": e.trailers.get("Coord-Event", BY_HAND),
            "instance": e.trailers.get("Coord-Instance"),
            "subject": e.trailers.get("Coord-Subject"),
            "summary": e.subject,
        }
        for e in entries
    ]
    out.emit(data, [f"{e.sha[:12]}  {e.date}  {safe(e.subject)}" for e in entries] or ["(no events)"])
    return 0


def _subject(ws: workspace.Workspace, given: str | None) -> str | None:
    """The record id `given` names (or starts), judged by the store at the tip; its prefix says the kind."""
    kind = {"task": "task", "msg": "message", "dec": "decision"}.get((given or "").split("_", 1)[0])
    if given is None or kind is None:
        return given
    return records.resolve(workspace.snapshot(ws, strict=False), kind, given)
