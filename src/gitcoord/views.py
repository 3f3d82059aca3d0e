"""Read-only questions about a state: the board, what is ready, what waits for whom."""

from __future__ import annotations

from typing import Any

from gitcoord import model
from gitcoord.model import Record
from gitcoord.records import State
from gitcoord.records import iter_records

_PRIORITY = {p: n for n, p in enumerate(model.PRIORITIES)}


def tasks(state: State) -> list[Record]:
    return [r for _, _, r in iter_records(state[model.TASKS], model.TASK_RECORDS)]


def messages(state: State) -> list[Record]:
    return [r for _, _, r in iter_records(state[model.MESSAGES], model.MESSAGE_RECORDS)]


def decisions(state: State) -> list[Record]:
    return [r for _, _, r in iter_records(state[model.DECISIONS], model.DECISION_RECORDS)]


def by_urgency(records: list[Record]) -> list[Record]:
    return sorted(
        records, key=lambda t: (_PRIORITY.get(t.get("priority", "low"), 3), t.get("due") or "~", t["task_id"])
    )


def missing_inputs(decision: Record) -> list[str]:
    given = {i["from"] for i in decision.get("inputs", ())}
    return [n for n in decision.get("input_needed_from", ()) if n not in given]


def ready(state: State, instance: str | None = None) -> list[Record]:
    """Tasks that can be taken now: unassigned (or offered to `instance`), every dependency completed.

    With an instance, only those that fit it: suggested for it, offered to it, or needing
    expertise it has (a task that asks for no expertise fits everyone).
    """
    all_tasks = {t["task_id"]: t for t in tasks(state)}
    expertise: set[str] = set()
    if instance is not None:
        entry = state[model.REGISTRY]["instances"].get(instance)
        expertise = set(entry["expertise_areas"]) if entry else set()
    found = []
    for t in all_tasks.values():
        if t["status"] not in ("pending_assignment", "offered"):
            continue
        if any(all_tasks.get(d, {}).get("status") != "completed" for d in t["dependencies"]):
            continue
        if instance is not None:
            offered = t["status"] == "offered"
            if offered and t["assigned_to"] != instance:
                continue
            needs = set(t.get("required_expertise", ()))
            fits = not needs or bool(needs & expertise) or t.get("suggested_assignee") == instance
            if not (offered or fits):
                continue
        elif t["status"] == "offered":
            continue
        found.append(t)
    return by_urgency(found)


def board(state: State) -> dict[str, Any]:
    registry = state[model.REGISTRY]
    instances = [
        {
            "instance": name,
            **{k: e[k] for k in ("role", "status", "current_task", "last_update", "available_for_consultation")},
        }
        for name, e in registry["instances"].items()
    ]
    by_status: dict[str, list[Record]] = {s: [] for s in model.TASK_STATUSES}
    for t in tasks(state):
        by_status[t["status"]].append(t)
    open_messages = [
        m for m in messages(state) if m["status"] in ("pending_response", "responded") or (m["status"] == "sent")
    ]
    pending = [
        {
            "decision_id": d["decision_id"],
            "title": d["title"],
            "status": model.decision_status(d),
            "deadline": d.get("deadline"),
            "inputs_received": [i["from"] for i in d.get("inputs", ())],
            "inputs_missing": missing_inputs(d),
        }
        for d in state[model.DECISIONS]["pending_decisions"]
    ]
    return {
        "instances": instances,
        "tasks": {s: [_task_line(t) for t in by_urgency(ts)] for s, ts in by_status.items() if ts},
        "open_messages": [_message_line(m) for m in open_messages],
        "pending_decisions": pending,
        "conflicts": sum(len(state[f].get("merge_conflicts", ())) for f in model.FILES),
    }


def _task_line(t: Record) -> dict[str, Any]:
    return {k: t.get(k) for k in ("task_id", "title", "status", "assigned_to", "priority", "due", "dependencies")}


def _message_line(m: Record) -> dict[str, Any]:
    return {k: m.get(k) for k in ("message_id", "from", "to", "type", "subject", "status", "timestamp", "in_reply_to")}
