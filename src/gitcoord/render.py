"""Text for people: the board, task lines, message lines. JSON output needs none of this."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gitcoord.escape import safe


def ago(timestamp: str | None) -> str:
    return safe(timestamp) if timestamp else "never"


def task_line(t: dict[str, Any]) -> str:
    who = safe(t.get("assigned_to") or "-")
    due = f"  due {safe(t['due'])}" if t.get("due") else ""
    deps = f"  after {', '.join(t['dependencies'])}" if t.get("dependencies") else ""
    return (
        f"  {safe(t['task_id'])}  {t['status']:<18} {who:<14} {t.get('priority', '-'):<6} {safe(t['title'])}{due}{deps}"
    )


def message_line(m: dict[str, Any]) -> str:
    reply = f" (re {safe(m['in_reply_to'])})" if m.get("in_reply_to") else ""
    return (
        f"  {safe(m['message_id'])}  {safe(m['from'])} -> {safe(m['to'])}  {m['status']:<16} "
        f"{safe(m['subject'])}{reply}  [{safe(m['timestamp'])}]"
    )


def board(data: dict[str, Any]) -> Iterator[str]:
    yield "Instances"
    for i in data["instances"]:
        task = f"  on {safe(i['current_task'])}" if i["current_task"] else ""
        yield f"  {safe(i['instance']):<14} {i['status']:<8} {safe(i['role']):<24} seen {ago(i['last_update'])}{task}"
    yield "Tasks"
    if not data["tasks"]:
        yield "  (none)"
    for tasks in data["tasks"].values():
        for t in tasks:
            yield task_line(t)
    yield "Open messages"
    if not data["open_messages"]:
        yield "  (none)"
    for m in data["open_messages"]:
        yield message_line(m)
    yield "Pending decisions"
    if not data["pending_decisions"]:
        yield "  (none)"
    for d in data["pending_decisions"]:
        missing = (
            f"  waiting for {', '.join(map(safe, d['inputs_missing']))}" if d["inputs_missing"] else "  all inputs in"
        )
        deadline = f"  deadline {safe(d['deadline'])}" if d.get("deadline") else ""
        yield f"  {safe(d['decision_id'])}  {d['status']:<10} {safe(d['title'])}{missing}{deadline}"
    if data["conflicts"]:
        yield f"{data['conflicts']} unresolved merge conflict(s): see `coord validate`"


def decision_line(d: dict[str, Any]) -> str:
    if d.get("decision"):
        return f"  {safe(d['decision_id'])}  {safe(d['title'])}: {safe(d['decision'])}"
    options = " | ".join(safe(o["option"]) for o in d["options"] or ())
    deadline = f"  deadline {safe(d['deadline'])}" if d.get("deadline") else ""
    return f"  {safe(d['decision_id'])}  {safe(d['title'])}  [{options}]{deadline}"


_SECTIONS = (
    ("my_tasks", "Your tasks", task_line),
    ("offered_to_me", "Offered to you (accept or decline)", task_line),
    ("claims_lost", "Claims you lost in a merge", task_line),
    ("awaiting_my_answer", "Waiting for your answer", message_line),
    ("replies_to_me", "Answers to your questions", message_line),
    ("notifications", "Notifications", message_line),
    ("my_open_questions", "Your questions still open", message_line),
    ("decisions_needing_my_input", "Decisions needing your input", decision_line),
    ("escalations_for_me", "Escalations for you to resolve", decision_line),
    ("decisions_affecting_me", "Decisions that affect you", decision_line),
    ("ready_for_me", "Ready for you to claim", task_line),
)


def sections(data: dict[str, Any]) -> Iterator[str]:
    """The non-empty parts of a briefing or an inbox."""
    empty = True
    for key, title, line in _SECTIONS:
        if data.get(key):
            empty = False
            yield f"{title}:"
            for item in data[key]:
                yield line(item)
    if empty:
        yield "Nothing waits for you."
