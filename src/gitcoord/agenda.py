"""What an instance should do now, most pressing first, each with the command that does it. Pure.

The order: tasks offered to me (accept or decline), answers I owe, inputs asked of me,
escalations waiting for me (the human coordinator), answers and notices to read, my tasks in
progress, my tasks that can start, my tasks that wait, decisions I proposed whose inputs are
all in, and ready work that fits me. Items the instance deferred (`coord defer`) come last.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

from gitcoord import model
from gitcoord import records
from gitcoord import views
from gitcoord.model import Record
from gitcoord.records import State

KINDS = (
    "offer",
    "answer",
    "input",
    "escalation",
    "read",
    "continue",
    "start",
    "waiting",
    "decide",
    "claim",
)

Item = dict[str, Any]


def agenda(state: State, me: str, *, deferred: Mapping[str, str] | None = None) -> list[Item]:
    """Everything `me` could do now, in the order to do it; `deferred` maps item ids to why they wait."""
    found = [
        *_offers(state, me),
        *_answers(state, me),
        *_inputs(state, me),
        *_escalations(state, me),
        *_reading(state, me),
        *_my_tasks(state, me),
        *_decide(state, me),
        *_claims(state, me),
    ]
    put_off = deferred or {}
    for item in found:
        item["deferred"] = put_off.get(item["id"])
    return sorted(found, key=lambda i: i["deferred"] is not None)  # stable: the order above holds


def first(items: list[Item]) -> Item | None:
    """The one thing to do now: the first item not deferred, else the first deferred one."""
    return next((i for i in items if i["deferred"] is None), items[0] if items else None)


def owed(items: list[Item]) -> list[Item]:
    """What the instance should not end its turn with: offers, answers and inputs it owes, not deferred."""
    return [i for i in items if i["kind"] in ("offer", "answer", "input") and i["deferred"] is None]


def _item(kind: str, rid: str, title: str, why: str, *commands: str) -> Item:
    return {"kind": kind, "id": rid, "title": title, "why": why, "command": commands[0], "commands": list(commands)}


def _offers(state: State, me: str) -> Iterator[Item]:
    for t in views.by_urgency([t for t in views.tasks(state) if t["assigned_to"] == me and t["status"] == "offered"]):
        rid = t["task_id"]
        yield _item(
            "offer",
            rid,
            t["title"],
            f"{rid} is offered to you ({t.get('priority', 'medium')} priority): accept it or decline it",
            f"coord task accept {rid}",
            f"coord task decline {rid} --reason 'why not'",
        )


def _answers(state: State, me: str) -> Iterator[Item]:
    queued = {
        e["responding_to"]: e.get("expected_response_time") for e in records.communication_log(state)["response_queue"]
    }
    asked = [m for m in views.messages(state) if m["to"] == me and m["status"] == "pending_response"]
    due_by = {m["message_id"]: m.get("expected_response_time") or queued.get(m["message_id"]) for m in asked}
    for m in sorted(asked, key=lambda m: (due_by[m["message_id"]] or "~", m["message_id"])):
        rid = m["message_id"]
        due = f", answer due {due_by[rid]}" if due_by[rid] else ""
        yield _item(
            "answer",
            rid,
            m["subject"],
            f"{m['from']} asks you{due}",
            f"coord msg reply {rid} --body-file -",
            f"coord msg show {rid}",
        )


def _inputs(state: State, me: str) -> Iterator[Item]:
    for d in records.decision_log(state)["pending_decisions"]:
        if me in views.missing_inputs(d):
            rid = d["decision_id"]
            options = [o["option"] for o in d.get("options", ())]
            deadline = f" by {d['deadline']}" if d.get("deadline") else ""
            yield _item(
                "input",
                rid,
                d["title"],
                f"your input is asked{deadline}; the options: {' | '.join(options)}",
                f"coord decision input {rid} --option {_quote(options)} --comment 'why'",
                f"coord decision show {rid}",
            )


def _escalations(state: State, me: str) -> Iterator[Item]:
    if me != model.settings_of(records.registry(state)).human_coordinator:
        return
    for d in records.decision_log(state)["pending_decisions"]:
        escalation = d.get("escalation", {})
        if escalation.get("escalated_to") == me:
            rid = d["decision_id"]
            yield _item(
                "escalation",
                rid,
                d["title"],
                f"{escalation.get('raised_by')} escalated this to you: {escalation.get('reason')}",
                f"coord decision decide {rid} --option {_quote([o['option'] for o in d.get('options', ())])} "
                "--rationale 'why'",
                f"coord decision show {rid}",
            )


def _reading(state: State, me: str) -> Iterator[Item]:
    unread = [m for m in views.messages(state) if m["to"] == me and m["status"] == "sent"]
    answers = [m for m in unread if m["type"] == "consultation_response"]
    notices = [m for m in unread if m["type"] != "consultation_response"]
    for m in [*answers, *notices]:
        rid = m["message_id"]
        what = "answers your question" if m["type"] == "consultation_response" else "tells you"
        yield _item(
            "read",
            rid,
            m["subject"],
            f"{m['from']} {what}; it stays in your inbox until you ack it",
            f"coord msg show {rid}",
            f"coord msg ack {rid}",
        )


def _my_tasks(state: State, me: str) -> Iterator[Item]:
    held = views.by_urgency([t for t in views.tasks(state) if t["assigned_to"] == me])
    for t in held:
        if t["status"] == "in_progress":
            rid = t["task_id"]
            yield _item(
                "continue",
                rid,
                t["title"],
                "you are working on it; complete it with a note on what you did",
                f"coord task complete {rid} --note 'what was done'",
                f"coord task block {rid} --reason 'what it waits for'",
            )
    for t in held:
        if t["status"] == "assigned" and not views.waiting_for(state, t):
            rid = t["task_id"]
            yield _item(
                "start", rid, t["title"], "yours, and its dependencies are completed", f"coord task start {rid}"
            )
    for t in held:
        waits = views.waiting_for(state, t) if t["status"] in ("assigned", "blocked") else []
        if t["status"] == "blocked" or waits:
            yield _waiting(t, waits)


def _waiting(t: Record, waits: list[str]) -> Item:
    rid = t["task_id"]
    if waits:
        why = f"it waits for {', '.join(waits)}"
        return _item("waiting", rid, t["title"], why, "coord wait --ready", f"coord task show {rid}")
    why = f"blocked: {t.get('status_reason') or 'no reason given'}"
    return _item("waiting", rid, t["title"], why, f"coord task start {rid}", f"coord task show {rid}")


def _decide(state: State, me: str) -> Iterator[Item]:
    for d in records.decision_log(state)["pending_decisions"]:
        if d.get("proposed_by") == me and model.decision_status(d) == "pending" and not views.missing_inputs(d):
            rid = d["decision_id"]
            given = ", ".join(f"{i['from']}: {i['option']}" for i in d.get("inputs", ())) or "none was asked"
            yield _item(
                "decide",
                rid,
                d["title"],
                f"every input you asked for is in ({given}); make the call",
                f"coord decision decide {rid} --option {_quote([o['option'] for o in d.get('options', ())])} "
                "--rationale 'why'",
                f"coord decision show {rid}",
            )


def _claims(state: State, me: str) -> Iterator[Item]:
    if me == model.settings_of(records.registry(state)).human_coordinator:
        return  # the human coordinator decides and assigns; the instances take the work
    for t in views.ready(state, me):
        if t["status"] == "pending_assignment":
            rid = t["task_id"]
            needs = ", ".join(t.get("required_expertise", ())) or "no particular expertise"
            yield _item("claim", rid, t["title"], f"ready, and it fits you (needs {needs})", f"coord task claim {rid}")


def _quote(options: list[str]) -> str:
    """The first option, quoted for a shell: the command to copy names a real choice."""
    return shlex.quote(options[0]) if options else "OPTION"
