"""Text for people: the board, and tables of tasks, messages and decisions. JSON output needs none of this.

Each list is one table (`tables.table`): its columns line up whatever the instances wrote,
and statuses carry their colour where colour is wanted.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

from gitcoord.tables import Cell
from gitcoord.tables import heading
from gitcoord.tables import table

# How a decision's status reads to a person: "active" is the specification's word for a
# decision made and in force, which on its own reads as if it were still going on.
DECISION_WORDS = {
    "pending": "pending",
    "escalated": "escalated",
    "active": "decided",
    "superseded": "superseded",
}


def ago(timestamp: str | None) -> str:
    return timestamp if timestamp else "never"


def task_row(t: dict[str, Any]) -> list[Cell]:
    deps = t.get("dependencies") or []
    return [
        Cell(t["task_id"], "id"),
        Cell(t["status"], t["status"]),
        Cell(t.get("assigned_to") or "-"),
        Cell(t.get("priority") or "-"),
        Cell(t["title"]),
        Cell(f"due {t['due']}" if t.get("due") else ""),
        Cell(f"after {', '.join(deps)}" if deps else ""),
    ]


def message_row(m: dict[str, Any]) -> list[Cell]:
    reply = f"(re {m['in_reply_to']})" if m.get("in_reply_to") else ""
    return [
        Cell(m["message_id"], "id"),
        Cell(f"{m['from']} -> {m['to']}"),
        Cell(m["status"], m["status"]),
        Cell(m["timestamp"], "quiet"),
        Cell(m["subject"]),
        Cell(reply),
    ]


def decision_row(d: dict[str, Any]) -> list[Cell]:
    status = d["status"]
    if d.get("decision"):
        about = f"-> {d['decision']}"
    else:
        about = " | ".join(o["option"] for o in d.get("options") or ())
    missing = d.get("inputs_missing") or []
    return [
        Cell(d["decision_id"], "id"),
        Cell(DECISION_WORDS.get(status, status), status),
        Cell(d["title"]),
        Cell(about),
        Cell(f"deadline {d['deadline']}" if d.get("deadline") and not d.get("decision") else ""),
        Cell(f"waiting for {', '.join(missing)}" if missing and not d.get("decision") else ""),
    ]


def instance_row(i: dict[str, Any]) -> list[Cell]:
    return [
        Cell(i["instance"], "id"),
        Cell(i["status"], i["status"]),
        Cell(i["role"]),
        Cell(f"seen {ago(i['last_update'])}"),
        Cell(f"on {i['current_task']}" if i["current_task"] else ""),
    ]


def tasks(items: Iterable[dict[str, Any]]) -> list[str]:
    return table(task_row(t) for t in items)


def messages(items: Iterable[dict[str, Any]]) -> list[str]:
    return table(message_row(m) for m in items)


def decisions(items: Iterable[dict[str, Any]]) -> list[str]:
    return table(decision_row(d) for d in items)


def task_line(t: dict[str, Any]) -> str:
    return tasks([t])[0]


def message_line(m: dict[str, Any]) -> str:
    return messages([m])[0]


def decision_line(d: dict[str, Any]) -> str:
    return decisions([d])[0]


def board(data: dict[str, Any]) -> Iterator[str]:
    yield heading("Instances")
    yield from table(instance_row(i) for i in data["instances"]) or ["  (none)"]
    yield heading("Tasks")
    # One table for every status, so that all the columns line up; open work comes first.
    yield from tasks(t for group in data["tasks"].values() for t in group) or ["  (none)"]
    yield heading("Open messages")
    yield from messages(data["open_messages"]) or ["  (none)"]
    yield heading("Pending decisions")
    yield from decisions(data["pending_decisions"]) or ["  (none)"]
    if data["conflicts"]:
        yield f"{data['conflicts']} unresolved merge conflict(s): see `coord validate`"


_SECTIONS = (
    ("my_tasks", "Your tasks", tasks),
    ("offered_to_me", "Offered to you (accept or decline)", tasks),
    ("claims_lost", "Claims you lost in a merge", tasks),
    ("awaiting_my_answer", "Waiting for your answer", messages),
    ("replies_to_me", "Answers to your questions", messages),
    ("notifications", "Notifications", messages),
    ("my_open_questions", "Your questions still open", messages),
    ("decisions_needing_my_input", "Decisions needing your input", decisions),
    ("escalations_for_me", "Escalations for you to resolve", decisions),
    ("decisions_affecting_me", "Decisions that affect you", decisions),
    ("ready_for_me", "Ready for you to claim", tasks),
)


def sections(data: dict[str, Any]) -> Iterator[str]:
    """The non-empty parts of a briefing or an inbox."""
    empty = True
    for key, title, lines in _SECTIONS:
        if data.get(key):
            empty = False
            yield heading(f"{title}:")
            yield from lines(data[key])
    if empty:
        yield "Nothing waits for you."
