"""Read-only questions about a state: the board, what is ready, what waits for whom."""

from __future__ import annotations

from typing import Any

from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord.model import Fields
from gitcoord.model import Record
from gitcoord.records import State
from gitcoord.records import by_id
from gitcoord.records import iter_records

_PRIORITY = {p: n for n, p in enumerate(rulebook.PRIORITIES)}


def tasks(state: State) -> list[Record]:
    return [r for _, _, r in iter_records(state[model.TASKS], model.TASK_RECORDS)]


def messages(state: State) -> list[Record]:
    return [r for _, _, r in iter_records(state[model.MESSAGES], model.MESSAGE_RECORDS)]


def decisions(state: State) -> list[Record]:
    return [r for _, _, r in iter_records(state[model.DECISIONS], model.DECISION_RECORDS)]


def by_urgency(records: list[Record]) -> list[Record]:
    """Open tasks before closed ones; then by priority, the soonest due first, then by id (creation)."""
    return sorted(
        records,
        key=lambda t: (
            t["status"] in rulebook.CLOSED_TASK,
            _PRIORITY.get(t.get("priority", "low"), 3),
            t.get("due") or "~",
            t["task_id"],
        ),
    )


def missing_inputs(decision: Fields) -> list[str]:
    """Who was asked for an input and has not given it; not whoever the decision is escalated to,
    whose answer is the decision itself (`coord decision decide`), not an input to it."""
    given = {i["from"] for i in decision.get("inputs", ())}
    deciding = (decision.get("escalation") or {}).get("escalated_to")
    return [n for n in decision.get("input_needed_from", ()) if n not in given and n != deciding]


def ready(state: State, instance: str | None = None) -> list[Record]:
    """Tasks that can be taken or started now: every dependency completed, and unassigned.

    With an instance: also the tasks it holds that can start (assigned to it) and those offered
    to it; and of the unassigned, only those that fit it: suggested for it, or needing
    expertise it has (a task that asks for no expertise fits everyone), and not declined by it.
    """
    all_tasks = by_id(state[model.TASKS], model.TASK_RECORDS)
    archived = records.archive_of(state)
    expertise: set[str] = set()
    if instance is not None:
        entry = records.registry(state)["instances"].get(instance)
        expertise = set(entry["expertise_areas"]) if entry else set()
    found = []
    for t in all_tasks.values():
        if t["status"] not in ("pending_assignment", "offered", "assigned"):
            continue
        if records.unfinished(t, all_tasks.get, archived):
            continue
        if t["status"] != "pending_assignment":
            if instance is None or t["assigned_to"] != instance:
                continue
        elif instance is not None:
            needs = set(t.get("required_expertise", ()))
            if needs and not needs & expertise and t.get("suggested_assignee") != instance:
                continue
            if declined_by(t, instance):
                continue  # it said no, with its reason: the task waits for someone else
        found.append(t)
    return by_urgency(found)


def declined_by(task: Record, instance: str) -> bool:
    return any(d["instance"] == instance for d in task.get("declines", ()))


def waiting_for(state: State, task: Record) -> list[str]:
    """The dependencies `task` still waits for, each with its status: `task_001 (in_progress)`."""
    lookup = by_id(state[model.TASKS], model.TASK_RECORDS).get
    return [f"{dep} ({status})" for dep, status in records.unfinished(task, lookup, records.archive_of(state))]


def board(state: State) -> dict[str, Any]:
    registry = state[model.REGISTRY]
    instances = [
        {
            "instance": name,
            **{k: e[k] for k in ("role", "status", "current_task", "last_update", "available_for_consultation")},
        }
        for name, e in registry["instances"].items()
    ]
    by_status: dict[str, list[Record]] = {s: [] for s in rulebook.TASK_STATUSES}
    for t in tasks(state):
        by_status[t["status"]].append(t)
    open_messages = [m for m in messages(state) if m["status"] in ("sent", "pending_response", "responded")]
    pending = [decision_summary(d) for d in records.decision_log(state)["pending_decisions"]]
    return {
        "instances": instances,
        "tasks": {s: [task_summary(t) for t in by_urgency(ts)] for s, ts in by_status.items() if ts},
        "open_messages": [message_summary(m) for m in open_messages],
        "pending_decisions": pending,
        "conflicts": sum(len(state[f].get("merge_conflicts", ())) for f in model.FILES),
    }


# What a list shows of each record (schemas/output.json: task_summary, ...): these fields exactly
# as the record holds them (null where it has none), and for a decision a few derived ones. A
# `show` gives the whole record with the same derived fields, so a summary is always part of it.
TASK_SUMMARY = ("task_id", "title", "status", "assigned_to", "priority", "due", "dependencies", "created_by")
MESSAGE_SUMMARY = (
    "message_id",
    "from",
    "to",
    "type",
    "subject",
    "status",
    "priority",
    "requires_response",
    "timestamp",
    "in_reply_to",
)
DECISION_SUMMARY = ("decision_id", "title", "options", "deadline", "proposed_by", "decision", "decided_by", "date")


def task_summary(t: Record) -> dict[str, Any]:
    return {k: t.get(k) for k in TASK_SUMMARY}


def message_summary(m: Record) -> dict[str, Any]:
    return {k: m.get(k) for k in MESSAGE_SUMMARY}


def message_entry(m: Record) -> dict[str, Any]:
    """A message as a reader needs it: the summary and what it says."""
    return {**message_summary(m), "message": m["message"]}


def _after(timestamp: str | None, since: str | None) -> bool:
    return since is None or (timestamp is not None and timestamps.parse(timestamp) > timestamps.parse(since))


def inbox(state: State, me: str, *, since: str | None = None) -> dict[str, Any]:
    """What waits for `me`: offers, answers I owe, answers I got, notices, and decisions that need me.

    A notification to me stays until I acknowledge it. Broadcasts (messages to all) have no
    per-reader status; those since `since` are shown.
    """
    human = model.settings_of(records.registry(state)).human_coordinator
    awaiting: list[Record] = []
    replies: list[Record] = []
    notices: list[Record] = []
    broadcasts: list[Record] = []
    asked: list[Record] = []
    for m in messages(state):
        if m["to"] == me:
            if m["status"] == "pending_response":
                awaiting.append(m)
            elif m["status"] == "sent":
                (replies if m["type"] == "consultation_response" else notices).append(m)
        elif m["to"] == model.BROADCAST and m["from"] != me and _after(m["timestamp"], since):
            broadcasts.append(m)
        if m["from"] == me and m["requires_response"] and m["status"] in ("pending_response", "responded"):
            asked.append(m)
    pending = records.decision_log(state)["pending_decisions"]
    offered = [t for t in tasks(state) if t["assigned_to"] == me and t["status"] == "offered"]
    return {
        "offered_to_me": [{**task_summary(t), "waiting_for": waiting_for(state, t)} for t in by_urgency(offered)],
        "awaiting_my_answer": [message_entry(m) for m in awaiting],
        "replies_to_me": [message_entry(m) for m in replies],
        "notifications": [message_entry(m) for m in notices],
        "broadcasts": [message_entry(m) for m in broadcasts],
        "my_open_questions": [message_summary(m) for m in asked],
        "decisions_needing_my_input": [decision_summary(d) for d in pending if me in missing_inputs(d)],
        "escalations_for_me": [
            decision_summary(d) for d in pending if d.get("escalation", {}).get("escalated_to") == me
        ]
        if me == human
        else [],
    }


def briefing(state: State, me: str, *, since: str | None) -> dict[str, Any]:
    """The startup checklist: my tasks, my messages, decisions that concern me, what is ready for me."""
    mine, lost = [], []
    for t in tasks(state):
        if t["assigned_to"] == me and t["status"] in rulebook.HELD:
            mine.append(t)
        elif any(c["assigned_to"] == me for c in t.get("contested", ())) and t["assigned_to"] != me:
            lost.append(t)
    decided = [
        d
        for d in records.decision_log(state)["decisions"]
        if (me in d.get("affects_instances", ()) or model.BROADCAST in d.get("affects_instances", ()))
        and _after(d.get("date"), since)
    ]
    held = [{**task_summary(t), "waiting_for": waiting_for(state, t)} for t in by_urgency(mine)]
    return {
        "instance": me,
        "my_tasks": held,
        "can_start": [t for t in held if t["status"] == "assigned" and not t["waiting_for"]],
        "claims_lost": [task_summary(t) for t in lost],
        **inbox(state, me, since=since),
        "decisions_affecting_me": [decision_summary(d) for d in decided],
        "ready_for_me": [task_summary(t) for t in ready(state, me) if t["status"] == "pending_assignment"],
    }


def decision_summary(d: Fields) -> dict[str, Any]:
    return {**{k: d.get(k) for k in DECISION_SUMMARY}, **decision_derived(d)}


def decision_derived(d: Fields) -> dict[str, Any]:
    """What a decision's summary and its `show` add: its status (the seed's pending decisions carry
    none), and whose inputs are in and whose are still missing."""
    return {
        "status": model.decision_status(d),
        "inputs_received": [i["from"] for i in d.get("inputs", ())],
        "inputs_missing": missing_inputs(d),
    }
