"""Protocol 2, task assignment: offer, accept or decline, claim, work, and finish.

Each step is a declared `rulebook.TASK` move; who may take it, and when a task is ready to be
taken, is the rulebook's to say. This module adds what the table cannot (dependencies done
before work starts, said with what they are) and keeps the registry's `current_task` in step
for the acting instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import shapes
from gitcoord.events import Event
from gitcoord.model import Fields
from gitcoord.model import Record
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import Edit
from gitcoord.protocol import Refused
from gitcoord.protocol import instance
from gitcoord.protocol.messages import notify
from gitcoord.records import State
from gitcoord.rulebook import Priority


def add(
    state: State,
    ctx: Context,
    title: str,
    *,
    description: str = "",
    priority: Priority = "medium",
    due: str | None = None,
    depends: Sequence[str] = (),
    expertise: Sequence[str] = (),
    suggest: str | None = None,
    deliverables: Sequence[str] = (),
) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    for dep in depends:
        edit.require("task", dep)
    if suggest is not None:
        instance(edit, suggest)
    task: shapes.Task = {
        "task_id": ctx.new_id("task", edit.ids("task")),
        "title": title,
        "description": description,
        "assigned_to": None,
        "status": "pending_assignment",
        "priority": priority,
        "created": ctx.stamp,
        "due": due,
        "dependencies": list(dict.fromkeys(depends)),
        "deliverables": list(deliverables),
        "required_expertise": list(dict.fromkeys(expertise)),
        "suggested_assignee": suggest,
        "created_by": me,
        "updated": ctx.stamp,
    }
    edit.put("task", task)
    return edit.done(Event("task.add", me, task["task_id"], f"{me} adds {task['task_id']}: {title}"), task)


def _move(edit: Edit, ctx: Context, task_id: str, step: str, **fields: object) -> tuple[Record, Record]:
    """The task before and after `step`, refused when the rulebook does not allow it."""
    task = edit.require("task", task_id)
    move = _source(task, step)
    new = {**task, "status": move.target, "updated": ctx.stamp, **fields}
    edit.authorize("task", task, new, hint=_hint(task) if task["assigned_to"] != ctx.actor else "")
    edit.put("task", new)
    return task, new


def _source(task: Record, step: str) -> rulebook.Move:
    """The move `step`, refused when the task's status is not one it starts from."""
    move = rulebook.TASK.moves[step]
    if task["status"] not in move.sources:
        allowed = " or ".join(s for s in move.sources if s)
        raise Refused(f"{task['task_id']} is {task['status']}; {step} needs it {allowed}{_hint(task)}")
    return move


def _hint(task: Record) -> str:
    status, holder = task["status"], task["assigned_to"]
    if status == "offered":
        return f" (it is offered to {holder}, who can accept or decline it)"
    if status in rulebook.HELD:
        return f" (it is held by {holder})"
    if holder is None and status == "pending_assignment":
        return f"; nobody holds it: take it first with `coord task claim {task['task_id']}`"
    return ""


def _waiting_for(edit: Edit, task: Fields) -> list[str]:
    lookup = lambda rid: edit.get("task", rid)  # noqa: E731
    return [f"{dep} ({status})" for dep, status in records.unfinished(task, lookup, records.archive_of(edit.state))]


def _focus(edit: Edit, me: str, task_id: str | None, *, only_if: str | None = None, when: str) -> None:
    """Point my registry entry's current_task at `task_id` (if it pointed at `only_if`)."""
    entry = records.registry(edit.state)["instances"].get(me)
    if entry is None or (only_if is not None and entry["current_task"] != only_if):
        return
    if entry["current_task"] != task_id:
        edit.put("instance", {**entry, "current_task": task_id}, me)
        edit.touch_registry(when)


def assign(state: State, ctx: Context, task_id: str, to: str) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    instance(edit, to)
    _, task = _move(edit, ctx, task_id, "assign", assigned_to=to, assigned_at=ctx.stamp, status_reason=None)
    return edit.done(Event("task.assign", me, task_id, f"{me} offers {task_id} to {to}"), task)


def accept(state: State, ctx: Context, task_id: str) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    _, task = _move(edit, ctx, task_id, "accept")
    if not _busy(edit, me):
        _focus(edit, me, task_id, when=ctx.stamp)
    return edit.done(Event("task.accept", me, task_id, f"{me} accepts {task_id}"), task)


def _busy(edit: Edit, me: str) -> bool:
    """Whether my current task is one I am working on (then a new assignment does not replace it)."""
    entry = records.registry(edit.state)["instances"].get(me)
    current = entry.get("current_task") if entry is not None else None
    task = edit.get("task", current) if isinstance(current, str) and current.startswith("task_") else None
    return task is not None and task["assigned_to"] == me and task["status"] == "in_progress"


def decline(state: State, ctx: Context, task_id: str, reason: str) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    old = edit.require("task", task_id)
    declines = [*old.get("declines", []), {"instance": me, "reason": reason, "at": ctx.stamp}]
    _, task = _move(
        edit, ctx, task_id, "decline", assigned_to=None, assigned_at=None, status_reason=reason, declines=declines
    )
    return edit.done(Event("task.decline", me, task_id, f"{me} declines {task_id}: {reason}"), task)


def claim(state: State, ctx: Context, task_id: str) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    old = edit.require("task", task_id)
    if old["status"] == "offered":
        if old["assigned_to"] == me:
            return accept(state, ctx, task_id)
        raise Refused(f"{task_id} is offered to {old['assigned_to']}; it can be claimed once they decline it")
    _, task = _move(edit, ctx, task_id, "claim", assigned_to=me, assigned_at=ctx.stamp, status_reason=None)
    if not _busy(edit, me):
        _focus(edit, me, task_id, when=ctx.stamp)
    return edit.done(Event("task.claim", me, task_id, f"{me} claims {task_id}"), task)


def start(state: State, ctx: Context, task_id: str) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    old = edit.require("task", task_id)
    edit.authorize("task", old, {**old, "status": _source(old, "start").target}, hint=_hint(old))
    waiting = _waiting_for(edit, old)
    if waiting:
        raise Refused(f"{task_id} cannot start: it waits for {', '.join(waiting)}")
    _, task = _move(edit, ctx, task_id, "start", status_reason=None)
    _focus(edit, me, task_id, when=ctx.stamp)
    return edit.done(Event("task.start", me, task_id, f"{me} starts {task_id}"), task)


def block(state: State, ctx: Context, task_id: str, reason: str) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    _, task = _move(edit, ctx, task_id, "block", status_reason=reason)
    return edit.done(Event("task.block", me, task_id, f"{me} is blocked on {task_id}: {reason}"), task)


def complete(state: State, ctx: Context, task_id: str, *, note: str | None = None, commit: str | None = None) -> Change:
    """Finish a task I work on; `note` (and the `commit` it is about) is added to its notes."""
    edit = Edit(state, ctx)
    me = ctx.me()
    old = edit.require("task", task_id)
    if old["status"] == "assigned" and old["assigned_to"] == me:
        raise Refused(f"{task_id} was never started; `coord task start {task_id}` first")
    noted = {"notes": [*old.get("notes", []), _note(ctx, note, commit)]} if note is not None or commit else {}
    _, task = _move(edit, ctx, task_id, "complete", status_reason=None, **noted)
    _focus(edit, me, None, only_if=task_id, when=ctx.stamp)
    unblocked = _unblocked(edit, task_id)
    notes = [f"now ready: {', '.join(unblocked)}"] if unblocked else []
    return edit.done(Event("task.complete", me, task_id, f"{me} completes {task_id}"), task, *notes)


def _note(ctx: Context, text: str | None, commit: str | None) -> Record:
    entry: Record = {"from": ctx.me(), "at": ctx.stamp, "text": text or ""}
    if commit:
        entry["commit"] = commit
    return entry


# What `coord task edit` may change, by the rulebook's TASK.edits (who may is its to say):
# fields set to a new value, and lists that entries are added to or taken from.
EDITABLE = ("title", "description", "priority", "due", "suggested_assignee")
EDITABLE_LISTS = ("dependencies", "required_expertise", "deliverables")


def edit(
    state: State,
    ctx: Context,
    task_id: str,
    *,
    fields: Mapping[str, object] | None = None,
    add: Mapping[str, Sequence[str]] | None = None,
    drop: Mapping[str, Sequence[str]] | None = None,
) -> Change:
    """Change a task's details while it is open: `fields` set, entries added to or dropped from its lists."""
    fields, add, drop = fields or {}, add or {}, drop or {}
    change = Edit(state, ctx)
    me = ctx.me()
    old = change.require("task", task_id)
    for dep in add.get("dependencies", ()):
        change.require("task", dep)
    if fields.get("suggested_assignee") is not None:
        instance(change, str(fields["suggested_assignee"]))
    new = {**old, **fields}
    for name in EDITABLE_LISTS:
        new[name] = _edited_list(old, name, add.get(name, ()), drop.get(name, ()))
    changed = [k for k in (*EDITABLE, *EDITABLE_LISTS) if new.get(k) != old.get(k)]
    if not changed:
        raise Refused(f"nothing to change: {task_id} already has what was given")
    new["updated"] = ctx.stamp
    change.put("task", new)
    event = Event("task.edit", me, task_id, f"{me} edits {task_id}: {', '.join(changed)}")
    return change.done(event, new)


def _edited_list(task: Record, name: str, added: Sequence[str], dropped: Sequence[str]) -> list[str]:
    have: list[str] = list(task.get(name, []))
    missing = [d for d in dropped if d not in have]
    if missing:
        raise Refused(f"{task['task_id']}'s {name} hold no {', '.join(missing)}")
    return [x for x in dict.fromkeys([*have, *added]) if x not in dropped]


def _unblocked(edit: Edit, done: str) -> list[str]:
    """The tasks that waited for `done` and wait for nothing now: to take, or (held) to start."""
    queue = records.task_queue(edit.state)
    waiting = ("pending_assignment", "offered", "assigned")
    whose = {"offered": "offered to {}", "assigned": "{} holds it"}
    return [
        t["task_id"] + (f" ({whose[t['status']].format(t['assigned_to'])})" if t["status"] in whose else "")
        for t in [*queue["pending_tasks"], *queue["active_tasks"]]
        if t["status"] in waiting and done in t["dependencies"] and not _waiting_for(edit, t)
    ]


def release(state: State, ctx: Context, task_id: str, reason: str) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    _, task = _move(edit, ctx, task_id, "release", assigned_to=None, assigned_at=None, status_reason=reason)
    _focus(edit, me, None, only_if=task_id, when=ctx.stamp)
    return edit.done(Event("task.release", me, task_id, f"{me} releases {task_id}: {reason}"), task)


def cancel(state: State, ctx: Context, task_id: str, reason: str) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    _, task = _move(edit, ctx, task_id, "cancel", status_reason=reason)
    _focus(edit, me, None, only_if=task_id, when=ctx.stamp)
    dependents = [t["task_id"] for t in records.task_queue(edit.state)["pending_tasks"] if task_id in t["dependencies"]]
    notes = [f"{', '.join(dependents)} depend on {task_id} and can no longer start"] if dependents else []
    return edit.done(Event("task.cancel", me, task_id, f"{me} cancels {task_id}: {reason}"), task, *notes)


def reclaim(state: State, ctx: Context) -> Change:
    """Return every task held by an instance gone longer than the lease; tell each holder."""
    edit = Edit(state, ctx)
    me = ctx.me()
    settings = model.settings_of(records.registry(edit.state))
    registry = records.registry(edit.state)["instances"]
    taken = []
    for task in [t for name in ("active_tasks",) for t in edit.state[model.TASKS][name]]:
        holder = task["assigned_to"]
        entry = registry.get(holder)
        if (
            task["status"] not in rulebook.HELD
            or entry is None
            or not records.holder_silent(entry, task, ctx.now, settings.lease_hours)
        ):
            continue
        since = f"since {entry['last_update']}" if entry["last_update"] else "at all"
        reason = f"reclaimed by {me}: {holder} has not checked in {since} (lease {settings.lease_hours:g}h)"
        _move(edit, ctx, task["task_id"], "reclaim", assigned_to=None, assigned_at=None, status_reason=reason)
        body = f"{task['task_id']} ({task['title']}) is back in the queue: {reason}. Still on it? Claim it again."
        notify(edit, ctx, holder, f"{task['task_id']} was reclaimed", body, task=task["task_id"])
        taken.append(task["task_id"])
    if not taken:
        raise Refused(
            f"nothing to reclaim: every held task's holder checked in within the lease ({settings.lease_hours:g}h)"
        )
    summary = f"{me} reclaims {', '.join(taken)} from instances gone past the lease"
    return edit.done(Event("task.reclaim", me, taken[0] if len(taken) == 1 else None, summary), {"reclaimed": taken})
