"""The registry and Protocol 1: `coord register`, `coord whoami`, `coord checkin`, `coord checkout`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gitcoord import workspace
from gitcoord.commands import step
from gitcoord.output import Output
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
