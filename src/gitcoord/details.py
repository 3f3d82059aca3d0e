"""Text for people: one record whole (`task show`, `decision show`, `msg show`), every field in words.

A record's fields are shown in the order the file keeps them, each as a person reads it:
a list as its items, nothing as "-", a yes or no, a long text line by line, and the entries
kept over time (declines, notes, inputs, positions) one to a line with who and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

from gitcoord import render
from gitcoord.escape import safe
from gitcoord.tables import Cell
from gitcoord.tables import table

Rows = Iterator[list[Cell]]


def value_rows(name: str, value: Any) -> Rows:
    """`name: value`, over as many rows as the value needs."""
    lines = list(_lines(value)) or ["-"]
    for i, line in enumerate(lines):
        yield [Cell(f"{name}:" if i == 0 else "", "quiet"), Cell(line)]


def _lines(value: Any) -> Iterator[str]:
    if value is None or value == []:
        yield "-"
    elif isinstance(value, bool):
        yield "yes" if value else "no"
    elif isinstance(value, str):
        yield from value.splitlines() or ["-"]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        yield ", ".join(value)
    elif isinstance(value, list):
        yield from (_entry(v) for v in value)
    elif isinstance(value, dict):
        yield from (f"{k}: {', '.join(_lines(v))}" for k, v in value.items())
    else:
        yield str(value)


def _entry(entry: Any) -> str:
    """One entry of a list kept over time: who, when, what."""
    if not isinstance(entry, dict):
        return str(entry)
    who = entry.get("from") or entry.get("instance") or entry.get("assigned_to") or "-"
    if entry.get("by"):  # another's position, as the raiser of the escalation wrote it down
        who = f"{who} (per {entry['by']})"
    when = entry.get("at") or entry.get("assigned_at")
    said = " ".join(str(entry[k]) for k in ("option", "status", "reason", "text", "position") if entry.get(k))
    comment = f" ({entry['comment']})" if entry.get("comment") else ""
    commit = f" [commit {entry['commit'][:12]}]" if entry.get("commit") else ""
    return f"{who}{f' at {when}' if when else ''}: {said}{comment}{commit}"


def fields(record: dict[str, Any], *, skip: Iterable[str] = ()) -> Rows:
    for name, value in record.items():
        if name not in skip:
            yield from value_rows(name, value)


# Tasks ---------------------------------------------------------------------------------------


def task(t: dict[str, Any], dependency_status: dict[str, str], dependents: list[str]) -> list[str]:
    rows = list(fields(t, skip=("task_id", "title", "status", "dependencies")))
    rows += value_rows("dependencies", [f"{d} ({s})" for d, s in dependency_status.items()])
    rows += value_rows("needed by", dependents)
    return [render.task_line(t), *table(rows, indent="    ")]


# Decisions -----------------------------------------------------------------------------------


def decision_status(d: dict[str, Any]) -> str:
    """The status in words: what it waits for, or that it was decided and still holds."""
    status = d["status"]
    if status == "active":
        return "decided, and in force (active)"
    if status == "superseded":
        return f"decided, then superseded by {d.get('superseded_by') or '-'}"
    if status == "escalated":
        return f"escalated to {d.get('escalation', {}).get('escalated_to', '-')}, who decides it"
    missing = d.get("inputs_missing") or []
    return "pending: " + (f"waiting for input from {', '.join(missing)}" if missing else "every input needed is in")


def decision(d: dict[str, Any]) -> list[str]:
    rows = [[Cell("status:", "quiet"), Cell(decision_status(d), d["status"])]]
    for name, value in d.items():
        if name in ("decision_id", "title", "status", "inputs_received", "inputs_missing"):
            continue
        if name == "options":
            rows += [row for o in value for row in value_rows(f"option {o['option']}", _pros_cons(o))]
        elif name == "escalation":
            rows += value_rows("escalated", f"by {value['raised_by']} at {value['raised_at']}: {value['reason']}")
            rows += value_rows("positions", value["positions"])
        else:
            rows += value_rows(name, value)
    return [render.decision_line(d), *table(rows, indent="    ")]


def _pros_cons(option: dict[str, Any]) -> str:
    """One pro or con a line, so that each reads on its own."""
    pros = [f"+ {p}" for p in option.get("pros", ())]
    cons = [f"- {c}" for c in option.get("cons", ())]
    return "\n".join([*pros, *cons]) or "-"


# Messages ------------------------------------------------------------------------------------


def message(m: dict[str, Any]) -> list[str]:
    context = m.get("context") or {}
    shown = {k: v for k, v in m.items() if k not in ("message_id", "from", "to", "status", "subject", "message")}
    shown.pop("context", None)
    shown.pop("in_reply_to", None)
    shown.pop("timestamp", None)
    rows = list(fields(shown))
    rows += [row for k, v in context.items() for row in value_rows(k, v)]
    body = [f"      | {safe(line)}" for line in m["message"].splitlines()]
    return [render.message_line(m), *table(rows, indent="    "), *body]


def thread(messages: list[dict[str, Any]]) -> list[str]:
    return [line for m in messages for line in message(m)]
