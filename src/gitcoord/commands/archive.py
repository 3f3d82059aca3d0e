"""`coord archive`: keep the live files small by moving old closed records to coordination/archive/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gitcoord import clock
from gitcoord import model
from gitcoord import timestamps
from gitcoord import workspace
from gitcoord.commands import step
from gitcoord.commands.lookup import when
from gitcoord.errors import BadUsage
from gitcoord.output import Output
from gitcoord.protocol import archive as protocol


def archive(
    *,
    cwd: Path,
    as_instance: str | None,
    days: int | None,
    before: str | None,
    dry_run: bool,
    sync: bool | None,
    out: Output,
) -> int:
    now = clock.now()
    asked = when(before, option="--before") if before else _days_ago(now, days)
    if not dry_run:
        return step.run(
            lambda s, c: protocol.archive(s, c, before=asked), cwd=cwd, as_instance=as_instance, out=out, sync=sync
        )
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    snap = workspace.snapshot(ws, strict=False)
    cutoff = protocol.until(snap, now, asked)
    chosen = protocol.choose(snap, cutoff)
    counts = {model.COLLECTIONS[f].kind: len(ids) for f, ids in chosen.items()}
    lines = [
        f"would archive, closed before {timestamps.format(cutoff)}: "
        + ", ".join(f"{n} {k}(s)" for k, n in counts.items())
    ]
    out.emit({"before": timestamps.format(cutoff), "would_archive": {k: sorted(v) for k, v in chosen.items()}}, lines)
    for note in protocol.raised(snap, asked, cutoff):
        out.note(note)
    return 0


def _days_ago(now: dt.datetime, days: int | None) -> dt.datetime | None:
    try:
        return None if days is None else now - dt.timedelta(days=days)
    except OverflowError:
        raise BadUsage(f"--older-than {days} reaches back past the year 1") from None
