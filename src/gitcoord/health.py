"""The specification's coordination health checks, on one state at one moment.

- All instances should check in within 24 hours.
- Messages should be responded to within 4 hours.
- Tasks should have clear deadlines and dependencies.
- Decisions should include all affected instances.
- Disagreements go to the human coordinator (open escalations wait for them).

The thresholds come from the registry's settings. An error is something that stops work
or breaks a rule of the specification; a warning is worth a look.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import NamedTuple

from gitcoord import invariants
from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord import views
from gitcoord.model import Settings
from gitcoord.records import State

ERROR, WARNING = "error", "warning"


class Concern(NamedTuple):
    """What a health check found: a rule of the specification not kept, or something worth a look."""

    level: str
    rule: str
    subject: str  # the instance, task, message or decision it is about
    message: str


def _age(now: dt.datetime, then: str) -> str:
    hours = (now - timestamps.parse(then)).total_seconds() / 3600
    return f"{hours:.0f}h" if hours < 72 else f"{hours / 24:.0f} days"


def concerns(state: State, now: dt.datetime) -> list[Concern]:
    settings = model.settings_of(records.registry(state))
    found = [
        *_store(state),
        *_instances(state, now, settings),
        *_messages(state, now, settings),
        *_tasks(state, now, settings),
        *_decisions(state, now),
    ]
    return sorted(found, key=lambda f: (f.level != ERROR, f.rule, f.subject))


def healthy(found: list[Concern]) -> bool:
    return not any(f.level == ERROR for f in found)


def _store(state: State) -> Iterator[Concern]:
    for f in invariants.check(state, archives=records.archive_of(state)):
        rule = "merge-conflict" if f.rule == "merge-conflict" else "invalid"
        yield Concern(ERROR, rule, f.file, f"{f.where}: {f.message}")


def _instances(state: State, now: dt.datetime, settings: Settings) -> Iterator[Concern]:
    for name, entry in records.registry(state)["instances"].items():
        if entry["status"] == "active" and records.silent(entry, now, settings.checkin_hours):
            last = entry["last_update"]  # an entry edited by hand may be active with none
            seen = f"last checked in {_age(now, last)} ago" if last else "has never checked in"
            yield Concern(
                WARNING,
                "stale-instance",
                name,
                f"{name} is active but {seen} "
                f"(the rule: every {settings.checkin_hours:g}h); it should run `coord checkin`",
            )


def _messages(state: State, now: dt.datetime, settings: Settings) -> Iterator[Concern]:
    window = dt.timedelta(hours=settings.response_hours)
    owed = records.communication_log(state)["response_queue"]
    queued = {e["responding_to"]: e.get("expected_response_time") for e in owed}
    for m in views.messages(state):
        if m["requires_response"] and m["status"] == "pending_response":
            due = m.get("expected_response_time") or queued.get(m["message_id"])
            late = timestamps.before(due, now) if due else timestamps.older(m["timestamp"], now, window)
            if late:
                yield Concern(
                    ERROR,
                    "unanswered",
                    m["message_id"],
                    f"{m['to']} has not answered {m['message_id']} ({m['subject']!r}) from {m['from']} "
                    f"for {_age(now, m['timestamp'])} (the rule: within {settings.response_hours:g}h)",
                )


def _tasks(state: State, now: dt.datetime, settings: Settings) -> Iterator[Concern]:
    tasks = records.by_id(state[model.TASKS], model.TASK_RECORDS)
    registry = records.registry(state)["instances"]
    ready = {t["task_id"] for t in views.ready(state)}
    grace = dt.timedelta(hours=settings.response_hours)
    for rid, t in tasks.items():
        status, holder = t["status"], t["assigned_to"]
        if status in rulebook.CLOSED_TASK:
            continue
        if not t.get("due"):
            yield Concern(WARNING, "no-due-date", rid, f"{rid} ({t['title']!r}) has no due date")
        elif timestamps.before(t["due"], now):
            yield Concern(ERROR, "overdue", rid, f"{rid} ({t['title']!r}) was due {t['due']}; it is {status}")
        for dep in t["dependencies"]:
            if dep not in tasks:
                yield Concern(ERROR, "unknown-dependency", rid, f"{rid} depends on {dep}, which is not a task")
            elif tasks[dep]["status"] == "cancelled":
                yield Concern(
                    WARNING,
                    "cancelled-dependency",
                    rid,
                    f"{rid} depends on {dep}, which was cancelled, so it can never start",
                )
        entry = registry.get(holder) if holder else None
        if entry is not None and records.holder_silent(entry, t, now, settings.lease_hours):
            what = "offered to" if status == "offered" else "held by"
            since = f"since {entry['last_update']}" if entry["last_update"] else "ever"
            fix = "" if status == "offered" else "; `coord reclaim` returns it to the queue"
            yield Concern(
                ERROR if status in rulebook.HELD else WARNING,
                "stale-holder",
                rid,
                f"{rid} is {what} {holder}, who has not checked in {since} (lease {settings.lease_hours:g}h){fix}",
            )
        if rid in ready and timestamps.older(t.get("updated") or t["created"], now, grace):
            yield Concern(
                WARNING,
                "ready-untaken",
                rid,
                f"{rid} ({t['title']!r}) has been ready since {t.get('updated') or t['created']}; nobody took it",
            )


def _decisions(state: State, now: dt.datetime) -> Iterator[Concern]:
    doc = records.decision_log(state)
    for d in doc["decisions"]:
        if d.get("status") == "active" and not d.get("affects_instances"):
            yield Concern(
                WARNING,
                "no-affected-instances",
                d["decision_id"],
                f"{d['decision_id']} ({d['title']!r}) names no affected instances",
            )
    for d in doc["pending_decisions"]:
        rid, missing = d["decision_id"], views.missing_inputs(d)
        if model.decision_status(d) == "escalated":
            e = d.get("escalation", {})
            yield Concern(
                ERROR,
                "escalation-open",
                rid,
                f"{rid} ({d['title']!r}) waits for {e.get('escalated_to', 'the human')}: {e.get('reason', '')}",
            )
        elif timestamps.before(d.get("deadline"), now):
            waiting = f"; still missing input from {', '.join(missing)}" if missing else "; every input is in"
            yield Concern(ERROR, "decision-overdue", rid, f"{rid} ({d['title']!r}) was due {d['deadline']}{waiting}")
        elif missing:
            yield Concern(
                WARNING, "missing-input", rid, f"{rid} ({d['title']!r}) waits for input from {', '.join(missing)}"
            )
