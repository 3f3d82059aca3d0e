"""Protocol 3, consultation: ask, answer in the same thread, and close it.

A request waits in `response_queue` until its recipient replies; the reply is a message of
its own (`in_reply_to` names what it answers), so nothing anyone wrote is ever edited. The
requester's acknowledgement closes the thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from gitcoord import model
from gitcoord import shapes
from gitcoord import timestamps
from gitcoord.events import Event
from gitcoord.model import Doc
from gitcoord.model import Fields
from gitcoord.model import Record
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import Edit
from gitcoord.protocol import Refused
from gitcoord.protocol import known_instance
from gitcoord.protocol import settings
from gitcoord.records import State
from gitcoord.rulebook import Priority


def response_queue(doc: Fields) -> list[shapes.QueuedResponse]:
    """The answers owed, derived from the messages; an entry keeps its due time once set."""
    queued = {e["responding_to"]: e for e in doc["response_queue"]}
    owed: list[shapes.QueuedResponse] = []
    for m in doc["messages"]:
        if m["requires_response"] and m["status"] == "pending_response":
            was = queued.get(m["message_id"], {})
            due = m.get("expected_response_time") or was.get("expected_response_time")
            entry: shapes.QueuedResponse = {"responding_to": m["message_id"], "from": m["to"], "status": "pending"}
            entry["expected_response_time"] = due
            owed.append(was if was == entry else entry)  # the same entry, kept: its text is copied when written
    return sorted(owed, key=lambda e: e["responding_to"])


def _requeue(edit: Edit) -> None:
    doc = dict(edit.state[model.MESSAGES])
    doc["response_queue"] = response_queue(doc)
    edit.docs[model.MESSAGES] = doc


def send(
    state: State,
    ctx: Context,
    *,
    to: str,
    subject: str,
    body: str,
    requires_response: bool,
    priority: Priority = "medium",
    task: str | None = None,
    decision: str | None = None,
    files: Sequence[str] = (),
) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    known_instance(edit, me)
    known_instance(edit, to, broadcast=True)
    if requires_response and to == model.BROADCAST:
        raise Refused("a message to all cannot require a response: ask one instance, or drop --requires-response")
    if task is not None:
        edit.require("task", task)
    if decision is not None:
        edit.require("decision", decision)
    message: shapes.Message = {
        "message_id": ctx.new_id("msg", edit.ids("message")),
        "from": me,
        "to": to,
        "type": "consultation_request" if requires_response else "notification",
        "timestamp": ctx.stamp,
        "subject": subject,
        "message": body,
        "priority": priority,
        "requires_response": requires_response,
        "context": _context(task, decision, files),
        "status": "pending_response" if requires_response else "sent",
    }
    if requires_response:
        hours = settings(edit.state).response_hours
        message["expected_response_time"] = timestamps.format(ctx.now + dt.timedelta(hours=hours))
    edit.put("message", message)
    _requeue(edit)
    rid = message["message_id"]
    return edit.done(
        Event(
            "msg.send", me, rid, f"{me} asks {to}: {subject}" if requires_response else f"{me} tells {to}: {subject}"
        ),
        message,
    )


def notify(
    edit: Edit, ctx: Context, to: str, subject: str, body: str, *, task: str | None = None, decision: str | None = None
) -> Record:
    """A notification from the actor to `to`, as part of another step (an escalation, a reclaim)."""
    notice: Record = {
        "message_id": ctx.new_id("msg", edit.ids("message")),
        "from": ctx.me(),
        "to": to,
        "type": "notification",
        "timestamp": ctx.stamp,
        "subject": subject if len(subject) <= 200 else subject[:197] + "...",
        "message": body,
        "priority": "high",
        "requires_response": False,
        "context": _context(task, decision, ()),
        "status": "sent",
    }
    edit.put("message", notice)
    return notice


def _context(task: str | None, decision: str | None, files: Sequence[str]) -> shapes.MessageContext:
    context: shapes.MessageContext = {"related_task": task}
    if decision is not None:
        context["related_decision"] = decision
    context["related_files"] = list(files)
    return context


def reply(state: State, ctx: Context, message_id: str, body: str) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    asked = edit.require("message", message_id)
    if asked["status"] == "closed":
        raise Refused(f"{message_id} is closed; start a new thread with `coord msg send`")
    question = asked.get("in_reply_to")
    opened = edit.get("message", question) if question else None
    if question and (opened is None or opened["status"] == "closed"):  # closed by its asker, or archived
        raise Refused(
            f"{message_id} answers {question}, whose thread is closed; start a new thread with `coord msg send`"
        )
    answer: Record = {
        "message_id": ctx.new_id("msg", edit.ids("message")),
        "from": me,
        "to": asked["from"],
        "type": "consultation_response",
        "timestamp": ctx.stamp,
        "subject": asked["subject"] if asked["subject"].startswith("Re: ") else _re(asked["subject"]),
        "message": body,
        "priority": asked.get("priority", "medium"),
        "requires_response": False,
        "context": asked.get("context", _context(None, None, ())),
        "status": "sent",
        "in_reply_to": message_id,
    }
    edit.authorize("message", None, answer, hint=f"; only its recipient ({asked['to']}) answers it")
    edit.put("message", answer)
    if asked["status"] == "pending_response":
        edit.put("message", {**asked, "status": "responded"})
    _requeue(edit)
    rid = answer["message_id"]
    return edit.done(Event("msg.reply", me, rid, f"{me} answers {message_id}"), answer)


def _re(subject: str) -> str:
    return ("Re: " + subject)[:200]


def thread(doc: Doc, root: str) -> list[Record]:
    """`root` and every message that answers it, directly or not, in id (time) order."""
    children: dict[str, list[Record]] = {}
    for m in doc["messages"]:
        if "in_reply_to" in m:
            children.setdefault(m["in_reply_to"], []).append(m)
    found: list[Record] = []
    todo = [root]
    while todo:
        rid = todo.pop()
        found.extend(children.get(rid, ()))
        todo.extend(c["message_id"] for c in children.get(rid, ()))
    return sorted(found, key=lambda m: m["message_id"])


def ack(state: State, ctx: Context, message_id: str) -> Change:
    """Close a thread I asked (and mark the answers to me read), or mark a message to me read.

    Acknowledging an answer to my question closes the question too: reading the answer is
    what the specification's "requesting instance acknowledges and closes thread" means.
    """
    edit = Edit(state, ctx)
    me = ctx.me()
    message = edit.require("message", message_id)
    changed = []
    root = message_id
    if message["requires_response"] and message["from"] == me and message["status"] != "closed":
        changed.append({**message, "status": "closed", "closed_at": ctx.stamp})
    elif message["to"] == me and message["status"] == "sent":
        changed.append({**message, "status": "acknowledged", "closed_at": ctx.stamp})
        asked = edit.get("message", message.get("in_reply_to") or "")
        if asked and asked["from"] == me and asked["requires_response"] and asked["status"] != "closed":
            changed.append({**asked, "status": "closed", "closed_at": ctx.stamp})
            root = asked["message_id"]
    elif message["status"] in ("closed", "acknowledged"):
        raise Refused(f"{message_id} is already {message['status']}")
    else:
        raise Refused(
            f"{message_id} is from {message['from']} to {message['to']}: the requester closes a thread, "
            "the recipient acknowledges a message"
        )
    done = {m["message_id"] for m in changed}
    for m in thread(edit.state[model.MESSAGES], root):
        if m["to"] == me and m["status"] == "sent" and m["message_id"] not in done:
            changed.append({**m, "status": "acknowledged", "closed_at": ctx.stamp})
    for m in changed:
        edit.put("message", m)
    _requeue(edit)
    verb = "closes" if changed[0]["status"] == "closed" else "acknowledges"
    return edit.done(Event("msg.ack", me, message_id, f"{me} {verb} {message_id}"), changed[0])
