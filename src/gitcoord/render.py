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
    options = " | ".join(map(safe, d["options"]))
    deadline = f"  deadline {safe(d['deadline'])}" if d.get("deadline") else ""
    return f"  {safe(d['decision_id'])}  {safe(d['title'])}  [{options}]{deadline}"


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


def my_task_line(t: dict[str, Any]) -> str:
    if t.get("waiting_for"):
        hint = f"  waits for {', '.join(map(safe, t['waiting_for']))}"
    elif t["status"] == "assigned":
        hint = f"  can start now: coord task start {safe(t['task_id'])}"
    else:
        hint = ""
    return task_line(t) + hint


_SECTIONS = (
    ("my_tasks", "Your tasks", my_task_line),
    ("offered_to_me", "Offered to you (coord task accept TASK, or coord task decline TASK --reason ...)", my_task_line),
    ("claims_lost", "Claims you lost in a merge", task_line),
    ("awaiting_my_answer", "Waiting for your answer (coord msg reply MSG --body-file -)", message_line),
    ("replies_to_me", "Answers to your questions (each stays until you ack it: coord msg ack MSG)", message_line),
    ("notifications", "Notifications to you (each stays until you ack it: coord msg ack MSG)", message_line),
    ("broadcasts", "Messages to all since your last check-in", message_line),
    ("my_open_questions", "Your questions still open", message_line),
    ("decisions_needing_my_input", "Decisions needing your input", decision_line),
    ("escalations_for_me", "Escalations for you to resolve", decision_line),
    ("decisions_affecting_me", "Decisions that affect you", decision_line),
    ("ready_for_me", "Ready for you to claim (coord task claim TASK)", task_line),
)


def sections(data: dict[str, Any], *, full: bool = False) -> Iterator[str]:
    """The non-empty parts of a briefing or an inbox, with what each message says."""
    empty = True
    for key, title, line in _SECTIONS:
        if data.get(key):
            empty = False
            yield f"{title}:"
            for item in data[key]:
                yield line(item)
                yield from body_lines(item, full=full)
    if empty:
        yield "Nothing waits for you."


CHECKLIST = (
    "The startup checklist (each session):",
    "  1. the registry: check in and see this briefing       coord checkin",
    "  2. the tasks assigned to you, and what to do first    coord next   (coord task list --mine)",
    "  3. the messages: answer, then ack what you have read  coord inbox",
    "  4. the decisions that affect your work                coord decision list",
)


def input_line(i: dict[str, Any]) -> str:
    comment = f": {safe(i['comment'])}" if i.get("comment") else ""
    rest = f"; still waiting for {', '.join(map(safe, i['inputs_missing']))}" if i["inputs_missing"] else "; all in"
    return f"  {safe(i['decision_id'])}  {safe(i['from'])} chose {safe(i['option'])}{comment}{rest}"


def instance_line(i: dict[str, Any]) -> str:
    areas = ", ".join(map(safe, i["expertise_areas"])) or "no expertise listed"
    return f"  {safe(i['instance'])}  {safe(i['role'])}  ({areas})"


def lost_line(t: dict[str, Any]) -> str:
    return task_line(t) + f"  (to {safe(t['lost_to'])})"


_NEWS = {
    "offered_to_me": ("Offered to you", task_line),
    "questions_for_me": ("Asked of you (coord msg reply MSG --body-file -)", message_line),
    "input_requested": ("Your input is asked (coord decision input DEC --option ...)", decision_line),
    "escalations_for_me": ("Escalated to you", decision_line),
    "replies_to_me": ("Answers to your questions", message_line),
    "inputs_on_my_proposals": ("Inputs on your proposals", input_line),
    "now_ready": ("Your tasks whose dependencies are now completed (coord task start TASK)", task_line),
    "claims_lost": ("Claims you lost", lost_line),
    "rulings_for_me": ("Rulings on escalations that concern you", decision_line),
    "decisions_affecting_me": ("Decisions that affect you", decision_line),
    "notifications": ("Notifications (each stays until you ack it: coord msg ack MSG)", message_line),
    "instances_registered": ("Instances that registered", instance_line),
}


def news(data: dict[str, Any], *, full: bool = False) -> Iterator[str]:
    """The non-empty parts of `views.news`, most pressing first."""
    for key, (title, line) in _NEWS.items():
        if data.get(key):
            yield f"{title}:"
            for item in data[key]:
                yield line(item)
                yield from body_lines(item, full=full)


def agenda_item(item: dict[str, Any], *, indent: str = "  ") -> Iterator[str]:
    deferred = f" (deferred: {safe(item['deferred'])})" if item.get("deferred") else ""
    yield f"{indent}{item['kind']}: {safe(item['id'])}  {safe(item['title'])}{deferred}"
    yield f"{indent}  {safe(item['why'])}"
    for command in item["commands"]:
        yield f"{indent}  $ {safe(command)}"
