"""`coord task ...`: Protocol 2, from creating a task to finishing it, and the task lists."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gitcoord import git
from gitcoord import model
from gitcoord import records
from gitcoord import validation
from gitcoord.commands import step
from gitcoord.commands.lookup import open_store
from gitcoord.commands.lookup import stamp
from gitcoord.errors import BadUsage
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import tasks
from gitcoord.records import State
from gitcoord.rulebook import Priority

if TYPE_CHECKING:
    from typing_extensions import Unpack


def add(
    *,
    title: str,
    description: str,
    priority: Priority,
    due: str | None,
    depends: Sequence[str],
    expertise: Sequence[str],
    suggest: str | None,
    deliverables: Sequence[str],
    **options: Unpack[step.Options],
) -> int:
    due_stamp = stamp(due, option="--due")

    def build(state: State, ctx: Context) -> Change:
        return tasks.add(
            state,
            ctx,
            title,
            description=description,
            priority=priority,
            due=due_stamp,
            depends=[records.resolve(state, "task", d) for d in depends],
            expertise=expertise,
            suggest=suggest,
            deliverables=deliverables,
        )

    return step.run(build, creates="task_id", **options)


def _on(step_on: Callable[..., Change], task_id: str, *args: object) -> step.Build:
    """The step `step_on` on the task `task_id` names (an id, or the start of one)."""
    return lambda s, c: step_on(s, c, records.resolve(s, "task", task_id), *args)


def assign(*, task_id: str, instance: str, **options: Unpack[step.Options]) -> int:
    return step.run(_on(tasks.assign, task_id, instance), **options)


def accept(*, task_id: str, **options: Unpack[step.Options]) -> int:
    return step.run(_on(tasks.accept, task_id), **options)


def decline(*, task_id: str, reason: str, **options: Unpack[step.Options]) -> int:
    return step.run(_on(tasks.decline, task_id, reason), **options)


def claim(*, task_id: str, **options: Unpack[step.Options]) -> int:
    return step.run(_on(tasks.claim, task_id), **options)


def start(*, task_id: str, **options: Unpack[step.Options]) -> int:
    return step.run(_on(tasks.start, task_id), **options)


def block(*, task_id: str, reason: str, **options: Unpack[step.Options]) -> int:
    return step.run(_on(tasks.block, task_id, reason), **options)


def complete(*, task_id: str, note: str | None, commit: str | None, **options: Unpack[step.Options]) -> int:
    """Complete the task; a note (about a commit) goes in its notes, and a commit's deliverables are looked for."""
    said: list[str] = []
    if commit is not None:
        commit, said = _at_commit(options["cwd"], options["as_instance"], task_id, commit)
    build = _on(lambda s, c, t: tasks.complete(s, c, t, note=note, commit=commit), task_id)
    return step.run(build, notes=said, **options)


_HASH = re.compile(r"[0-9a-fA-F]{7,64}")


def _at_commit(cwd: Path, as_instance: str | None, task_id: str, given: str) -> tuple[str, list[str]]:
    """The commit `given` names, in full, and what is worth a warning: deliverables it lacks.

    A warning, not a refusal: the work may be done where this clone cannot see it yet.
    """
    ws, state = open_store(cwd, as_instance, model.TASKS)
    sha = git.rev_parse(ws.root, given)
    if sha is None:
        if not _HASH.fullmatch(given):
            raise BadUsage(f"--commit {given!r} names no commit of this clone; give a commit's hash")
        return given.lower(), [f"commit {given} is not in this clone: its deliverables were not looked for"]
    with validation.reading(state):
        task = records.get(state, "task", records.resolve(state, "task", task_id)) or {"task_id": task_id}
        wanted = list(task.get("deliverables", ()))
    present = git.exist(ws.root, [f"{sha}:{p.lstrip('/')}" for p in wanted])
    missing = [p for p, there in zip(wanted, present, strict=True) if not there]
    return sha, [f"not in {sha[:12]}: {', '.join(missing)} (deliverables of {task['task_id']})"] if missing else []


def edit(
    *,
    task_id: str,
    fields: dict[str, str | None],
    add: dict[str, Sequence[str]],
    drop: dict[str, Sequence[str]],
    **options: Unpack[step.Options],
) -> int:
    """`coord task edit`: `fields` set (None clears), entries added to and dropped from the task's lists."""
    if "due" in fields:
        fields = {**fields, "due": stamp(fields["due"], option="--due")}

    def build(state: State, ctx: Context) -> Change:
        depends = {"dependencies": [records.resolve(state, "task", d) for d in add.get("dependencies", ())]}
        undepends = {"dependencies": [records.resolve(state, "task", d) for d in drop.get("dependencies", ())]}
        task = records.resolve(state, "task", task_id)
        return tasks.edit(state, ctx, task, fields=fields, add={**add, **depends}, drop={**drop, **undepends})

    return step.run(build, **options)


def release(*, task_id: str, reason: str, **options: Unpack[step.Options]) -> int:
    return step.run(_on(tasks.release, task_id, reason), **options)


def cancel(*, task_id: str, reason: str, **options: Unpack[step.Options]) -> int:
    return step.run(_on(tasks.cancel, task_id, reason), **options)
