"""What the board shows, as data: one pure function of a state and a moment.

No git, no clock, no HTML: the caller passes the time (and, to show it, the commit), and
the page only draws what this returns. Text from instances is passed through as it is;
the page shows it as text, never as markup.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gitcoord import health
from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord import views
from gitcoord.board import layout
from gitcoord.model import Record
from gitcoord.records import State

# The board's three columns, and the statuses each gathers.
COLUMNS = (
    ("queue", "Waiting to be taken", ("pending_assignment", "offered")),
    ("held", "In hand", ("assigned", "in_progress", "blocked")),
    ("closed", "Closed", ("completed", "cancelled")),
)
CLOSED_SHOWN = 30  # the most recently closed tasks; older ones are in `coord task list`
LIST_LIMIT = 200  # open tasks per column, consultations, decisions, findings: the most pressing first
GRAPH_LIMIT = 300  # nodes drawn; past that a graph stops being read
BODY_LIMIT = 600  # characters of a message body


def page_data(
    state: State, now: dt.datetime, *, commit: str | None = None, branch: str | None = None
) -> dict[str, Any]:
    settings = model.settings_of(state[model.REGISTRY])
    tasks = views.tasks(state)
    found = health.concerns(state, now)
    pending = state[model.DECISIONS]["pending_decisions"]
    return {
        "generated_at": timestamps.format(now),
        "branch": branch,
        "commit": commit,
        "human": settings.human_coordinator,
        "settings": settings._asdict(),
        "health": {
            "healthy": health.healthy(found),
            "errors": sum(f.level == health.ERROR for f in found),
            "warnings": sum(f.level != health.ERROR for f in found),
        },
        "findings": _capped([f._asdict() for f in found]),  # errors first
        "columns": columns(state, tasks, now),
        "graph": {"open": graph(tasks, open_only=True), "all": graph(tasks, open_only=False)},
        "holdings": holdings(tasks, now),
        "consultations": _capped(consultations(state, now, settings.response_hours)),
        "decisions": _capped([decision(d, now) for d in pending if model.decision_status(d) == "pending"]),
        "escalations": _capped([escalation(d, now) for d in pending if model.decision_status(d) == "escalated"]),
        "instances": instances(state, tasks, now, settings.checkin_hours),
    }


def _hours(since: str | None, now: dt.datetime) -> float | None:
    return None if since is None else round((now - timestamps.parse(since)).total_seconds() / 3600, 2)


def _capped(items: list[dict[str, Any]], limit: int = LIST_LIMIT) -> dict[str, Any]:
    return {"total": len(items), "items": items[:limit]}


def card(t: Record, now: dt.datetime, done: set[str], ready: set[str]) -> dict[str, Any]:
    status = t["status"]
    return {
        "task_id": t["task_id"],
        "title": t["title"],
        "status": status,
        "priority": t.get("priority"),
        "assigned_to": t["assigned_to"],
        "assigned_at": t.get("assigned_at"),
        "held_hours": _hours(t.get("assigned_at"), now) if status in rulebook.HELD else None,
        "due": t.get("due"),
        "overdue": status not in rulebook.CLOSED_TASK and timestamps.before(t.get("due"), now),
        "dependencies": t["dependencies"],
        "waiting_on": [d for d in t["dependencies"] if d not in done],
        "ready": t["task_id"] in ready,
        "status_reason": t.get("status_reason"),
        "updated": t.get("updated") or t["created"],
        # What the human coordinator may do from the page: the protocol's own table says.
        "actions": [a for a in ("release", "cancel") if status in rulebook.TASK.moves[a].sources],
    }


def columns(state: State, tasks: list[Record], now: dt.datetime) -> list[dict[str, Any]]:
    done = {t["task_id"] for t in tasks if t["status"] == "completed"}
    ready = {t["task_id"] for t in views.ready(state)}
    found = []
    for key, title, statuses in COLUMNS:
        mine = [t for t in tasks if t["status"] in statuses]
        if key == "closed":
            mine = sorted(mine, key=lambda t: t.get("updated") or t["created"], reverse=True)
            shown = mine[:CLOSED_SHOWN]
        else:
            shown = views.by_urgency(mine)[:LIST_LIMIT]
        found.append(
            {
                "key": key,
                "title": title,
                "statuses": list(statuses),
                "total": len(mine),
                "tasks": [card(t, now, done, ready) for t in shown],
            }
        )
    return found


def graph(tasks: list[Record], *, open_only: bool) -> dict[str, Any]:
    """The dependency graph of the open tasks (and the cancelled ones they wait for), or of all.

    Tasks with no dependency link in view are left out (they are on the board), and past
    GRAPH_LIMIT the least urgent are, so that hundreds of tasks still give a readable picture.
    """
    by_id = {t["task_id"]: t for t in tasks}
    if open_only:
        chosen = views.by_urgency([t for t in tasks if t["status"] not in rulebook.CLOSED_TASK])
        dead = {d for t in chosen for d in t["dependencies"] if by_id.get(d, {}).get("status") == "cancelled"}
        chosen += [by_id[d] for d in sorted(dead)]
    else:
        closed = [t for t in tasks if t["status"] in rulebook.CLOSED_TASK]
        closed.sort(key=lambda t: t.get("updated") or t["created"], reverse=True)
        chosen = views.by_urgency([t for t in tasks if t["status"] not in rulebook.CLOSED_TASK]) + closed
    linked = _linked(chosen)
    candidates = [t for t in chosen if t["task_id"] in linked]
    drawn = _most_urgent(candidates, GRAPH_LIMIT) if len(candidates) > GRAPH_LIMIT else candidates
    ids = {t["task_id"] for t in drawn}
    edges = [(d, t["task_id"]) for t in drawn for d in t["dependencies"] if d in ids and d != t["task_id"]]
    placed = layout.layered([t["task_id"] for t in drawn], edges)
    return {
        "nodes": [
            {
                "id": t["task_id"],
                "title": t["title"],
                "status": t["status"],
                "assigned_to": t["assigned_to"],
                "x": placed.positions[t["task_id"]][0],
                "y": placed.positions[t["task_id"]][1],
            }
            for t in drawn
        ],
        "edges": [{"from": a, "to": b, "points": [list(p) for p in placed.routes[(a, b)]]} for a, b in edges],
        "width": placed.width,
        "height": placed.height,
        "node_width": layout.NODE_WIDTH,
        "node_height": layout.NODE_HEIGHT,
        "unlinked": len(chosen) - len(candidates),
        "over_limit": len(candidates) - len(drawn),
    }


def _most_urgent(candidates: list[Record], limit: int) -> list[Record]:
    """The first `limit` of `candidates`, each with what it waits for, so that the cut leaves links to draw."""
    by_id = {t["task_id"]: t for t in candidates}
    taken: dict[str, Record] = {}
    for t in candidates:
        group = [t, *(by_id[d] for d in t["dependencies"] if d in by_id)]
        fresh = [g for g in dict.fromkeys(g["task_id"] for g in group) if g not in taken]
        if len(taken) + len(fresh) > limit:
            continue
        taken.update((rid, by_id[rid]) for rid in fresh)
    kept = list(taken.values())
    return [t for t in kept if t["task_id"] in _linked(kept)]  # a task whose only links were cut off


def _linked(tasks: list[Record]) -> set[str]:
    """The tasks that depend on, or are depended on by, another of `tasks`."""
    ids = {t["task_id"] for t in tasks}
    found: set[str] = set()
    for t in tasks:
        deps = [d for d in t["dependencies"] if d in ids and d != t["task_id"]]
        if deps:
            found.add(t["task_id"])
            found.update(deps)
    return found


def holdings(tasks: list[Record], now: dt.datetime) -> dict[str, Any]:
    """Who holds (or is offered) what, and since when, by instance: the most urgent LIST_LIMIT tasks."""
    held = views.by_urgency([t for t in tasks if t["assigned_to"] and t["status"] not in rulebook.CLOSED_TASK])
    by_holder: dict[str, list[dict[str, Any]]] = {}
    for t in held[:LIST_LIMIT]:
        by_holder.setdefault(t["assigned_to"], []).append(
            {
                "task_id": t["task_id"],
                "title": t["title"],
                "status": t["status"],
                "since": t.get("assigned_at"),
                "hours": _hours(t.get("assigned_at"), now),
            }
        )
    items = [{"instance": name, "tasks": mine} for name, mine in sorted(by_holder.items())]
    return {"total": len(held), "items": items}


def consultations(state: State, now: dt.datetime, response_hours: float) -> list[dict[str, Any]]:
    """Questions waiting for an answer, with how long each has waited against its allowance."""
    queued = {e["responding_to"]: e.get("expected_response_time") for e in state[model.MESSAGES]["response_queue"]}
    found = []
    for m in views.messages(state):
        if not (m["requires_response"] and m["status"] == "pending_response"):
            continue
        asked = timestamps.parse(m["timestamp"])
        due_text = m.get("expected_response_time") or queued.get(m["message_id"])
        due = timestamps.parse(due_text) if due_text else asked + dt.timedelta(hours=response_hours)
        context = m.get("context", {})
        body = m["message"]
        found.append(
            {
                "message_id": m["message_id"],
                "from": m["from"],
                "to": m["to"],
                "subject": m["subject"],
                "body": body if len(body) <= BODY_LIMIT else body[: BODY_LIMIT - 1] + "…",
                "priority": m.get("priority"),
                "asked_at": m["timestamp"],
                "due_at": timestamps.format(due),
                "waited_hours": _hours(m["timestamp"], now),
                "allowed_hours": round((due - asked).total_seconds() / 3600, 2),
                "late": due < now,
                "related_task": context.get("related_task"),
                "related_decision": context.get("related_decision"),
            }
        )
    return sorted(found, key=lambda c: (not c["late"], -(c["waited_hours"] or 0), c["message_id"]))


def decision(d: Record, now: dt.datetime) -> dict[str, Any]:
    return {
        "decision_id": d["decision_id"],
        "title": d["title"],
        "description": d.get("description", ""),
        "status": model.decision_status(d),
        "options": [
            {"option": o["option"], "pros": o.get("pros", []), "cons": o.get("cons", [])} for o in d.get("options", ())
        ],
        "deadline": d.get("deadline"),
        "overdue": timestamps.before(d.get("deadline"), now),
        "proposed_by": d.get("proposed_by"),
        "proposed_at": d.get("proposed_at"),
        "inputs_received": [
            {"from": i["from"], "option": i["option"], "comment": i.get("comment", ""), "at": i.get("at")}
            for i in d.get("inputs", ())
        ],
        "inputs_missing": views.missing_inputs(d),
        "related_tasks": d.get("related_tasks", []),
    }


def escalation(d: Record, now: dt.datetime) -> dict[str, Any]:
    e = d.get("escalation", {})
    return {
        **decision(d, now),
        "subject": e.get("subject", d["decision_id"]),
        "raised_by": e.get("raised_by"),
        "raised_at": e.get("raised_at"),
        "reason": e.get("reason", ""),
        "escalated_to": e.get("escalated_to"),
        "positions": [
            {"instance": p["instance"], "position": p["position"], **({"by": p["by"]} if "by" in p else {})}
            for p in e.get("positions", ())
        ],
        "waited_hours": _hours(e.get("raised_at"), now),
    }


def instances(state: State, tasks: list[Record], now: dt.datetime, checkin_hours: float) -> list[dict[str, Any]]:
    held: dict[str, list[str]] = {}
    for t in tasks:
        if t["status"] in rulebook.HELD and t["assigned_to"]:
            held.setdefault(t["assigned_to"], []).append(t["task_id"])
    return [
        {
            "instance": name,
            "role": e["role"],
            "status": e["status"],
            "last_update": e["last_update"],
            "hours_since": _hours(e["last_update"], now),
            # The health rule's own test: an active instance past the check-in window.
            "stale": e["status"] == "active" and records.silent(e, now, checkin_hours),
            "current_task": e["current_task"],
            "available": e["available_for_consultation"],
            "holds": sorted(held.get(name, [])),
        }
        for name, e in state[model.REGISTRY]["instances"].items()
    ]
