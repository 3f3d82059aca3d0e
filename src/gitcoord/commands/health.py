"""`coord health` and `coord reclaim`: the specification's health checks, and stale work back to the queue."""

from __future__ import annotations

from pathlib import Path

from gitcoord import clock
from gitcoord import github
from gitcoord import health as health_checks
from gitcoord import health_report
from gitcoord import timestamps
from gitcoord import validation
from gitcoord import workspace
from gitcoord.commands import step
from gitcoord.commands.lookup import when
from gitcoord.output import Output
from gitcoord.protocol import tasks


def health(*, cwd: Path, as_instance: str | None, out: Output, now: str | None, output_format: str, issue: bool) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    moment = when(now, option="--now") if now else clock.now()
    stamp = timestamps.format(moment)
    snap = workspace.snapshot(ws, strict=False)
    with validation.reading(snap):
        found = health_checks.concerns(snap, moment)
        markdown = health_report.markdown(snap, found, now=stamp, commit=snap.commit)
        if output_format == "json":
            problem = None if health_checks.healthy(found) else health_report.summary(found)
            out.emit(health_report.as_data(found, now=stamp, commit=snap.commit), problem=problem)
        elif output_format == "markdown":
            out.emit(None, markdown)
        elif output_format == "github":
            out.emit(None, list(health_report.workflow_annotations(found)))
        else:
            out.emit(None, list(health_report.text(found, now=stamp)))
        if issue:
            title = f"Coordination health: {health_report.summary(found)}"
            out.note(github.track(unhealthy=not health_checks.healthy(found), title=title, body=markdown))
        return 0 if health_checks.healthy(found) else 1


def reclaim(*, cwd: Path, as_instance: str | None, sync: bool | None, out: Output) -> int:
    return step.run(tasks.reclaim, cwd=cwd, as_instance=as_instance, out=out, sync=sync)
