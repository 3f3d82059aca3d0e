"""The registry and Protocol 1: `coord register`, `coord whoami`, `coord checkin`, `coord checkout`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from gitcoord import events
from gitcoord import model
from gitcoord import validation
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
    raise FatalError(events.IDENTITY_HELP)


def checkin(
    *,
    cwd: Path,
    as_instance: str | None,
    out: Output,
    sync: bool | None,
    session: str | None = None,
    full: bool = False,
) -> int:
    """Mark me active, then brief me: everything that waits for me, and what to do first."""
    from gitcoord.commands import briefing

    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    briefed = briefing.check_in(ws, out, sync=sync, session=session, full=full)
    out.emit(briefed.data, briefed.lines)
    for line in briefed.said:  # on stderr, as every step's: the briefing is the answer
        out.tell(line)
    if briefed.unshared is not None:  # briefed first: then why the check-in stays here (exit 5)
        raise briefed.unshared
    return 0


def briefing(*, cwd: Path, as_instance: str | None, out: Output, full: bool = False) -> int:
    """What `checkin` prints, without checking in."""
    from gitcoord.commands import briefing

    briefed = briefing.read(workspace.open_workspace(cwd, as_instance=as_instance), out, full=full)
    out.emit(briefed.data, briefed.lines)
    return 0


def checkout(*, cwd: Path, as_instance: str | None, out: Output, sync: bool | None) -> int:
    return step.run(instances.checkout, cwd=cwd, as_instance=as_instance, out=out, sync=sync)
