"""The registry and Protocol 1: `coord register`, `coord whoami`, `coord checkin`, `coord checkout`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from gitcoord import model
from gitcoord import render
from gitcoord import sync as sync_engine
from gitcoord import validation
from gitcoord import views
from gitcoord import workspace
from gitcoord.commands import step
from gitcoord.commands.lookup import open_store
from gitcoord.errors import FatalError
from gitcoord.output import Output
from gitcoord.output import safe
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import instances
from gitcoord.records import State


def register(
    *,
    cwd: Path,
    as_instance: str | None,
    out: Output,
    instance: str,
    role: str,
    expertise: Sequence[str],
    sync: bool | None,
) -> int:
    def build(state: State, ctx: Context) -> Change:
        return instances.register(state, ctx, instance, role=role, expertise=list(expertise))

    return step.run(build, cwd=cwd, as_instance=as_instance, out=out, sync=sync)


def whoami(*, cwd: Path, as_instance: str | None, out: Output) -> int:
    ws, state = open_store(cwd, as_instance, model.REGISTRY)
    with validation.reading(state):
        source = _identity_source(ws, as_instance)
        entry = state[model.REGISTRY]["instances"].get(ws.identity)
        human = model.settings_of(state[model.REGISTRY]).human_coordinator
        data = {
            "instance": ws.identity,
            "source": source,
            "registered": entry is not None,
            "human_coordinator": ws.identity == human,
            "entry": entry,
            "branch": ws.branch,
        }
        role = (
            f", {safe(entry['role'])}, {entry['status']}"
            if entry
            else (" (the human coordinator)" if ws.identity == human else " (not registered)")
        )
        out.emit(data, f"{safe(ws.identity)}{role} (from {source}); coordinating on {ws.branch}")
        return 0


def _identity_source(ws: workspace.Workspace, as_instance: str | None) -> str:
    if as_instance:
        return "--as"
    if os.environ.get("COORD_INSTANCE"):
        return "COORD_INSTANCE"
    if ws.identity:
        return "git config coord.instance"
    raise FatalError(workspace.IDENTITY_HELP)


def checkin(*, cwd: Path, as_instance: str | None, out: Output, sync: bool | None) -> int:
    """Mark me active, then brief me: everything since my previous check-in that concerns me."""
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    if step.wants_sync(ws, sync):
        sync_engine.sync(ws)  # fetch first, so that the briefing tells what the others did
    previous: dict[str, str | None] = {}

    def build(state: State, ctx: Context) -> Change:
        entry = state[model.REGISTRY]["instances"].get(ctx.actor or "", {})
        previous["since"] = entry.get("last_update")
        return instances.checkin(state, ctx)

    applied = step.commit_now(build, ws)
    synced = step.publish(ws, sync)
    me = applied.change.event.actor
    assert me is not None
    entry = applied.state[model.REGISTRY]["instances"][me]
    briefing = views.briefing(applied.state, me, since=previous["since"])
    data = {**step.data(applied, synced), "session": entry["current_session_id"], "briefing": briefing}
    head = f"Checked in as {safe(me)} ({safe(entry['role'])}), session {entry['current_session_id']}"
    since = f"; last check-in {safe(previous['since'])}" if previous["since"] else "; first check-in"
    out.emit(data, [head + since, *render.sections(briefing)])
    for note in applied.change.notes:
        out.note(note)
    return 0


def checkout(*, cwd: Path, as_instance: str | None, out: Output, sync: bool | None) -> int:
    return step.run(instances.checkout, cwd=cwd, as_instance=as_instance, out=out, sync=sync)
