"""Check in and be briefed: what `coord checkin` and the SessionStart hook both do.

The check-in reads the remote first (bounded), so that the briefing tells what the others
did and a clone that is merely behind is not told its own instance is unregistered. Within
one session (an id from the hook's input, or --session), check-ins coalesce: a heartbeat is
committed only when the entry would change, or when the last one is older than
`git config coord.heartbeatMinutes` (default 60); otherwise nothing is committed or pushed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from typing import Any
from typing import NamedTuple

from gitcoord import agenda
from gitcoord import clock
from gitcoord import localstate
from gitcoord import model
from gitcoord import refresh
from gitcoord import render
from gitcoord import validation
from gitcoord import views
from gitcoord import workspace
from gitcoord.commands import step
from gitcoord.commands.lookup import read_fresh
from gitcoord.errors import NotShared
from gitcoord.escape import safe
from gitcoord.output import Output
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import Refused
from gitcoord.protocol import instances
from gitcoord.records import State
from gitcoord.snapshot import Snapshot

HEARTBEAT_MINUTES = 60.0


class Briefed(NamedTuple):
    data: dict[str, Any]
    lines: list[str]
    unshared: NotShared | None = None  # the check-in is committed here, and this is why it is not shared
    said: tuple[str, ...] = ()  # the check-in's own step line and what its sync did, when it committed


def heartbeat(ws: workspace.Workspace) -> dt.timedelta:
    """How old a check-in may grow before the next one in the same session commits again."""
    try:
        minutes = float(ws.config.get("coord.heartbeatminutes", HEARTBEAT_MINUTES))
    except ValueError:
        minutes = HEARTBEAT_MINUTES
    return dt.timedelta(minutes=minutes if minutes >= 0 else HEARTBEAT_MINUTES)


def check_in(
    ws: workspace.Workspace, out: Output, *, sync: bool | None, session: str | None, full: bool = False
) -> Briefed:
    """Check `ws`'s instance in (or only note its heartbeat), and brief it."""
    me = ws.require_identity()
    fresh = step.catch_up(ws, out) if step.wants_sync(ws, sync) else read_fresh(ws, out)
    snap = workspace.snapshot(ws, strict=False, commit=fresh.commit)
    state: State = snap
    with validation.reading(snap):
        entry = snap[model.REGISTRY]["instances"].get(me)
        human = model.settings_of(snap[model.REGISTRY]).human_coordinator
        if entry is None and me != human:
            raise Refused(not_registered(ws, me, fresh))
        since = entry["last_update"] if entry else None
        current = entry is None or instances.is_current(entry, clock.now(), session=session, interval=heartbeat(ws))
    data: dict[str, Any]
    shown = fresh.commit
    unshared: NotShared | None = None
    said: tuple[str, ...] = ()
    if current:
        data = {"event": "instance.checkin", "instance": me, "subject": me, "commit": None, "staged": False}
        data |= {"shared": False, "record": entry, "committed": False}
        head = _still(me, entry, since)
    else:
        build = functools.partial(_checkin, session=session)
        applied = step.commit_now(build, ws)
        try:
            applied, synced = step.share(ws, build, applied, sync)
        except NotShared as e:  # an agent whose remote is out of reach is briefed all the same
            synced, unshared = None, e
        said = tuple(step.lines_of(ws, applied, synced))
        state, shown, entry = applied.state, applied.commit, applied.state[model.REGISTRY]["instances"][me]
        data = {**step.data(applied, synced), "committed": True}
        head = _checked_in(me, entry, since)
        for note in applied.change.notes:
            out.note(note)
    briefed = _brief(ws, state, me, data, head, entry=entry, since=since, shown=shown, fresh=fresh, full=full)
    return briefed._replace(unshared=unshared, said=said)


def read(ws: workspace.Workspace, out: Output, *, full: bool = False) -> Briefed:
    """The briefing a check-in gives, without checking in: it commits nothing, and leaves the news cursor be."""
    me = ws.require_identity()
    fresh = read_fresh(ws, out)
    snap = workspace.snapshot(ws, strict=False, commit=fresh.commit)
    with validation.reading(snap):
        entry = snap[model.REGISTRY]["instances"].get(me)
    since = entry["last_update"] if entry else None
    data: dict[str, Any] = {"instance": me, "record": entry, "committed": False}
    head = f"Briefing for {safe(me)} (read only: not a check-in)"
    return _brief(ws, snap, me, data, head, entry=entry, since=since, shown=None, fresh=fresh, full=full)


def _checkin(state: State, ctx: Context, *, session: str | None) -> Change:
    return instances.checkin(state, ctx, session=session)


def _still(me: str, entry: dict[str, Any] | None, since: str | None) -> str:
    if entry is None:
        return f"{safe(me)}, the human coordinator, needs no check-in"
    return (
        f"Still checked in as {safe(me)} ({safe(entry['role'])}), session {safe(entry['current_session_id'])}, "
        f"last heartbeat {safe(since)}: nothing to commit"
    )


def _checked_in(me: str, entry: dict[str, Any], since: str | None) -> str:
    last = f"; last check-in {safe(since)}" if since else "; first check-in"
    return f"Checked in as {safe(me)} ({safe(entry['role'])}), session {safe(entry['current_session_id'])}{last}"


def _brief(
    ws: workspace.Workspace,
    state: State,
    me: str,
    data: dict[str, Any],
    head: str,
    *,
    entry: dict[str, Any] | None,
    since: str | None,
    shown: str | None,
    fresh: refresh.Freshness,
    full: bool,
) -> Briefed:
    now = clock.now()
    # A state a step just made was checked as it was committed; a snapshot is read as it is.
    guard = validation.reading(state) if isinstance(state, Snapshot) else contextlib.nullcontext()
    with guard:
        briefing = views.briefing(state, me, since=since)
        deferred = {k: v["reason"] for k, v in localstate.deferred(ws.repo.common_dir, me, now=now).items()}
        todo = agenda.agenda(state, me, deferred=deferred)
    if shown:
        localstate.set_cursor(ws.repo.common_dir, me, shown, now=now)  # `coord news` goes on from here
    following = agenda.first(todo)
    data |= {
        "session": entry["current_session_id"] if entry else None,
        "briefing": briefing,
        "next": following,
        "freshness": fresh.as_data(),
    }
    lines = [head, *render.sections(briefing, full=full)]
    if following is not None:
        lines += ["Next (coord next --all for the whole list):", *render.agenda_item(following)]
    lines += render.CHECKLIST
    return Briefed(data, lines)


def not_registered(ws: workspace.Workspace, me: str, fresh: refresh.Freshness) -> str:
    """Why `me` is not in the registry this clone reads, and what to do: register, or sync first."""
    register = f"`coord register {me} --role ROLE --expertise AREA`"
    if fresh.remote is None:
        return f"{me} is not registered; register it with {register}"
    if not fresh.fetched:
        return (
            f"{me} is not in this clone's registry, but {fresh.problem}, so it may be registered there already. "
            f"Run `coord sync` once {ws.remote} answers, and register ({register}) only if it still is not: "
            "registering twice makes a conflict"
        )
    return f"{me} is not registered (the registry on {ws.remote} was read just now); register it with {register}"


def beat(ws: workspace.Workspace, out: Output, *, session: str) -> bool:
    """A heartbeat within `session`: check in again only if the last one is due (see `heartbeat`)."""
    me = ws.require_identity()
    state = workspace.snapshot(ws, strict=False)  # the entry is mine alone: this clone's copy is current
    with validation.reading(state):
        entry = state[model.REGISTRY]["instances"].get(me)
        if entry is None or instances.is_current(entry, clock.now(), session=session, interval=heartbeat(ws)):
            return False
    if step.wants_sync(ws, None):
        step.catch_up(ws, out)
    build = functools.partial(_checkin, session=session)
    step.share(ws, build, step.commit_now(build, ws), None)
    return True
