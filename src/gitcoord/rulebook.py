"""The rulebook: what each kind of record may become, and who may change which field. Once, as data.

For every kind of record (an instance's registry entry, a task, a message, a decision, the
settings) this declares its statuses and the order of their progress, the steps (moves)
that take a record from one status to another with who may take them and which fields each
may change, the edits allowed while the status stays, which fields never change, which name
the acting instance, which are times the actor writes, and the lists of entries each owned
by one instance (inputs, declines, notes, positions). The protocol steps, the history check
(`history/`), the merge driver and the command line's choices all read it from here.

What a role means (how an actor relates to a record) is judged in `history/roles.py`, always on
the state *before* the change: a change cannot grant the authority it uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Final
from typing import Literal
from typing import NamedTuple
from typing import get_args

# Roles ----------------------------------------------------------------------------------

ANYONE: Final = "anyone"  # any registered instance, or the human coordinator
SELF: Final = "self"  # the instance whose registry entry it is
CREATOR: Final = "creator"  # the instance that created the task
HOLDER: Final = "holder"  # the instance a task is assigned or offered to, before the change
CLAIMANT: Final = "claimant"  # the instance a task becomes assigned to (itself)
STALE_HOLDER: Final = "stale-holder"  # anyone, once the holder has been silent past the lease
SENDER: Final = "sender"
RECIPIENT: Final = "recipient"
PROPOSER: Final = "proposer"  # who proposed the decision (or whom the human named to decide it)
DECIDER: Final = "decider"  # who made the decision
HUMAN: Final = "human"  # the human coordinator named by the settings

# How a refusal names each role for the reader; {holder} etc. are filled from the record.
ROLE_NAMES: Final = {
    ANYONE: "any registered instance",
    SELF: "the instance itself ({rid})",
    CREATOR: "its creator ({created_by})",
    HOLDER: "its holder ({assigned_to})",
    CLAIMANT: "the instance taking it",
    STALE_HOLDER: "anyone once its holder ({assigned_to}) has been silent past the lease",
    SENDER: "its sender ({from})",
    RECIPIENT: "its recipient ({to})",
    PROPOSER: "its proposer ({proposed_by})",
    DECIDER: "whoever decided it ({decided_by})",
    HUMAN: "the human coordinator ({human})",
}

# The field of a record that names who plays each role for it. A name one of them holds is that
# instance's standing on the record, so no new instance may take it (the human's former name).
ROLE_FIELDS: Final = {
    CREATOR: "created_by",
    HOLDER: "assigned_to",
    CLAIMANT: "assigned_to",
    SENDER: "from",
    RECIPIENT: "to",
    PROPOSER: "proposed_by",
    DECIDER: "decided_by",
}

# A time an actor writes may lie this far after the commit's own date (clocks differ a little).
SKEW: Final = dt.timedelta(minutes=10)


class Move(NamedTuple):
    """One protocol step: the statuses it starts from (None: it creates the record), where it ends,
    who may take it, what else it may change, and for whom the record must be ready first."""

    sources: tuple[str | None, ...]
    target: str
    roles: frozenset[str]
    fields: frozenset[str]
    ready: frozenset[str] = frozenset()  # an actor in one of these roles takes it only once its dependencies are done


class Edit(NamedTuple):
    """A field that may change while the status stays: by whom, and in which statuses (None: any)."""

    roles: frozenset[str]
    statuses: frozenset[str] | None = None
    only_if_unset: bool = False  # may be set once where it was missing, never changed after
    until: str | None = None  # fixed once this list of the record holds an entry (what the entries answer)


class Entries(NamedTuple):
    """A list of entries, each owned by the instance its `owner` key names.

    Keyed: one entry per owner, which only the owner adds, changes or withdraws (an input).
    Not keyed: append-only; each new entry names the actor as its owner (a decline, a note).
    """

    owner: str
    keyed: bool
    stamp: str | None  # the entry's time, written by its owner


class Kind(NamedTuple):
    name: str
    statuses: tuple[str, ...]
    progress: tuple[str, ...]  # further along first: which status wins when two sides differ
    moves: Mapping[str, Move]
    edits: Mapping[str, Edit]
    immutable: frozenset[str]  # never change once the record exists
    actors: frozenset[str]  # when written, they name the acting instance
    stamps: frozenset[str]  # times the actor writes: never after the commit's date
    monotonic: frozenset[str]  # times that never go back
    entries: Mapping[str, Entries]  # field path ("escalation.positions") -> its entries
    merge_only: frozenset[str]  # written only by the merge driver
    touched: frozenset[str]  # change along with any allowed change ("last changed" times)
    # The time a move into a closed status writes anew, not older than the state it changes:
    # the archive's wait counts from it, so a close that kept an old time would skip the wait.
    closing_stamp: str | None = None


def _move(
    sources: tuple[str | None, ...] | str | None,
    target: str,
    roles: set[str],
    fields: set[str],
    *,
    ready: Iterable[str] = (),
) -> Move:
    if sources is None or isinstance(sources, str):
        sources = (sources,)
    return Move(sources, target, frozenset(roles), frozenset(fields), frozenset(ready))


def _edits(
    roles: set[str], names: set[str], statuses: set[str] | None = None, *, until: str | None = None
) -> dict[str, Edit]:
    return dict.fromkeys(sorted(names), Edit(frozenset(roles), frozenset(statuses) if statuses else None, until=until))


# Instances: the registry's entries --------------------------------------------------------

InstanceStatus = Literal["pending", "active", "offline"]
INSTANCE_STATUSES: Final[tuple[InstanceStatus, ...]] = get_args(InstanceStatus)
_PRESENCE = {"last_update", "available_for_consultation", "current_session_id", "current_task"}

INSTANCE: Final = Kind(
    name="instance",
    statuses=INSTANCE_STATUSES,
    progress=("active", "offline", "pending"),
    moves={
        # Registering: oneself (proving the key it registers), or by another instance or the human.
        "register": _move(None, "pending", {ANYONE, SELF}, set()),
        "checkin": _move(INSTANCE_STATUSES, "active", {SELF}, _PRESENCE),
        "checkout": _move(("pending", "active", "offline"), "offline", {SELF, HUMAN}, _PRESENCE),
    },
    edits={
        **_edits({SELF}, _PRESENCE),
        **_edits({SELF, HUMAN}, {"role", "expertise_areas", "signing_key"}),
    },
    immutable=frozenset(),
    actors=frozenset(),
    stamps=frozenset({"last_update"}),
    monotonic=frozenset({"last_update"}),
    entries={},
    merge_only=frozenset(),
    touched=frozenset(),
)

# Tasks -----------------------------------------------------------------------------------

TaskStatus = Literal["pending_assignment", "offered", "assigned", "in_progress", "blocked", "completed", "cancelled"]
TASK_STATUSES: Final[tuple[TaskStatus, ...]] = get_args(TaskStatus)
HELD: Final = frozenset({"assigned", "in_progress", "blocked"})
CLOSED_TASK: Final = frozenset({"completed", "cancelled"})
OPEN_TASK: Final = tuple(s for s in TASK_STATUSES if s not in CLOSED_TASK)
Priority = Literal["high", "medium", "low"]
PRIORITIES: Final[tuple[Priority, ...]] = get_args(Priority)

_HELD = tuple(s for s in TASK_STATUSES if s in HELD)
_ASSIGNMENT = {"assigned_to", "assigned_at", "status_reason"}
_DETAILS = {"title", "description", "priority", "due", "dependencies", "deliverables", "required_expertise"}

TASK: Final = Kind(
    name="task",
    statuses=TASK_STATUSES,
    progress=("completed", "cancelled", "in_progress", "blocked", "assigned", "offered", "pending_assignment"),
    moves={
        # A task is taken only once what it waits for is done: by a claim, or by an offer to oneself.
        "add": _move(None, "pending_assignment", {ANYONE}, set()),
        "add-offered": _move(None, "offered", {ANYONE}, set(), ready={CLAIMANT}),
        "assign": _move("pending_assignment", "offered", {ANYONE}, _ASSIGNMENT, ready={CLAIMANT}),
        "accept": _move("offered", "assigned", {HOLDER}, {"status_reason"}),
        "decline": _move("offered", "pending_assignment", {HOLDER}, {*_ASSIGNMENT, "declines"}),
        "withdraw": _move("offered", "pending_assignment", {CREATOR, HUMAN}, _ASSIGNMENT),
        "claim": _move("pending_assignment", "assigned", {CLAIMANT}, _ASSIGNMENT, ready={CLAIMANT}),
        "start": _move(("assigned", "blocked"), "in_progress", {HOLDER}, {"status_reason"}),
        "block": _move(("assigned", "in_progress"), "blocked", {HOLDER}, {"status_reason"}),
        "complete": _move("in_progress", "completed", {HOLDER}, {"status_reason", "notes"}),
        "release": _move(_HELD, "pending_assignment", {HOLDER, HUMAN}, _ASSIGNMENT),
        "reclaim": _move(_HELD, "pending_assignment", {STALE_HOLDER, HUMAN}, _ASSIGNMENT),
        # Not its holder's: anyone may claim a task that waits, so a holder's say would be anyone's.
        "cancel": _move(OPEN_TASK, "cancelled", {CREATOR, HUMAN}, {"status_reason"}),
    },
    edits={
        # What the work is stays its creator's (or the human's): claim, edit, release would
        # otherwise let anyone rewrite any task that waits. A holder says more in notes.
        **_edits({CREATOR, HUMAN}, _DETAILS - {"dependencies"}, set(OPEN_TASK)),
        # The order of the work is its creator's (or the human's): a holder does not lift what holds it back.
        **_edits({CREATOR, HUMAN}, {"dependencies"}, set(OPEN_TASK)),
        # Who should do it is the creator's suggestion (or the human's), not the holder's.
        **_edits({CREATOR, HUMAN}, {"suggested_assignee"}, set(OPEN_TASK)),
        # Why it is blocked (or was given back) is for its holder to keep up to date.
        "status_reason": Edit(frozenset({HOLDER, HUMAN}), frozenset(OPEN_TASK)),
        "notes": Edit(frozenset({CREATOR, HOLDER, HUMAN})),
    },
    immutable=frozenset({"task_id", "created", "created_by"}),
    actors=frozenset({"created_by"}),
    stamps=frozenset({"created", "updated", "assigned_at"}),
    monotonic=frozenset({"updated"}),
    entries={
        "declines": Entries("instance", keyed=False, stamp="at"),
        "notes": Entries("from", keyed=False, stamp="at"),
    },
    merge_only=frozenset({"contested"}),
    touched=frozenset({"updated"}),
    closing_stamp="updated",
)

# Messages ---------------------------------------------------------------------------------

MessageStatus = Literal["pending_response", "responded", "closed", "sent", "acknowledged"]
MESSAGE_STATUSES: Final[tuple[MessageStatus, ...]] = get_args(MessageStatus)
MessageType = Literal["consultation_request", "consultation_response", "notification"]
MESSAGE_TYPES: Final[tuple[MessageType, ...]] = get_args(MessageType)
OPEN_THREAD: Final = frozenset({"pending_response", "responded", "sent"})
CLOSED_MESSAGE: Final = frozenset({"closed", "acknowledged"})

MESSAGE: Final = Kind(
    name="message",
    statuses=MESSAGE_STATUSES,
    progress=("closed", "acknowledged", "responded", "pending_response", "sent"),
    moves={
        "send": _move(None, "pending_response", {SENDER}, set()),
        "send-info": _move(None, "sent", {SENDER}, set()),
        "respond": _move("pending_response", "responded", {RECIPIENT}, set()),
        "close": _move(("pending_response", "responded"), "closed", {SENDER}, {"closed_at"}),
        "acknowledge": _move("sent", "acknowledged", {RECIPIENT}, {"closed_at"}),
    },
    edits={},
    # Sent text never changes: a message is a record of what was said.
    immutable=frozenset(
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
    actors=frozenset({"from"}),
    stamps=frozenset({"timestamp", "closed_at"}),
    monotonic=frozenset(),
    entries={},
    merge_only=frozenset(),
    touched=frozenset(),
    closing_stamp="closed_at",
)

# Decisions --------------------------------------------------------------------------------

DecisionStatus = Literal["pending", "escalated", "active", "superseded"]
DECISION_STATUSES: Final[tuple[DecisionStatus, ...]] = get_args(DecisionStatus)
OPEN_DECISION: Final = frozenset({"pending", "escalated"})
DECIDED: Final = frozenset({"active", "superseded"})
_OUTCOME = {"decision", "rationale", "decided_by", "date", "affects_instances"}

DECISION: Final = Kind(
    name="decision",
    statuses=DECISION_STATUSES,
    progress=("superseded", "active", "escalated", "pending"),
    moves={
        "propose": _move(None, "pending", {PROPOSER}, set()),
        "raise": _move(None, "escalated", {PROPOSER}, set()),
        "record": _move(None, "active", {DECIDER}, set()),
        "escalate": _move("pending", "escalated", {ANYONE}, {"escalation"}),
        "decide": _move("pending", "active", {PROPOSER, HUMAN}, _OUTCOME),
        "resolve": _move("escalated", "active", {HUMAN}, _OUTCOME),
        "supersede": _move("active", "superseded", {DECIDER, HUMAN}, {"superseded_by"}),
    },
    edits={
        # The question and its options, as the inputs answered them: fixed once one is recorded.
        **_edits({PROPOSER, HUMAN}, {"title", "description", "options"}, set(OPEN_DECISION), until="inputs"),
        **_edits({PROPOSER, HUMAN}, {"input_needed_from", "deadline", "related_tasks"}, set(OPEN_DECISION)),
        # The specification's own pending decisions name nobody to decide them: the human names one.
        "proposed_by": Edit(frozenset({HUMAN}), frozenset(OPEN_DECISION), only_if_unset=True),
        "inputs": Edit(frozenset({ANYONE}), frozenset(OPEN_DECISION)),
        "escalation.positions": Edit(frozenset({ANYONE}), frozenset({"escalated"})),
        "affects_instances": Edit(frozenset({HUMAN})),
        "notes": Edit(frozenset({PROPOSER, DECIDER, HUMAN})),
    },
    immutable=frozenset({"decision_id", "proposed_at"}),
    actors=frozenset({"proposed_by", "decided_by", "escalation.raised_by"}),
    stamps=frozenset({"proposed_at", "date", "escalation.raised_at"}),
    monotonic=frozenset(),
    entries={
        "inputs": Entries("from", keyed=True, stamp="at"),
        "escalation.positions": Entries("instance", keyed=True, stamp=None),
        "notes": Entries("from", keyed=False, stamp="at"),
    },
    merge_only=frozenset(),
    touched=frozenset(),
    closing_stamp="date",
)

# The settings, and the files' own fields ----------------------------------------------------

SETTINGS_FIELDS: Final = (
    "human_coordinator",
    "checkin_hours",
    "response_hours",
    "lease_hours",
    "require_signatures",
    "human_key",
    "archive_after_days",
    "store_branch",
)
# Who may change a file's own fields (not its records): the human, or nobody but the tools.
FILE_FIELDS: Final = {
    "coordination_protocol_version": HUMAN,
    "settings": HUMAN,
    "last_registry_update": "touched",  # moves with any change to the registry
    "response_queue": "derived",  # follows from the messages; the invariants check it
    "merge_conflicts": "merge",  # left by the merge driver, settled by `coord resolve`
}

KINDS: Final = {k.name: k for k in (INSTANCE, TASK, MESSAGE, DECISION)}

# Archiving: which records may leave the live files (once closed long enough, by the settings'
# archive_after_days, judged from the moment of the change), and who may move them.
ARCHIVABLE_STATUSES: Final = {"task": CLOSED_TASK, "message": CLOSED_MESSAGE, "decision": DECIDED}
ARCHIVE_ROLES: Final = frozenset({ANYONE})
# Moving the whole store off a branch to a branch of its own (`coord migrate`): the one change
# that leaves a branch with no store, which only the human coordinator may make.
MIGRATE: Final = "migrate"
MIGRATE_ROLES: Final = frozenset({HUMAN})
# On a store's own branch, the files beside the store (hooks, attributes, workflows).
BESIDE_STORE_ROLES: Final = frozenset({HUMAN})
# How much one change may add to a live file: a protocol step creates one record, an instance's
# batch a few dozen; thousands of records, or a few records swollen to the schema's limits (a
# thousand notes of twenty thousand characters each), are a flood that every later step and
# clone would pay for. The human coordinator, who may import a backlog, is bound by neither.
MAX_CREATED: Final = 100
MAX_GROWN_BYTES: Final = 2 * 2**20  # the records' JSON text, created ones whole, changed ones by what they grew
BULK_ROLES: Final = frozenset({HUMAN})


def moves_between(kind: Kind, old: str | None, new: str) -> list[tuple[str, Move]]:
    """The named steps that take a record of `kind` from status `old` to `new`."""
    return [(name, m) for name, m in kind.moves.items() if old in m.sources and m.target == new]


def onward(kind: Kind, status: str | None) -> list[str]:
    """Where a record of `kind` in `status` may go next (None: where a new one may start)."""
    return sorted({m.target for m in kind.moves.values() if status in m.sources})


def changeable(kind: Kind) -> frozenset[str]:
    """Every field that some step or edit may change (the rest never change once written)."""
    fields = {f for m in kind.moves.values() for f in m.fields} | {f.split(".")[0] for f in kind.edits}
    return frozenset(fields | kind.merge_only | kind.touched | {"status"})
