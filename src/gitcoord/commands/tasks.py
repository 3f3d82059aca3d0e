"""`coord task ...`: Protocol 2, from creating a task to finishing it, and the task lists."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gitcoord import model
from gitcoord import records
from gitcoord import render
from gitcoord import validation
from gitcoord import views
from gitcoord.commands import step
from gitcoord.commands.lookup import open_fresh
from gitcoord.commands.lookup import require
from gitcoord.output import Output
from gitcoord.output import safe
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import tasks
from gitcoord.records import State

if TYPE_CHECKING:
    from typing_extensions import Unpack


def add(
    *,
    title: str,
    description: str,
    priority: str,
    due: str | None,
    depends: Sequence[str],
    expertise: Sequence[str],
    suggest: str | None,
    deliverables: Sequence[str],
    **options: Unpack[step.Options],
) -> int:
    def build(state: State, ctx: Context) -> Change:
        return tasks.add(
            state,
            ctx,
            title,
            description=description,
            priority=priority,
            due=due,
            depends=depends,
            expertise=expertise,
            suggest=suggest,
            deliverables=deliverables,
        )

    return step.run(build, creates="task_id", **options)


def assign(*, task_id: str, instance: str, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: tasks.assign(s, c, task_id, instance), **options)


def accept(*, task_id: str, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: tasks.accept(s, c, task_id), **options)


def decline(*, task_id: str, reason: str, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: tasks.decline(s, c, task_id, reason), **options)


def claim(*, task_id: str, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: tasks.claim(s, c, task_id), **options)


def start(*, task_id: str, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: tasks.start(s, c, task_id), **options)


def block(*, task_id: str, reason: str, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: tasks.block(s, c, task_id, reason), **options)


def complete(*, task_id: str, note: str | None = None, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: tasks.complete(s, c, task_id, note=note), **options)


def release(*, task_id: str, reason: str, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: tasks.release(s, c, task_id, reason), **options)


def cancel(*, task_id: str, reason: str, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: tasks.cancel(s, c, task_id, reason), **options)


def ready(*, cwd: Path, as_instance: str | None, out: Output, mine: bool) -> int:
    ws, state, _ = open_fresh(cwd, as_instance, out, model.REGISTRY, model.TASKS)
    with validation.reading(state):
        found = views.ready(state, ws.require_identity() if mine else None)
        out.emit([views.task_summary(t) for t in found], [render.task_line(t) for t in found] or ["(nothing is ready)"])
        return 0


def list_tasks(
    *, cwd: Path, as_instance: str | None, out: Output, statuses: Sequence[str], holder: str | None, mine: bool
) -> int:
    ws, state, _ = open_fresh(cwd, as_instance, out, model.TASKS)
    with validation.reading(state):
        if mine:
            holder = ws.require_identity()
        chosen = [
            t
            for t in views.tasks(state)
            if (not statuses or t["status"] in statuses) and (holder is None or t["assigned_to"] == holder)
        ]
        found = views.by_urgency(chosen)
        out.emit([views.task_summary(t) for t in found], [render.task_line(t) for t in found] or ["(no tasks)"])
        return 0


def show(*, cwd: Path, as_instance: str | None, out: Output, task_id: str) -> int:
    _, state, _ = open_fresh(cwd, as_instance, out, model.TASKS)
    with validation.reading(state):
        task = require(state, "task", task_id)
        by_id = records.by_id(state[model.TASKS], model.TASK_RECORDS)
        deps = {d: by_id[d]["status"] if d in by_id else "archived or missing" for d in task["dependencies"]}
        dependents = [t["task_id"] for t in by_id.values() if task_id in t["dependencies"]]
        lines = [
            render.task_line(task),
            *(f"  {safe(k)}: {safe(v)}" for k, v in task.items() if k not in ("task_id", "title")),
            *(f"  depends on {d} ({s})" for d, s in deps.items()),
            *(f"  needed by {d}" for d in dependents),
        ]
        out.emit({**task, "dependency_status": deps, "dependents": dependents}, lines)
        return 0
