"""The communication log: senders, recipients and references resolve, statuses fit whether an
answer is asked, and `response_queue` is in step with the answers still owed.
"""

from __future__ import annotations

from collections.abc import Iterator

from gitcoord import model
from gitcoord import records
from gitcoord import shapes
from gitcoord.findings import Finding
from gitcoord.invariants import placement
from gitcoord.invariants import references
from gitcoord.jsonio import JsonPath
from gitcoord.records import State


def check(state: State, known: references.Known, only: set[int] | None) -> Iterator[Finding]:
    doc = records.communication_log(state)
    # The largest file by far: the common case (every reference resolves) is kept to set lookups.
    f = model.MESSAGES
    yield from placement.check(f, model.MESSAGE_RECORDS, doc, only)
    people = (known.instances | {known.human, model.BROADCAST}) if known.instances is not None else None
    messages, tasks, decisions = known.messages, known.tasks, known.decisions
    owed: dict[str, shapes.Message] = {
        m["message_id"]: m for m in doc["messages"] if m["requires_response"] and m["status"] == "pending_response"
    }
    for i, m in enumerate(doc["messages"]):
        if only is not None and id(m) not in only:
            continue
        path: JsonPath = ("messages", i)
        rid = m["message_id"]
        if people is not None and (m["from"] not in people or m["from"] == model.BROADCAST or m["to"] not in people):
            yield from references.instance(f, (*path, "from"), m["from"], known, "sender")
            yield from references.instance(f, (*path, "to"), m["to"], known, "recipient", broadcast=True)
        reply = m.get("in_reply_to")
        if reply is not None and messages is not None and reply not in messages:
            yield from references.ref(f, (*path, "in_reply_to"), reply, messages, f)
        context = m.get("context")
        if context:
            task, decision = context.get("related_task"), context.get("related_decision")
            if task is not None and tasks is not None and task not in tasks:
                yield from references.ref(f, (*path, "context", "related_task"), task, tasks, model.TASKS)
            if decision is not None and decisions is not None and decision not in decisions:
                yield from references.ref(
                    f, (*path, "context", "related_decision"), decision, decisions, model.DECISIONS
                )
        status, asks = m["status"], m["requires_response"]
        if status not in (_REQUEST_STATUSES if asks else _INFO_STATUSES):
            expected = _REQUEST_STATUSES if asks else _INFO_STATUSES
            kind = "requires" if asks else "does not require"
            message = f"{rid} {kind} a response, so its status is one of {', '.join(expected)}, not {status!r}"
            yield Finding(f, (*path, "status"), "status", message)
        if m["type"] == "consultation_response" and reply is None:
            yield Finding(f, path, "status", f"{rid} is a consultation_response but names no in_reply_to")
    yield from _queue(doc, owed)


_REQUEST_STATUSES = ("pending_response", "responded", "closed")
_INFO_STATUSES = ("sent", "acknowledged")


def _queue(doc: shapes.CommunicationLog, owed: dict[str, shapes.Message]) -> Iterator[Finding]:
    """`response_queue` holds exactly one entry for each answer still owed."""
    f = model.MESSAGES
    fix = "; the queue follows from the messages, and the next `coord msg` step rebuilds it"
    listed: set[str] = set()
    for i, entry in enumerate(doc["response_queue"]):
        rid, path = entry["responding_to"], ("response_queue", i)
        if rid in listed:
            yield Finding(f, path, "response-queue", f"{rid} is queued more than once" + fix)
        listed.add(rid)
        message = owed.get(rid)
        if message is None:
            yield Finding(f, path, "response-queue", f"{rid} is queued but no answer to it is owed" + fix)
            continue
        if entry["from"] != message["to"]:
            yield Finding(
                f,
                (*path, "from"),
                "response-queue",
                f"the answer to {rid} is owed by {message['to']!r}, not {entry['from']!r}" + fix,
            )
        due = message.get("expected_response_time")
        if due is not None and entry.get("expected_response_time") != due:
            yield Finding(f, (*path, "expected_response_time"), "response-queue", f"{rid} is due {due}" + fix)
    for rid in sorted(owed.keys() - listed):
        yield Finding(f, ("response_queue",), "response-queue", f"{rid} awaits an answer but is not queued" + fix)
