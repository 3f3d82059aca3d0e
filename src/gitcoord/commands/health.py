"""`coord health` and `coord reclaim`: the specification's health checks, and stale work back to the queue."""

from __future__ import annotations

from pathlib import Path

from gitcoord import clock
from gitcoord import github
from gitcoord import health
from gitcoord import health_report
from gitcoord import store
from gitcoord import timestamps
from gitcoord import workspace
from gitcoord.commands import step
from gitcoord.errors import FatalError
from gitcoord.output import Output
from gitcoord.protocol import tasks


def run(*, cwd: Path, as_instance: str | None, now: str | None, output_format: str, issue: bool, out: Output) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    try:
        moment = timestamps.moment(now) if now else clock.now()
    except ValueError:
        raise FatalError(f"--now {now!r} is not a timestamp like 2024-01-16T12:00:00Z") from None
    stamp = timestamps.format(moment)
    snap = workspace.snapshot(ws, strict=False)
    with store.reading(snap):
        found = health.findings(snap, moment)
        markdown = health_report.markdown(snap, found, now=stamp, commit=snap.commit)
        if output_format == "json":
            out.emit(health_report.as_data(found, now=stamp, commit=snap.commit))
        elif output_format == "markdown":
            out.emit(None, markdown)
        elif output_format == "github":
            out.emit(None, list(health_report.github(found)))
        else:
            out.emit(None, list(health_report.text(found, now=stamp)))
        if issue:
            title = f"Coordination health: {health_report.summary(found)}"
            out.note(github.track(unhealthy=not health.healthy(found), title=title, body=markdown))
        return 0 if health.healthy(found) else 1


def reclaim(*, cwd: Path, as_instance: str | None, sync: bool | None, out: Output) -> int:
    return step.run(tasks.reclaim, cwd=cwd, as_instance=as_instance, out=out, sync=sync)
