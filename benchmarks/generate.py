"""Realistic coordination stores of a chosen size, valid by construction.

S is the specification's own example; M and L are what a busy team of agents accumulates:
a dependency DAG of tasks in every status, consultation threads with their answers,
notifications, and decisions with options and inputs.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from importlib.resources import files
from typing import Any
from typing import NamedTuple

from gitcoord import ids
from gitcoord import model
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord.model import Doc
from gitcoord.protocol.messages import response_queue


class Size(NamedTuple):
    tasks: int
    instances: int
    messages: int
    decisions: int


SIZES = {
    "M": Size(tasks=1_000, instances=50, messages=10_000, decisions=100),
    "L": Size(tasks=10_000, instances=100, messages=50_000, decisions=1_000),
}
ROLES = (
    "architecture-backend",
    "frontend-ux",
    "ai-ml-specialist",
    "devops-infrastructure",
    "security-compliance",
    "documentation",
)
AREAS = (
    "api-design",
    "databases",
    "react",
    "ui-design",
    "machine-learning",
    "deployment",
    "monitoring",
    "security",
    "docs",
    "testing",
)
START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
WORDS = (
    "agent",
    "api",
    "cache",
    "queue",
    "schema",
    "review",
    "deploy",
    "monitor",
    "latency",
    "index",
    "token",
    "session",
    "model",
    "prompt",
    "eval",
)


def seed() -> dict[str, Doc]:
    return {f: json.loads(files("gitcoord.examples").joinpath(f).read_text()) for f in model.FILES}


def generate(name: str, *, rng_seed: int = 7) -> dict[str, Doc]:
    if name == "S":
        return seed()
    size = SIZES[name]
    rng = random.Random(rng_seed)
    clock = _Clock(rng)
    names = [f"instance-{n:03d}" for n in range(1, size.instances + 1)]
    tasks = _tasks(size, rng, clock, names)
    registry = _registry(names, rng, tasks)
    return {
        model.REGISTRY: registry,
        model.TASKS: tasks,
        model.MESSAGES: _messages(size, rng, clock, names, tasks),
        model.DECISIONS: _decisions(size, rng, clock, names, tasks),
    }


class _Clock:
    """Timestamps that move forward, and ids that follow them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = START

    def tick(self) -> str:
        self.now += dt.timedelta(seconds=self.rng.randint(5, 120))
        return timestamps.format(self.now)

    def new_id(self, prefix: str, taken: set[str]) -> str:
        made = ids.maker(self.now, self.rng.getrandbits)(prefix, taken)
        taken.add(made)
        return made


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _tasks(size: Size, rng: random.Random, clock: _Clock, names: list[str]) -> Doc:
    doc: Doc = {"active_tasks": [], "pending_tasks": [], "completed_tasks": []}
    made: list[dict[str, Any]] = []
    taken: set[str] = set()
    for n in range(size.tasks):
        created = clock.tick()
        window = made[max(0, n - 50) : n]
        deps = [t["task_id"] for t in rng.sample(window, min(len(window), rng.choice((0, 0, 1, 1, 2, 3))))]
        deps_done = all(t["status"] == "completed" for t in made if t["task_id"] in deps)
        weights = {
            "completed": 55,
            "cancelled": 5,
            "in_progress": 10,
            "assigned": 8,
            "blocked": 4,
            "offered": 3,
            "pending_assignment": 15,
        }
        if not deps_done:
            weights = {k: v for k, v in weights.items() if k not in ("completed", "in_progress")}
        status = rng.choices(list(weights), list(weights.values()))[0]
        holder = None if status in ("pending_assignment", "cancelled") else rng.choice(names)
        task = {
            "task_id": clock.new_id("task", taken),
            "title": f"{_words(rng, 3).capitalize()} #{n}",
            "description": _words(rng, 25),
            "assigned_to": holder,
            "status": status,
            "priority": rng.choice(rulebook.PRIORITIES),
            "created": created,
            "due": timestamps.format(clock.now + dt.timedelta(days=rng.randint(1, 30))),
            "dependencies": deps,
            "deliverables": [f"src/{rng.choice(WORDS)}/{n}.py"],
            "required_expertise": rng.sample(AREAS, 2),
            "suggested_assignee": rng.choice(names),
            "created_by": rng.choice(names),
            "assigned_at": created if holder else None,
            "updated": created,
        }
        made.append(task)
        doc[model.TASK_LIST[status]].append(task)
    return doc


def _registry(names: list[str], rng: random.Random, tasks: Doc) -> Doc:
    working = {t["assigned_to"]: t["task_id"] for t in tasks["active_tasks"] if t["status"] == "in_progress"}
    instances = {
        name: {
            "role": rng.choice(ROLES),
            "status": "active",
            "current_task": working.get(name),
            "last_update": timestamps.format(START + dt.timedelta(days=60, minutes=rng.randint(0, 600))),
            "expertise_areas": rng.sample(AREAS, rng.randint(2, 4)),
            "available_for_consultation": True,
            "current_session_id": f"session_{n:05d}",
        }
        for n, name in enumerate(names)
    }
    return {
        "instances": instances,
        "coordination_protocol_version": model.PROTOCOL_VERSION,
        "last_registry_update": timestamps.format(START + dt.timedelta(days=61)),
    }


def _messages(size: Size, rng: random.Random, clock: _Clock, names: list[str], tasks: Doc) -> Doc:
    task_ids = [t["task_id"] for lst in tasks.values() for t in lst]
    messages: list[dict[str, Any]] = []
    taken: set[str] = set()
    while len(messages) < size.messages:
        sender, recipient = rng.sample(names, 2)
        base = {
            "timestamp": clock.tick(),
            "priority": rng.choice(rulebook.PRIORITIES),
            "context": {"related_task": rng.choice(task_ids), "related_files": [f"src/{rng.choice(WORDS)}.py"]},
        }
        if rng.random() < 0.3:
            messages.append(
                {
                    "message_id": clock.new_id("msg", taken),
                    "from": sender,
                    "to": rng.choice([recipient, model.BROADCAST]),
                    "type": "notification",
                    "subject": _words(rng, 4),
                    "message": _words(rng, 30),
                    "requires_response": False,
                    "status": rng.choice(("sent", "acknowledged")),
                    **base,
                }
            )
            continue
        state = rng.choices(("closed", "responded", "pending_response"), (70, 10, 20))[0]
        request: dict[str, Any] = {
            "message_id": clock.new_id("msg", taken),
            "from": sender,
            "to": recipient,
            "type": "consultation_request",
            "subject": _words(rng, 5),
            "message": _words(rng, 40),
            "requires_response": True,
            "status": state,
            "expected_response_time": timestamps.format(clock.now + dt.timedelta(hours=4)),
            **base,
        }
        messages.append(request)
        if state != "pending_response":
            messages.append(
                {
                    "message_id": clock.new_id("msg", taken),
                    "from": recipient,
                    "to": sender,
                    "type": "consultation_response",
                    "timestamp": clock.tick(),
                    "subject": "Re: " + request["subject"],
                    "message": _words(rng, 40),
                    "priority": request["priority"],
                    "requires_response": False,
                    "context": request["context"],
                    "status": "acknowledged" if state == "closed" else "sent",
                    "in_reply_to": request["message_id"],
                }
            )
    doc: Doc = {"messages": messages[: size.messages], "response_queue": []}
    if doc["messages"][-1].get("in_reply_to") is None and doc["messages"][-1]["status"] == "responded":
        doc["messages"][-1]["status"] = "pending_response"
    doc["response_queue"] = response_queue(doc)
    return doc


def _decisions(size: Size, rng: random.Random, clock: _Clock, names: list[str], tasks: Doc) -> Doc:
    task_ids = [t["task_id"] for lst in tasks.values() for t in lst]
    doc: Doc = {"decisions": [], "pending_decisions": []}
    taken: set[str] = set()
    for _ in range(size.decisions):
        options = [
            {"option": f"option {k}", "pros": [_words(rng, 2)], "cons": [_words(rng, 2)]}
            for k in range(rng.randint(2, 4))
        ]
        needed = rng.sample(names, 3)
        proposer = rng.choice(names)
        inputs = [
            {"from": who, "option": rng.choice(options)["option"], "comment": _words(rng, 8), "at": clock.tick()}
            for who in needed
            if rng.random() < 0.8
        ]
        record = {
            "decision_id": clock.new_id("dec", taken),
            "title": _words(rng, 4).capitalize(),
            "description": _words(rng, 20),
            "options": options,
            "input_needed_from": needed,
            "deadline": timestamps.format(clock.now + dt.timedelta(days=2)),
            "related_tasks": [rng.choice(task_ids)],
            "proposed_by": proposer,
            "proposed_at": clock.tick(),
            "inputs": inputs,
        }
        if rng.random() < 0.15:
            doc["pending_decisions"].append({**record, "status": "pending"})
        else:
            chosen = rng.choice(options)["option"]
            doc["decisions"].append(
                {
                    **record,
                    "decision": chosen,
                    "rationale": _words(rng, 15),
                    "decided_by": [proposer],
                    "date": clock.tick(),
                    "status": "active",
                    "affects_instances": needed,
                }
            )
    return doc
