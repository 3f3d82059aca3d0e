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
    expertise: set[str] = set()
    if instance is not None:
        entry = records.registry(state)["instances"].get(instance)
        expertise = set(entry["expertise_areas"]) if entry else set()
    found = []
    for t in all_tasks.values():
        if t["status"] not in ("pending_assignment", "offered", "assigned"):
            continue
        if records.unfinished(t, all_tasks.get):
            continue
        if t["status"] != "pending_assignment":
            if instance is None or t["assigned_to"] != instance:
                continue
        elif instance is not None:
            needs = set(t.get("required_expertise", ()))
            if needs and not needs & expertise and t.get("suggested_assignee") != instance:
                continue
            if any(d["instance"] == instance for d in t.get("declines", ())):
                continue  # it said no, with its reason: the task waits for someone else
        found.append(t)
    return by_urgency(found)


def waiting_for(state: State, task: Record) -> list[str]:
    """The dependencies `task` still waits for, each with its status: `task_001 (in_progress)`."""
    lookup = by_id(state[model.TASKS], model.TASK_RECORDS).get
    return [f"{dep} ({status})" for dep, status in records.unfinished(task, lookup)]


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


# What `news` reports, in the order a reader should see it (the rest are counts).
NEWS: tuple[str, ...] = (
    "offered_to_me",
    "questions_for_me",
    "input_requested",
    "escalations_for_me",
    "replies_to_me",
    "inputs_on_my_proposals",
    "now_ready",
    "claims_lost",
    "rulings_for_me",
    "decisions_affecting_me",
    "notifications",
    "instances_registered",
)


def news(before: State, after: State, me: str | None) -> dict[str, Any]:
    """What changed between two states that concerns `me`: what a sync, a merge or a fetch brought.

    Replies to my questions, questions and offers to me, inputs on my proposals and requests
    for mine, my tasks whose dependencies are now all completed, claims I lost, decisions made
    that affect me (and rulings on escalations I raised, took a side in, or whose task I hold),
    messages to me or to all, and instances that registered.
    """
    old_tasks = by_id(before[model.TASKS], model.TASK_RECORDS)
    new_tasks = by_id(after[model.TASKS], model.TASK_RECORDS)
    old_messages = {m["message_id"] for m in messages(before)}
    old_decisions = {d["decision_id"]: d for d in decisions(before)}
    lost, offered, now_ready = [], [], []
    for t in new_tasks.values():
        was = old_tasks.get(t["task_id"], {})
        if t["assigned_to"] != me and _claims_of(t, me) > _claims_of(was, me):  # a merge just kept mine aside
            lost.append({**task_summary(t), "lost_to": t["assigned_to"]})
        elif t["assigned_to"] == me and t["status"] == "offered" and was.get("assigned_to") != me:
            offered.append(task_summary(t))
        if _became_ready(t, was, me, new_tasks, old_tasks):
            now_ready.append(task_summary(t))
    arrived = [m for m in messages(after) if m["message_id"] not in old_messages and m["from"] != me]
    for_me = [m for m in arrived if m["to"] in (me, model.BROADCAST)]
    made = [
        d
        for d in decisions(after)
        if model.decision_status(d) == "active"
        and model.decision_status(old_decisions.get(d["decision_id"], {})) != "active"
    ]
    mine = {t["task_id"] for t in new_tasks.values() if t["assigned_to"] == me}
    rulings = [d for d in made if "escalation" in d and _party(d, me, mine)]
    return {
        "offered_to_me": offered,
        "questions_for_me": [  # asked, and not answered yet (it may have been, since it arrived)
            message_entry(m) for m in for_me if m["requires_response"] and m["status"] == "pending_response"
        ],
        **_decision_news(before, after, me, old_decisions),
        "replies_to_me": [message_entry(m) for m in for_me if m["type"] == "consultation_response"],
        "now_ready": now_ready,
        "claims_lost": lost,
        "rulings_for_me": [decision_summary(d) for d in rulings],
        "decisions_affecting_me": [
            decision_summary(d) for d in made if me is not None and d not in rulings and _affects(d, me)
        ],
        "notifications": [message_entry(m) for m in for_me if m["type"] == "notification"],
        "instances_registered": [
            {"instance": name, "role": entry["role"], "expertise_areas": entry["expertise_areas"]}
            for name, entry in after[model.REGISTRY]["instances"].items()
            if name not in before[model.REGISTRY]["instances"]
        ],
        "messages_for_me": [message_summary(m) for m in for_me],
        "messages_arrived": len(arrived),
        "decisions_made": [decision_summary(d) for d in made],
        "tasks_arrived": len([t for t in new_tasks if t not in old_tasks]),
    }


def _claims_of(task: Record, me: str | None) -> int:
    return sum(1 for c in task.get("contested", ()) if c["assigned_to"] == me)


def is_news(found: dict[str, Any]) -> bool:
    return any(found.get(key) for key in NEWS)


def _became_ready(t: Record, was: Record, me: str | None, new: dict[str, Record], old: dict[str, Record]) -> bool:
    """A task of mine (held or offered) whose last unfinished dependency was just completed."""
    if me is None or t["assigned_to"] != me or t["status"] not in ("offered", "assigned", "blocked"):
        return False
    return bool(was) and not records.unfinished(t, new.get) and bool(records.unfinished(was, old.get))


def _decision_news(before: State, after: State, me: str | None, old: dict[str, Record]) -> dict[str, Any]:
    """Inputs others gave on my proposals, input asked of me, and (for the human) new escalations."""
    inputs, requested, escalated = [], [], []
    for d in decisions(after):
        was = old.get(d["decision_id"], {})
        if d.get("proposed_by") == me:
            seen = {(i["from"], i["option"], i.get("at")) for i in was.get("inputs", ())}
            for i in d.get("inputs", ()):
                if i["from"] != me and (i["from"], i["option"], i.get("at")) not in seen:
                    inputs.append(
                        {
                            "decision_id": d["decision_id"],
                            "title": d["title"],
                            **{k: i.get(k) for k in ("from", "option", "comment")},
                            "inputs_missing": missing_inputs(d),
                        }
                    )
        if model.decision_status(d) not in ("pending", "escalated"):
            continue
        if me in missing_inputs(d) and (not was or me not in missing_inputs(was)):
            requested.append(decision_summary(d))
        to = d.get("escalation", {}).get("escalated_to")
        if to == me and model.decision_status(was) != "escalated":
            escalated.append(decision_summary(d))
    return {"input_requested": requested, "escalations_for_me": escalated, "inputs_on_my_proposals": inputs}


def _affects(d: Record, me: str) -> bool:
    named = d.get("affects_instances", ())
    return me in named or model.BROADCAST in named or me == d.get("proposed_by") or me in d.get("input_needed_from", ())


def _party(d: Record, me: str | None, mine: set[str]) -> bool:
    """Whether `me` raised the escalation `d` resolves, took a side in it, or holds its task."""
    escalation = d["escalation"]
    sides = {p["instance"] for p in escalation.get("positions", ())}
    tasks_of = {escalation.get("subject"), *d.get("related_tasks", ())}
    return me == escalation.get("raised_by") or me in sides or bool(tasks_of & mine)
