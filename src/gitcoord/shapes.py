"""The four files, their records and the settings as types: what `schemas/*.json` allows, for mypy.

The schemas are what a file is checked against when it is read; these say the same for the
code that builds and reads records, so a misspelt field or a status that does not exist is
an error before anything runs. The statuses and priorities are the rulebook's `Literal`s.
A test (tests/unit/test_shapes.py) holds every type here to its schema: the same fields, the
same required ones, the same choices.

A schema's optional field is a key that may be missing (`total=False` below); a field that
may be null says so in its type. The required keys sit in a base of their own because
Python 3.10, the oldest the project runs on, has no `Required[...]`.
"""

from __future__ import annotations

from typing import Any
from typing import TypedDict

from gitcoord.model import QueueStatus
from gitcoord.rulebook import DecisionStatus
from gitcoord.rulebook import InstanceStatus
from gitcoord.rulebook import MessageStatus
from gitcoord.rulebook import MessageType
from gitcoord.rulebook import Priority
from gitcoord.rulebook import TaskStatus

# Shared by the files ----------------------------------------------------------------------

_NoteRequired = TypedDict("_NoteRequired", {"from": str, "at": str, "text": str})


class Note(_NoteRequired, total=False):
    """A note added to a task or a decision; only ever appended."""

    commit: str


class _MergeConflictRequired(TypedDict):
    record: str
    field: str
    values: list[Any]  # the sides' values, whatever the field holds
    reason: str


class MergeConflict(_MergeConflictRequired, total=False):
    """Where two sides of a merge disagree and a person must choose (`coord resolve`)."""

    base: Any  # the common ancestor's value, whatever the field holds


# The registry -----------------------------------------------------------------------------


class _InstanceRequired(TypedDict):
    role: str
    status: InstanceStatus
    current_task: str | None
    last_update: str | None
    expertise_areas: list[str]
    available_for_consultation: bool
    current_session_id: str | None


class Instance(_InstanceRequired, total=False):
    """An instance's registry entry, kept under its name in `instances`."""

    signing_key: str


class Settings(TypedDict, total=False):
    """How a repository coordinates, as the registry keeps it (`model.Settings` fills in the defaults)."""

    human_coordinator: str
    checkin_hours: float
    response_hours: float
    lease_hours: float
    require_signatures: bool
    human_key: str
    archive_after_days: float
    store_branch: str


class _RegistryRequired(TypedDict):
    instances: dict[str, Instance]


class Registry(_RegistryRequired, total=False):
    """coordination/instance-registry.json"""

    coordination_protocol_version: str
    last_registry_update: str | None
    settings: Settings
    merge_conflicts: list[MergeConflict]


# The task queue ---------------------------------------------------------------------------


class Decline(TypedDict):
    """An offer of a task that was declined, with the reason."""

    instance: str
    reason: str
    at: str


class _ContestRequired(TypedDict):
    status: TaskStatus
    assigned_to: str | None
    at: str | None


class Contest(_ContestRequired, total=False):
    """A concurrent assignment that lost to the task's own in a merge."""

    assigned_at: str | None
    status_reason: str | None


class _TaskRequired(TypedDict):
    task_id: str
    title: str
    assigned_to: str | None
    status: TaskStatus
    priority: Priority
    created: str
    dependencies: list[str]


class Task(_TaskRequired, total=False):
    """A task, in the list of the task queue its status calls for."""

    description: str
    due: str | None
    deliverables: list[str]
    required_expertise: list[str]
    suggested_assignee: str | None
    created_by: str
    assigned_at: str | None
    updated: str
    status_reason: str | None
    notes: list[Note]
    declines: list[Decline]
    contested: list[Contest]


class _TaskQueueRequired(TypedDict):
    active_tasks: list[Task]
    pending_tasks: list[Task]
    completed_tasks: list[Task]


class TaskQueue(_TaskQueueRequired, total=False):
    """coordination/task-queue.json"""

    merge_conflicts: list[MergeConflict]


# The communication log --------------------------------------------------------------------


class MessageContext(TypedDict, total=False):
    """What a message is about."""

    related_task: str | None
    related_decision: str | None
    related_files: list[str]


_MessageRequired = TypedDict(
    "_MessageRequired",
    {
        "message_id": str,
        "from": str,
        "to": str,
        "type": MessageType,
        "timestamp": str,
        "subject": str,
        "message": str,
        "requires_response": bool,
        "status": MessageStatus,
    },
)


class Message(_MessageRequired, total=False):
    """A consultation, an answer or a notification."""

    priority: Priority
    context: MessageContext
    in_reply_to: str
    expected_response_time: str
    closed_at: str


_QueuedResponseRequired = TypedDict(
    "_QueuedResponseRequired", {"responding_to": str, "from": str, "status": QueueStatus}
)


class QueuedResponse(_QueuedResponseRequired, total=False):
    """An answer still owed, derived from the messages."""

    expected_response_time: str | None


class _CommunicationLogRequired(TypedDict):
    messages: list[Message]
    response_queue: list[QueuedResponse]


class CommunicationLog(_CommunicationLogRequired, total=False):
    """coordination/communication-log.json"""

    merge_conflicts: list[MergeConflict]


# The decision log -------------------------------------------------------------------------


class _OptionRequired(TypedDict):
    option: str


class Option(_OptionRequired, total=False):
    """One of the choices a pending decision offers."""

    pros: list[str]
    cons: list[str]


_InputRequired = TypedDict("_InputRequired", {"from": str, "option": str, "at": str})


class Input(_InputRequired, total=False):
    """One instance's view on a pending decision."""

    comment: str


class _PositionRequired(TypedDict):
    instance: str
    position: str


class Position(_PositionRequired, total=False):
    """One side's position in an escalation; `by`: the raiser who wrote down another's."""

    by: str


class Escalation(TypedDict):
    """A disagreement handed to the human coordinator."""

    subject: str
    raised_by: str
    raised_at: str
    reason: str
    escalated_to: str
    positions: list[Position]


class _DecisionRequired(TypedDict):
    decision_id: str
    title: str


class Decision(_DecisionRequired, total=False):
    """A decision made or pending; a made one also has decision, rationale, decided_by, date and status."""

    description: str
    options: list[Option]
    input_needed_from: list[str]
    deadline: str | None
    decision: str
    rationale: str
    decided_by: list[str]
    date: str
    status: DecisionStatus
    affects_instances: list[str]
    related_tasks: list[str]
    proposed_by: str
    proposed_at: str
    inputs: list[Input]
    escalation: Escalation
    superseded_by: str
    notes: list[Note]


class _DecisionLogRequired(TypedDict):
    decisions: list[Decision]
    pending_decisions: list[Decision]


class DecisionLog(_DecisionLogRequired, total=False):
    """coordination/decisions.json"""

    merge_conflicts: list[MergeConflict]
