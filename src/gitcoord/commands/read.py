"""The read-only commands: who am I, my inbox, tasks, decisions, and the event log."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gitcoord import git
from gitcoord import model
from gitcoord import records
from gitcoord import report
from gitcoord import validation
from gitcoord import views
from gitcoord import workspace
from gitcoord.errors import FatalError
from gitcoord.output import Output
from gitcoord.output import safe
from gitcoord.protocol.messages import thread


def _read(cwd: Path, as_instance: str | None, *files: str) -> tuple[workspace.Workspace, Any]:
    """The workspace and its store, with `files` (what the command reads) fetched in one git call."""
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    snap = workspace.snapshot(ws, strict=False)
    snap.prefetch(list(files or model.FILES))
    return ws, snap


def whoami(*, cwd: Path, as_instance: str | None, out: Output) -> int:
    ws, state = _read(cwd, as_instance, model.REGISTRY)
    with validation.reading(state):
        if as_instance:
            source = "--as"
        elif os.environ.get("COORD_INSTANCE"):
            source = "COORD_INSTANCE"
        elif ws.identity:
            source = "git config coord.instance"
        else:
            raise FatalError(workspace.IDENTITY_HELP)
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


def inbox(*, cwd: Path, as_instance: str | None, everything: bool, out: Output) -> int:
    ws, state = _read(cwd, as_instance, model.REGISTRY, model.MESSAGES, model.DECISIONS)
    with validation.reading(state):
        me = ws.require_identity()
        entry = state[model.REGISTRY]["instances"].get(me, {})
        data = views.inbox(state, me, since=None if everything else entry.get("last_update"))
        out.emit(data, report.sections(data))
        return 0


def task_list(
    *, cwd: Path, as_instance: str | None, statuses: Sequence[str], holder: str | None, mine: bool, out: Output
) -> int:
    ws, state = _read(cwd, as_instance, model.TASKS)
    with validation.reading(state):
        if mine:
            holder = ws.require_identity()
        found = views.by_urgency(
            [
                t
                for t in views.tasks(state)
                if (not statuses or t["status"] in statuses) and (holder is None or t["assigned_to"] == holder)
            ]
        )
        out.emit([views.task_summary(t) for t in found], [report.task_line(t) for t in found] or ["(no tasks)"])
        return 0


def task_ready(*, cwd: Path, as_instance: str | None, mine: bool, out: Output) -> int:
    ws, state = _read(cwd, as_instance, model.REGISTRY, model.TASKS)
    with validation.reading(state):
        found = views.ready(state, ws.require_identity() if mine else None)
        out.emit([views.task_summary(t) for t in found], [report.task_line(t) for t in found] or ["(nothing is ready)"])
        return 0


def task_show(*, cwd: Path, as_instance: str | None, task_id: str, out: Output) -> int:
    _, state = _read(cwd, as_instance, model.TASKS)
    with validation.reading(state):
        task = _require(state, "task", task_id)
        by_id = records.by_id(state[model.TASKS], model.TASK_RECORDS)
        deps = {d: by_id[d]["status"] if d in by_id else "archived or missing" for d in task["dependencies"]}
        dependents = [t["task_id"] for t in by_id.values() if task_id in t["dependencies"]]
        data = {**task, "dependency_status": deps, "dependents": dependents}
        lines = [
            report.task_line(task),
            *(f"  {safe(k)}: {safe(v)}" for k, v in task.items() if k not in ("task_id", "title")),
        ]
        lines += [f"  depends on {d} ({s})" for d, s in deps.items()] + [f"  needed by {d}" for d in dependents]
        out.emit(data, lines)
        return 0


def decision_list(*, cwd: Path, as_instance: str | None, which: str, out: Output) -> int:
    _, state = _read(cwd, as_instance, model.DECISIONS)
    with validation.reading(state):
        doc = state[model.DECISIONS]
        chosen = {
            "pending": doc["pending_decisions"],
            "decided": doc["decisions"],
            "all": [*doc["pending_decisions"], *doc["decisions"]],
        }[which]
        summaries = [views.decision_summary(d) for d in chosen]
        out.emit(summaries, [report.decision_line(d) for d in summaries] or ["(no decisions)"])
        return 0


def decision_show(*, cwd: Path, as_instance: str | None, decision_id: str, out: Output) -> int:
    _, state = _read(cwd, as_instance, model.DECISIONS)
    with validation.reading(state):
        d = _require(state, "decision", decision_id)
        data = {**d, "inputs_missing": views.missing_inputs(d)}
        lines = [report.decision_line(views.decision_summary(d)), f"  status: {model.decision_status(d)}"]
        if d.get("description"):
            lines.append(f"  {safe(d['description'])}")
        for o in d.get("options", ()):
            pros = "; ".join(map(safe, o.get("pros", ())))
            cons = "; ".join(map(safe, o.get("cons", ())))
            lines.append(
                f"  option {safe(o['option'])}" + (f"  + {pros}" if pros else "") + (f"  - {cons}" if cons else "")
            )
        for i in d.get("inputs", ()):
            lines.append(
                f"  input from {safe(i['from'])}: {safe(i['option'])}"
                + (f" ({safe(i['comment'])})" if i.get("comment") else "")
            )
        if data["inputs_missing"]:
            lines.append(f"  waiting for input from {', '.join(data['inputs_missing'])}")
        if d.get("escalation"):
            e = d["escalation"]
            lines.append(f"  escalated by {safe(e['raised_by'])} to {safe(e['escalated_to'])}: {safe(e['reason'])}")
            lines += [f"    {safe(p['instance'])}: {safe(p['position'])}" for p in e["positions"]]
        if d.get("decision"):
            by = ", ".join(map(safe, d["decided_by"]))
            lines.append(f"  decided by {by} on {d['date']}: {safe(d['decision'])} ({safe(d['rationale'])})")
        out.emit(data, lines)
        return 0


def thread_show(*, cwd: Path, as_instance: str | None, message_id: str, out: Output) -> int:
    _, state = _read(cwd, as_instance, model.MESSAGES)
    with validation.reading(state):
        root = _require(state, "message", message_id)
        messages = [root, *thread(state[model.MESSAGES], message_id)]
        lines = []
        for m in messages:
            lines.append(report.message_line(views.message_summary(m)))
            lines += [f"      {safe(line, one_line=True)}" for line in m["message"].splitlines()]
        out.emit(messages, lines)
        return 0


def log(
    *, cwd: Path, as_instance: str | None, instance: str | None, subject: str | None, limit: int, out: Output
) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    entries = [
        e
        for e in git.log(ws.root, workspace.tip(ws), paths=[model.COORD_DIR])
        if "Coord-Event" in e.trailers
        and (instance is None or e.trailers.get("Coord-Instance") == instance)
        and (subject is None or e.trailers.get("Coord-Subject") == subject)
    ][:limit]
    data = [
        {
            "commit": e.sha,
            "date": e.date,
            "event": e.trailers["Coord-Event"],
            "instance": e.trailers.get("Coord-Instance"),
            "subject": e.trailers.get("Coord-Subject"),
            "summary": e.subject,
        }
        for e in entries
    ]
    out.emit(data, [f"{e.sha[:12]}  {e.date}  {safe(e.subject)}" for e in entries] or ["(no events)"])
    return 0


def _require(state: Any, kind: str, rid: str) -> dict[str, Any]:
    found = records.get(state, kind, rid)
    if found is None:
        raise FatalError(f"there is no {kind} {rid!r}")
    return found
