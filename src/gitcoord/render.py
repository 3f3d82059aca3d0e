"""Text for people: the board, and tables of tasks, messages and decisions. JSON output needs none of this.

Each list is one table (`tables.table`): its columns line up whatever the instances wrote,
and statuses carry their colour where colour is wanted.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

from gitcoord.escape import safe
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


def body_lines(m: dict[str, Any], *, full: bool, indent: str = "      ") -> list[str]:
    """What a message says, under its line: shortened to one line unless `full`."""
    text = m.get("message")
    if not text:
        return []
    if full:
        return [f"{indent}{safe(line)}" for line in text.splitlines()]
    flat = " ".join(text.split())
    if len(flat) > SHORT:
        flat = flat[: SHORT - 1] + f"… (all of it: coord msg show {m['message_id']})"
    return [f"{indent}{safe(flat)}"]


SHORT = 240  # characters of a message body a briefing shows


def _can_start(t: dict[str, Any]) -> str:
    if t.get("waiting_for"):
        return f"waits for {', '.join(t['waiting_for'])}"
    return f"can start now: coord task start {t['task_id']}" if t["status"] == "assigned" else ""


def my_tasks(items: Iterable[dict[str, Any]]) -> list[str]:
    """My tasks, each with whether it can start (or what it still waits for)."""
    return table([*task_row(t), Cell(_can_start(t))] for t in items)


def lost(items: Iterable[dict[str, Any]]) -> list[str]:
    return table([*task_row(t), Cell(f"(to {t['lost_to']})")] for t in items)


def input_line(i: dict[str, Any]) -> str:
    comment = f": {safe(i['comment'])}" if i.get("comment") else ""
    rest = f"; still waiting for {', '.join(map(safe, i['inputs_missing']))}" if i["inputs_missing"] else "; all in"
    return f"  {safe(i['decision_id'])}  {safe(i['from'])} chose {safe(i['option'])}{comment}{rest}"


def inputs(items: Iterable[dict[str, Any]]) -> list[str]:
    return [input_line(i) for i in items]


def instances(items: Iterable[dict[str, Any]]) -> list[str]:
    return table(
        [
            Cell(i["instance"], "id"),
            Cell(i["role"]),
            Cell(f"({', '.join(i['expertise_areas']) or 'no expertise listed'})"),
        ]
        for i in items
    )


Lines = Callable[[Iterable[dict[str, Any]]], list[str]]

_SECTIONS: tuple[tuple[str, str, Lines], ...] = (
    ("my_tasks", "Your tasks", my_tasks),
    ("offered_to_me", "Offered to you (coord task accept TASK, or coord task decline TASK --reason ...)", my_tasks),
    ("claims_lost", "Claims you lost in a merge", tasks),
    ("awaiting_my_answer", "Waiting for your answer (coord msg reply MSG --body-file -)", messages),
    (
        "replies_to_me",
        "Answers to your questions (each stays until you ack it or its question: coord msg ack MSG)",
        messages,
    ),
    ("notifications", "Notifications to you (each stays until you ack it: coord msg ack MSG)", messages),
    ("broadcasts", "Messages to all since your last check-in", messages),
    ("my_open_questions", "Your questions still open", messages),
    ("decisions_needing_my_input", "Decisions needing your input", decisions),
    ("escalations_for_me", "Escalations for you to resolve", decisions),
    ("decisions_affecting_me", "Decisions that affect you", decisions),
    ("ready_for_me", "Ready for you to claim (coord task claim TASK)", tasks),
)


def _section(title: str, lines: Lines, items: list[dict[str, Any]], *, full: bool) -> Iterator[str]:
    """A heading, then a table whose every row is followed by what its message says (if it is one)."""
    yield heading(f"{title}:")
    for line, item in zip(lines(items), items, strict=False):
        yield line
        yield from body_lines(item, full=full)


def sections(data: dict[str, Any], *, full: bool = False) -> Iterator[str]:
    """The non-empty parts of a briefing or an inbox, with what each message says."""
    empty = True
    for key, title, lines in _SECTIONS:
        if data.get(key):
            empty = False
            yield from _section(title, lines, data[key], full=full)
    if empty:
        yield "Nothing waits for you."


CHECKLIST = (
    "The startup checklist (each session):",
    "  1. the registry: check in and see this briefing       coord checkin",
    "  2. the tasks assigned to you, and what to do first    coord next   (coord task list --mine)",
    "  3. the messages: answer, then ack what you have read  coord inbox",
    "  4. the decisions that affect your work                coord decision list",
)


_NEWS: dict[str, tuple[str, Lines]] = {
    "offered_to_me": ("Offered to you", tasks),
    "questions_for_me": ("Asked of you (coord msg reply MSG --body-file -)", messages),
    "input_requested": ("Your input is asked (coord decision input DEC --option ...)", decisions),
    "escalations_for_me": ("Escalated to you", decisions),
    "replies_to_me": ("Answers to your questions", messages),
    "inputs_on_my_proposals": ("Inputs on your proposals", inputs),
    "now_ready": ("Your tasks whose dependencies are now completed (coord task start TASK)", tasks),
    "claims_lost": ("Claims you lost", lost),
    "rulings_for_me": ("Rulings on escalations that concern you", decisions),
    "decisions_affecting_me": ("Decisions that affect you", decisions),
    "notifications": ("Notifications (each stays until you ack it: coord msg ack MSG)", messages),
    "instances_registered": ("Instances that registered", instances),
}


def news(data: dict[str, Any], *, full: bool = False) -> Iterator[str]:
    """The non-empty parts of `whatsnew.between`, most pressing first."""
    for key, (title, lines) in _NEWS.items():
        if data.get(key):
            yield from _section(title, lines, data[key], full=full)


def agenda_item(item: dict[str, Any], *, indent: str = "  ") -> Iterator[str]:
    deferred = f" (deferred: {safe(item['deferred'])})" if item.get("deferred") else ""
    yield f"{indent}{item['kind']}: {safe(item['id'])}  {safe(item['title'])}{deferred}"
    yield f"{indent}  {safe(item['why'])}"
    for command in item["commands"]:
        yield f"{indent}  $ {safe(command)}"
