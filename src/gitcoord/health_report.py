"""The health report for people (text), tools (JSON), GitHub job summaries (Markdown with a
Mermaid graph of the tasks) and workflow annotations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gitcoord import rulebook
from gitcoord import tables
from gitcoord import views
from gitcoord.escape import safe
from gitcoord.health import ERROR
from gitcoord.health import Concern
from gitcoord.output import markdown_cell
from gitcoord.output import workflow_escape
from gitcoord.records import State

GRAPH_LIMIT = 40  # nodes; a bigger queue shows its open tasks, the most urgent first

_COLOURS = {
    "pending_assignment": "fill:#f6f8fa,stroke:#8c959f",
    "offered": "fill:#fff8c5,stroke:#bf8700",
    "assigned": "fill:#ddf4ff,stroke:#0969da",
    "in_progress": "fill:#b6e3ff,stroke:#0969da",
    "blocked": "fill:#ffebe9,stroke:#cf222e",
    "completed": "fill:#dafbe1,stroke:#1a7f37",
    "cancelled": "fill:#eaeef2,stroke:#6e7781,stroke-dasharray: 3 3",
}


def summary(found: list[Concern]) -> str:
    errors = sum(f.level == ERROR for f in found)
    warnings = len(found) - errors
    if not found:
        return "healthy: every rule holds"
    return f"{'unhealthy' if errors else 'healthy'}: {errors} error(s), {warnings} warning(s)"


def as_data(found: list[Concern], *, now: str, commit: str | None) -> dict[str, Any]:
    return {
        "healthy": not any(f.level == ERROR for f in found),
        "checked_at": now,
        "commit": commit,
        "errors": sum(f.level == ERROR for f in found),
        "warnings": sum(f.level != ERROR for f in found),
        "findings": [f._asdict() for f in found],
    }


def text(found: list[Concern], *, now: str) -> Iterator[str]:
    yield f"coordination health at {now}: {summary(found)}"
    yield from tables.table([tables.Cell(f.level, f.level), f.rule, f.message] for f in found)


def workflow_annotations(found: list[Concern]) -> Iterator[str]:
    for f in found:
        command = "error" if f.level == ERROR else "warning"
        title = workflow_escape(f"coord health: {f.rule}", prop=True)
        yield f"::{command} title={title}::{workflow_escape(safe(f.message))}"


def markdown(state: State, found: list[Concern], *, now: str, commit: str | None) -> str:
    icon = "✅" if not found else ("❌" if any(f.level == ERROR for f in found) else "⚠️")
    lines = [
        f"## {icon} Coordination health: {summary(found)}",
        "",
        f"Checked at {now}" + (f" on commit `{commit[:12]}`" if commit else ""),
        "",
    ]
    if found:
        lines += ["| level | rule | about | finding |", "|---|---|---|---|"]
        lines += [f"| {f.level} | {f.rule} | {markdown_cell(f.subject)} | {markdown_cell(f.message)} |" for f in found]
        lines.append("")
    lines += ["### Tasks", "", *mermaid(state), ""]
    return "\n".join(lines)


def _label(text: str) -> str:
    """Text inside a quoted Mermaid label: its entity codes instead of what would end or restyle it."""
    flat = " ".join(safe(text).split())
    flat = flat if len(flat) <= 40 else flat[:37] + "..."
    return "".join(f"#{ord(c)};" if c in '"#<>`&[]{}()|@' else c for c in flat)


def mermaid(state: State) -> list[str]:
    tasks = views.by_urgency(views.tasks(state))
    note = ""
    if len(tasks) > GRAPH_LIMIT:
        open_tasks = [t for t in tasks if t["status"] not in rulebook.CLOSED_TASK]
        note = f"{len(tasks) - min(len(open_tasks), GRAPH_LIMIT)} of {len(tasks)} tasks not shown (closed ones first)"
        tasks = open_tasks[:GRAPH_LIMIT]
    if not tasks:
        return ["No tasks."]
    node = {t["task_id"]: f"t{n}" for n, t in enumerate(tasks)}
    lines = ["```mermaid", "graph LR"]
    for t in tasks:
        who = f" · {_label(t['assigned_to'])}" if t["assigned_to"] else ""
        label = f"{_label(t['task_id'])}: {_label(t['title'])}<br/>{t['status']}{who}"
        lines.append(f'  {node[t["task_id"]]}["{label}"]:::{t["status"]}')
    for t in tasks:
        lines += [f"  {node[d]} --> {node[t['task_id']]}" for d in t["dependencies"] if d in node]
    lines += [f"  classDef {status} {style}" for status, style in _COLOURS.items()]
    lines.append("```")
    if note:
        lines.append(f"_{note}_")
    return lines
