"""Protocol 1, check-in, and the registry: who the instances are and whether they are here."""

from __future__ import annotations

import datetime as dt

from gitcoord import model
from gitcoord import timestamps
from gitcoord.events import Event
from gitcoord.model import Record
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import Edit
from gitcoord.protocol import Refused
from gitcoord.protocol import instance
from gitcoord.records import State


def register(state: State, ctx: Context, name: str, *, role: str, expertise: list[str]) -> Change:
    edit = Edit(state, ctx)
    existing = edit.state[model.REGISTRY]["instances"].get(name)
    if existing is not None:
        raise Refused(f"{name} is already registered, as {existing['role']}")
    if name == model.BROADCAST:
        raise Refused("'all' is reserved: it addresses a message to every instance")
    entry: Record = {
        "role": role,
        "status": "pending",
        "current_task": None,
        "last_update": None,
        "expertise_areas": list(dict.fromkeys(expertise)),
        "available_for_consultation": False,
        "current_session_id": None,
    }
    edit.put("instance", entry, name)
    edit.touch_registry(ctx.stamp)
    return edit.done(
        Event("instance.register", ctx.actor, name, f"register {name} as {role}"), {"instance": name, **entry}
    )


def _here(edit: Edit, ctx: Context, *, status: str) -> tuple[str, Record, list[str]]:
    me = ctx.me()
    entry = dict(instance(edit, me))
    last = entry["last_update"]
    if last is not None and timestamps.parse(last) > ctx.now:
        # A clock behind the last check-in would move time backwards; keep the later time.
        stamp = last
    else:
        stamp = ctx.stamp
    notes: list[str] = []
    entry.update(status=status, last_update=stamp)
    return me, entry, notes


def checkin(state: State, ctx: Context, *, session: str | None = None) -> Change:
    """Mark me active and available, in `session` (a session id the caller has, else a new one)."""
    edit = Edit(state, ctx)
    me, entry, notes = _here(edit, ctx, status="active")
    entry.update(available_for_consultation=True, current_session_id=session or ctx.new_id("session", ()))
    edit.put("instance", entry, me)
    edit.touch_registry(entry["last_update"])
    return edit.done(Event("instance.checkin", me, me, f"{me} checks in"), {"instance": me, **entry}, *notes)


def is_current(entry: Record | None, now: dt.datetime, *, session: str | None, interval: dt.timedelta) -> bool:
    """Whether checking in within `session` would only repeat what `entry` says: active, available,
    in that very session, and seen within `interval`. Then a heartbeat needs no commit."""
    if entry is None or session is None or entry["last_update"] is None:
        return False
    here = entry["status"] == "active" and entry["available_for_consultation"]
    return here and entry["current_session_id"] == session and not timestamps.older(entry["last_update"], now, interval)


def checkout(state: State, ctx: Context) -> Change:
    edit = Edit(state, ctx)
    me, entry, notes = _here(edit, ctx, status="offline")
    entry.update(available_for_consultation=False, current_session_id=None)
    edit.put("instance", entry, me)
    edit.touch_registry(entry["last_update"])
    held = [
        t["task_id"]
        for name in ("active_tasks", "pending_tasks")
        for t in edit.state[model.TASKS][name]
        if t["assigned_to"] == me
    ]
    if held:
        notes.append(
            f"you still hold {', '.join(held)}: they stay yours while you are away; "
            "`coord task release TASK` gives one back to the queue"
        )
    return edit.done(Event("instance.checkout", me, me, f"{me} checks out"), {"instance": me, **entry}, *notes)
