"""What changed between two states that concerns one instance: the news a sync, a wait, a
session's start or a merge brings it."""

from __future__ import annotations

from typing import Any

from gitcoord import model
from gitcoord import records
from gitcoord.model import Record
from gitcoord.records import State
from gitcoord.records import by_id
from gitcoord.views import decision_summary
from gitcoord.views import decisions
from gitcoord.views import message_entry
from gitcoord.views import message_summary
from gitcoord.views import messages
from gitcoord.views import missing_inputs
from gitcoord.views import task_summary

# What `between` reports, in the order a reader should see it (the rest are counts).
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


def between(before: State, after: State, me: str | None) -> dict[str, Any]:
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
            decision_summary(d)
            for d in made
            if me is not None and d not in rulings and _affects(d, me) and me not in d.get("decided_by", ())
        ],  # a decision I made myself is no news to me
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


def worth_telling(found: dict[str, Any]) -> bool:
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
