"""What the coordination files hold and where: the four files, their lists, the archive, the settings.

The four files keep the seed's shapes. Which list a record sits in follows from its status
(the statuses and every rule about them are the rulebook's, `rulebook.py`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from typing import Final
from typing import Literal
from typing import NamedTuple
from typing import get_args

from gitcoord import rulebook
from gitcoord import timestamps

COORD_DIR: Final = "coordination"

REGISTRY: Final = "instance-registry.json"
TASKS: Final = "task-queue.json"
MESSAGES: Final = "communication-log.json"
DECISIONS: Final = "decisions.json"
FILES: Final = (REGISTRY, TASKS, MESSAGES, DECISIONS)
# Closed records move to coordination/archive/, in files of the same shapes, in shards named
# for a day (archive/2024/01/15/task-queue.json) that hold records closed on or before it;
# each is written when its day is long enough past and never changes again.
# archive/task-queue.json is the older, unsharded layout.
ARCHIVE: Final = "archive"
ARCHIVABLE: Final = (TASKS, MESSAGES, DECISIONS)
ARCHIVE_FILES: Final = tuple(f"{ARCHIVE}/{f}" for f in ARCHIVABLE)
ALL_FILES: Final = (*FILES, *ARCHIVE_FILES)


def base(file: str) -> str:
    """The live file whose shape `file` has: archive/task-queue.json is shaped as task-queue.json."""
    return file.rsplit("/", 1)[-1]


def archive_of(file: str) -> str:
    return f"{ARCHIVE}/{file}"


def is_shard(file: str) -> bool:
    return file.startswith(ARCHIVE + "/")


_STORE_FILE = re.compile(r"archive/([0-9]{4}/[0-9]{2}/[0-9]{2}/)?(task-queue|communication-log|decisions)\.json\Z")


# The store's files as git pathspecs (in the repository, under coordination/): what `is_store_file` takes.
STORE_PATHSPECS: Final = (
    *(f"{COORD_DIR}/{f}" for f in (*FILES, *ARCHIVE_FILES)),
    *(f":(glob){COORD_DIR}/{ARCHIVE}/[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/{f}" for f in ARCHIVABLE),
)


def is_store_file(path: str) -> bool:
    """Whether `path` (inside coordination/) is one of the store's files: a live file or an archive shard."""
    return path in FILES or _STORE_FILE.match(path) is not None


def shard_for(*, file: str, closed: str) -> str:
    """The archive shard a record of `file` closed at `closed` (an RFC 3339 time) belongs in."""
    day = timestamps.parse(closed).astimezone(dt.timezone.utc)
    return f"{ARCHIVE}/{day:%Y/%m/%d}/{file}"


def shards_from(shards: list[str], file: str, day: dt.datetime | None) -> list[str]:
    """The shards of `file` that may hold a record created on `day` (None: any day), plus the unsharded one.
    From the day before: an id may be dated a little ahead of the step that made it (a clock's
    skew), so a record made just before midnight can close, and be archived, on the day before its id's."""
    start = f"{ARCHIVE}/{day - dt.timedelta(days=1):%Y/%m/%d}/" if day is not None else ""
    return [s for s in shards if base(s) == file and (s in ARCHIVE_FILES or s[: len(start)] >= start)]


def in_shard(shard: str, closed: str) -> bool:
    """Whether a record closed at `closed` may sit in `shard`: its day's or a later one's (or the unsharded one)."""
    return shard in ARCHIVE_FILES or shard >= shard_for(file=base(shard), closed=closed)


# A JSON document as loaded; the schemas say what it may hold. Code about one kind of record
# says which (shapes.py); generic code over every kind takes these, and what only reads a
# record of any kind takes a `Fields`, which a typed record is too.
Doc = dict[str, Any]
Record = dict[str, Any]
Fields = Mapping[str, Any]

PROTOCOL_VERSION: Final = "1.0"
BROADCAST: Final = "all"
INSTANCE_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # common.json's instance_id, for fullmatch
DEFAULT_HUMAN: Final = "human"

QueueStatus = Literal["pending"]  # an answer owed waits in the response queue until it is given
QUEUE_STATUSES: Final[tuple[QueueStatus, ...]] = get_args(QueueStatus)

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


class Collection(NamedTuple):
    """Where one kind of record lives in its file."""

    file: str
    kind: str
    id_key: str  # "" when records are keyed by a mapping, as the registry's instances are
    prefix: str  # the id prefix new records get ("" for instance names, chosen by people)
    lists: tuple[str, ...]  # the JSON keys that hold the records

    def placement(self, record: Fields) -> str:
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


RECORD_LISTS: Final = tuple(name for c in COLLECTIONS.values() for name in c.lists)


def decision_status(record: Fields) -> str:
    # The seed's pending decisions carry no status; sitting in pending_decisions says it.
    status: str = record.get("status", "pending")
    return status


def status_of(kind: str, record: Fields) -> str:
    if kind == "decision":
        return decision_status(record)
    status: str = record["status"]
    return status


def closed_at(kind: str, record: Fields) -> str | None:
    """When a closed record closed: what decides its archive shard and when it may move there.
    (A record closed before the rulebook made the close write its stamp falls back to its first.)"""
    found: str | None = record.get(rulebook.KINDS[kind].closing_stamp or "")
    return found or record.get(_FIRST_STAMP.get(kind, ""))


_FIRST_STAMP: Final = {"task": "created", "message": "timestamp"}


class Settings(NamedTuple):
    """How a repository coordinates; the defaults are the specification's health rules."""

    human_coordinator: str = DEFAULT_HUMAN  # who resolves escalations
    checkin_hours: float = 24  # "All instances should check in within 24 hours"
    response_hours: float = 4  # "Messages should be responded to within 4 hours"
    lease_hours: float = 24  # a held task goes back to the queue after its holder is gone this long
    require_signatures: bool = False  # every coordination commit signed by its acting instance's key
    human_key: str | None = None  # the human coordinator's public key (instances keep theirs in their entry)
    archive_after_days: float = 2  # a closed record leaves the live files this long after it closed
    store_branch: str | None = None  # the store's branch of its own, where only the human changes other files


def settings_of(registry: Fields) -> Settings:
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
