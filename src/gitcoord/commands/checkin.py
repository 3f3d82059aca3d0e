"""`coord checkin` and `coord checkout`: Protocol 1 and the startup checklist."""

from __future__ import annotations

from pathlib import Path

from gitcoord import model
from gitcoord import report
from gitcoord import sync as sync_engine
from gitcoord import views
from gitcoord import workspace
from gitcoord.commands import step
from gitcoord.commands import sync as sync_command
from gitcoord.escape import safe
from gitcoord.output import Output
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import instances
from gitcoord.records import State


def checkin(*, cwd: Path, as_instance: str | None, sync: bool | None, out: Output) -> int:
    """Mark me active, then brief me: everything since my previous check-in that concerns me."""
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    if step.wants_sync(ws, sync):
        sync_engine.sync(ws)  # fetch first, so that the briefing tells what the others did
    previous: dict[str, str | None] = {}

    def build(state: State, ctx: Context) -> Change:
        entry = state[model.REGISTRY]["instances"].get(ctx.actor or "", {})
        previous["since"] = entry.get("last_update")
        return instances.checkin(state, ctx)

    applied = step.apply(build, ws)
    synced = step.publish(ws, sync)
    me = applied.change.event.actor
    assert me is not None
    entry = applied.state[model.REGISTRY]["instances"][me]
    briefing = views.briefing(applied.state, me, since=previous["since"])
    data = {**step.envelope(applied), "session": entry["current_session_id"], "briefing": briefing}
    if synced:
        data["sync"] = sync_command.as_data(synced)
    head = f"Checked in as {safe(me)} ({safe(entry['role'])}), session {entry['current_session_id']}"
    since = f"; last check-in {safe(previous['since'])}" if previous["since"] else "; first check-in"
    notes = [f"note: {safe(n)}" for n in applied.change.notes]
    out.emit(data, [head + since, *notes, *report.sections(briefing)])
    return 0


def checkout(*, cwd: Path, as_instance: str | None, sync: bool | None, out: Output) -> int:
    return step.run(instances.checkout, cwd=cwd, as_instance=as_instance, out=out, sync=sync)
