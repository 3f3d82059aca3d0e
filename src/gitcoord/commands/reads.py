"""The commands that only read: the task lists, the messages and the inbox, the decisions, whoami.

Each reads the committed store and loads nothing of the step machinery (commits, sync, the
history check), so that the reads agents make all day start in what reading needs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from gitcoord import details
from gitcoord import events
from gitcoord import model
from gitcoord import records
from gitcoord import render
from gitcoord import validation
from gitcoord import views
from gitcoord import workspace
from gitcoord.commands.lookup import open_fresh
from gitcoord.commands.lookup import open_store
from gitcoord.commands.lookup import require
from gitcoord.errors import FatalError
from gitcoord.output import Output
from gitcoord.output import safe

# Tasks ----------------------------------------------------------------------------------


def ready(*, cwd: Path, as_instance: str | None, out: Output, mine: bool) -> int:
    ws, state, _ = open_fresh(cwd, as_instance, out, model.REGISTRY, model.TASKS)
    with validation.reading(state):
        found = views.ready(state, ws.require_identity() if mine else None)
        out.emit([views.task_summary(t) for t in found], render.tasks(found) or ["(nothing is ready)"])
        return 0


def tasks(
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
        out.emit([views.task_summary(t) for t in found], render.tasks(found) or ["(no tasks)"])
        return 0


def task(*, cwd: Path, as_instance: str | None, out: Output, task_id: str) -> int:
    _, state, _ = open_fresh(cwd, as_instance, out, model.TASKS)
    with validation.reading(state):
        task = require(state, "task", task_id)
        task_id = task["task_id"]
        by_id = records.by_id(state[model.TASKS], model.TASK_RECORDS)
        deps = {d: by_id[d]["status"] if d in by_id else "archived or missing" for d in task["dependencies"]}
        dependents = [t["task_id"] for t in by_id.values() if task_id in t["dependencies"]]
        out.emit({**task, "dependency_status": deps, "dependents": dependents}, details.task(task, deps, dependents))
        return 0


# Messages -------------------------------------------------------------------------------

OPEN_THREAD = ("pending_response", "sent")  # an answer owed, or not yet read: the thread is not over


def messages(*, cwd: Path, as_instance: str | None, out: Output, everyone: bool, open_only: bool) -> int:
    ws, state, _ = open_fresh(cwd, as_instance, out, model.MESSAGES)
    me = ws.identity
    with validation.reading(state):
        chosen = [
            m
            for m in views.messages(state)
            if (everyone or me is None or me in (m["from"], m["to"]) or m["to"] == model.BROADCAST)
            and (not open_only or m["status"] in OPEN_THREAD)
        ]
        chosen.sort(key=lambda m: (m["timestamp"], m["message_id"]))
        summaries = [views.message_summary(m) for m in chosen]
        none = "(no open messages; without `--open`, the closed ones too)" if open_only else "(no messages)"
        out.emit(summaries, render.messages(summaries) or [none])
        return 0


def inbox(*, cwd: Path, as_instance: str | None, out: Output, everything: bool, full: bool = False) -> int:
    ws, state, _ = open_fresh(cwd, as_instance, out)
    with validation.reading(state):
        me = ws.require_identity()
        entry = state[model.REGISTRY]["instances"].get(me, {})
        data = views.inbox(state, me, since=None if everything else entry.get("last_update"))
        out.emit(data, render.sections(data, full=full))
        return 0


# Decisions ------------------------------------------------------------------------------


def decisions(*, cwd: Path, as_instance: str | None, out: Output, which: str) -> int:
    _, state, _ = open_fresh(cwd, as_instance, out, model.DECISIONS)
    with validation.reading(state):
        doc = state[model.DECISIONS]
        chosen = {
            "pending": doc["pending_decisions"],
            "decided": doc["decisions"],
            "all": [*doc["pending_decisions"], *doc["decisions"]],
        }[which]
        summaries = [views.decision_summary(d) for d in chosen]
        others = len(doc["pending_decisions"]) + len(doc["decisions"]) - len(chosen)
        none = f"(no {which} decisions; `--all` shows the {others} other(s))" if others else "(no decisions)"
        out.emit(summaries, render.decisions(summaries) or [none])
        return 0


def decision(*, cwd: Path, as_instance: str | None, out: Output, decision_id: str) -> int:
    _, state, _ = open_fresh(cwd, as_instance, out, model.DECISIONS)
    with validation.reading(state):
        d = require(state, "decision", decision_id)
        data = {**d, **views.decision_derived(d)}
        out.emit(data, details.decision(data))
        return 0


# Who am I -------------------------------------------------------------------------------


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
