"""What the coordination files hold, declared once as data.

The four files keep the seed's shapes. Statuses, the list each status puts a record in,
and the transitions the protocols may make (with who may make them) live here; the
protocol, the validator, the merge driver and the health checks all read them from here.
"""

from __future__ import annotations

from typing import Any
from typing import Final
from typing import NamedTuple

COORD_DIR: Final = "coordination"

REGISTRY: Final = "instance-registry.json"
TASKS: Final = "task-queue.json"
MESSAGES: Final = "communication-log.json"
DECISIONS: Final = "decisions.json"
FILES: Final = (REGISTRY, TASKS, MESSAGES, DECISIONS)
# Old closed records move to coordination/archive/, in files of the same shapes.
ARCHIVE: Final = "archive"
ARCHIVABLE: Final = (TASKS, MESSAGES, DECISIONS)
ARCHIVE_FILES: Final = tuple(f"{ARCHIVE}/{f}" for f in ARCHIVABLE)
ALL_FILES: Final = (*FILES, *ARCHIVE_FILES)


def base(file: str) -> str:
    """The live file whose shape `file` has: archive/task-queue.json is shaped as task-queue.json."""
    return file.rsplit("/", 1)[-1]


def archive_of(file: str) -> str:
    return f"{ARCHIVE}/{file}"


# A JSON document as loaded; the schemas say what it may hold.
Doc = dict[str, Any]
Record = dict[str, Any]

PROTOCOL_VERSION: Final = "1.0"
BROADCAST: Final = "all"
DEFAULT_HUMAN: Final = "human"

INSTANCE_STATUSES: Final = ("pending", "active", "offline")
TASK_STATUSES: Final = (
    "pending_assignment",
    "offered",
    "assigned",
    "in_progress",
    "blocked",
    "completed",
    "cancelled",
)
PRIORITIES: Final = ("high", "medium", "low")
MESSAGE_TYPES: Final = ("consultation_request", "consultation_response", "notification")
MESSAGE_STATUSES: Final = ("pending_response", "responded", "closed", "sent", "acknowledged")
DECISION_STATUSES: Final = ("pending", "escalated", "active", "superseded")
QUEUE_STATUSES: Final = ("pending",)

TASK_LIST: Final = {
    "pending_assignment": "pending_tasks",
    "offered": "pending_tasks",
    "assigned": "active_tasks",
    "in_progress": "active_tasks",
    "blocked": "active_tasks",
    "completed": "completed_tasks",
    "cancelled": "completed_tasks",
}
DECISION_LIST: Final = {
    "pending": "pending_decisions",
    "escalated": "pending_decisions",
    "active": "decisions",
    "superseded": "decisions",
}
HELD: Final = frozenset({"assigned", "in_progress", "blocked"})
CLOSED_TASK: Final = frozenset({"completed", "cancelled"})
OPEN_THREAD: Final = frozenset({"pending_response", "responded", "sent"})


class Collection(NamedTuple):
    """Where one kind of record lives in its file."""

    file: str
    kind: str
    id_key: str  # "" when records are keyed by a mapping, as the registry's instances are
    prefix: str  # the id prefix new records get ("" for instance names, chosen by people)
    lists: tuple[str, ...]  # the JSON keys that hold the records

    def placement(self, record: Record) -> str:
        """The list a record belongs in, which follows from its status."""
        if self.kind == "task":
            return TASK_LIST[record["status"]]
        if self.kind == "decision":
            return DECISION_LIST[decision_status(record)]
        return self.lists[0]


INSTANCES: Final = Collection(REGISTRY, "instance", "", "", ("instances",))
TASK_RECORDS: Final = Collection(TASKS, "task", "task_id", "task", ("active_tasks", "pending_tasks", "completed_tasks"))
MESSAGE_RECORDS: Final = Collection(MESSAGES, "message", "message_id", "msg", ("messages",))
DECISION_RECORDS: Final = Collection(DECISIONS, "decision", "decision_id", "dec", ("decisions", "pending_decisions"))
COLLECTIONS: Final = {c.file: c for c in (INSTANCES, TASK_RECORDS, MESSAGE_RECORDS, DECISION_RECORDS)}
BY_KIND: Final = {c.kind: c for c in COLLECTIONS.values()}


def decision_status(record: Record) -> str:
    # The seed's pending decisions carry no status; sitting in pending_decisions says it.
    status: str = record.get("status", "pending")
    return status


# Who may make a transition. The roles are checked by `authority.py`.
ANYONE: Final = "anyone"
SELF: Final = "self"  # the instance whose registry entry it is
CREATOR: Final = "creator"
HOLDER: Final = "holder"  # the instance a task is assigned or offered to, before the change
CLAIMANT: Final = "claimant"  # the instance a task becomes assigned to
STALE_HOLDER: Final = "stale-holder"  # anyone, when the holder has not checked in within the lease
SENDER: Final = "sender"
RECIPIENT: Final = "recipient"
PROPOSER: Final = "proposer"
DECIDER: Final = "decider"
HUMAN: Final = "human"


class Move(NamedTuple):
    """One protocol step on a record: the statuses it starts from, where it ends, and who may."""

    sources: tuple[str | None, ...]  # None: the record is created by this step
    target: str
    roles: frozenset[str]


def _move(sources: tuple[str | None, ...] | str | None, target: str, *roles: str) -> Move:
    if sources is None or isinstance(sources, str):
        sources = (sources,)
    return Move(sources, target, frozenset(roles))


_ACTIVE_TASK = ("assigned", "in_progress", "blocked")
_OPEN_TASK = ("pending_assignment", "offered", *_ACTIVE_TASK)

TASK_MOVES: Final = {
    "add": _move(None, "pending_assignment", ANYONE),
    "add-offered": _move(None, "offered", ANYONE),
    "assign": _move("pending_assignment", "offered", ANYONE),
    "accept": _move("offered", "assigned", HOLDER),
    "decline": _move("offered", "pending_assignment", HOLDER),
    "withdraw": _move("offered", "pending_assignment", CREATOR, HUMAN),
    "claim": _move("pending_assignment", "assigned", CLAIMANT),
    "start": _move(("assigned", "blocked"), "in_progress", HOLDER),
    "block": _move(("assigned", "in_progress"), "blocked", HOLDER),
    "complete": _move("in_progress", "completed", HOLDER),
    "release": _move(_ACTIVE_TASK, "pending_assignment", HOLDER, HUMAN),
    "reclaim": _move(_ACTIVE_TASK, "pending_assignment", STALE_HOLDER, HUMAN),
    "cancel": _move(_OPEN_TASK, "cancelled", HOLDER, CREATOR, HUMAN),
}
MESSAGE_MOVES: Final = {
    "send": _move(None, "pending_response", SENDER),
    "send-info": _move(None, "sent", SENDER),
    "respond": _move("pending_response", "responded", RECIPIENT),
    "close": _move(("pending_response", "responded"), "closed", SENDER),
    "acknowledge": _move("sent", "acknowledged", RECIPIENT),
}
DECISION_MOVES: Final = {
    "propose": _move(None, "pending", PROPOSER),
    "escalate": _move("pending", "escalated", ANYONE),
    "raise": _move(None, "escalated", PROPOSER),
    "decide": _move("pending", "active", PROPOSER, HUMAN),
    "resolve": _move("escalated", "active", HUMAN),
    "record": _move(None, "active", DECIDER),
    "supersede": _move("active", "superseded", DECIDER, HUMAN),
}
INSTANCE_MOVES: Final = {
    "register": _move(None, "pending", ANYONE),
    "checkin": _move(("pending", "active", "offline"), "active", SELF, HUMAN),
    "checkout": _move(("active", "offline"), "offline", SELF, HUMAN),
}
MOVES: Final = {
    "instance": INSTANCE_MOVES,
    "task": TASK_MOVES,
    "message": MESSAGE_MOVES,
    "decision": DECISION_MOVES,
}


def status_of(kind: str, record: Record) -> str:
    if kind == "decision":
        return decision_status(record)
    status: str = record["status"]
    return status


def moves_between(kind: str, old: str | None, new: str) -> list[tuple[str, Move]]:
    """The named steps that take a record of `kind` from status `old` to `new`."""
    return [(name, m) for name, m in MOVES[kind].items() if old in m.sources and m.target == new]


# Fields whose value never changes once the record exists: sent text, made decisions.
IMMUTABLE: Final = {
    "instance": frozenset(),
    "task": frozenset({"task_id", "created", "created_by"}),
    "message": frozenset(
        {
            "message_id",
            "from",
            "to",
            "type",
            "timestamp",
            "subject",
            "message",
            "priority",
            "requires_response",
            "context",
            "in_reply_to",
            "expected_response_time",
        }
    ),
    "decision": frozenset({"decision_id", "proposed_by", "proposed_at"}),
}
# Once a decision is made, what was decided stays as it was.
DECIDED_FIELDS: Final = frozenset(
    {"decision", "rationale", "decided_by", "date", "title", "description", "options", "inputs"}
)
# Timestamps that only move forward.
MONOTONIC: Final = {"instance": ("last_update",), "task": ("updated",), "decision": ()}


class Settings(NamedTuple):
    """How a repository coordinates; the defaults are the specification's health rules."""

    human_coordinator: str = DEFAULT_HUMAN  # who resolves escalations
    checkin_hours: float = 24  # "All instances should check in within 24 hours"
    response_hours: float = 4  # "Messages should be responded to within 4 hours"
    lease_hours: float = 24  # a held task goes back to the queue after its holder is gone this long
    require_signatures: bool = False  # every coordination commit signed by its acting instance's key
    human_key: str | None = None  # the human coordinator's public key (instances keep theirs in their entry)


def settings_of(registry: Doc) -> Settings:
    """The registry's settings (the schema allows exactly these keys), with the defaults for the rest."""
    return Settings(**registry.get("settings", {}))


def empty_documents() -> dict[str, Doc]:
    """The four files of a store where nothing has happened yet."""
    return {
        REGISTRY: {"instances": {}, "coordination_protocol_version": PROTOCOL_VERSION, "last_registry_update": None},
        TASKS: {"active_tasks": [], "pending_tasks": [], "completed_tasks": []},
        MESSAGES: {"messages": [], "response_queue": []},
        DECISIONS: {"decisions": [], "pending_decisions": []},
    }
