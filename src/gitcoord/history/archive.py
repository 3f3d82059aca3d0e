"""Records leaving a live file: only into the archive, unchanged, closed long enough; the archive
only ever gains records, which then never change; the whole store moved off a branch by the human.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable
from collections.abc import Iterator

from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord.findings import Finding
from gitcoord.history import roles
from gitcoord.history.roles import At
from gitcoord.history.roles import Judge
from gitcoord.model import Doc
from gitcoord.model import Record


def shard(file: str, before: Doc, after: Doc, arrived: dict[str, tuple[str, Record]]) -> Iterator[Finding]:
    """An archive shard only ever gains records, which then never change."""
    coll = model.COLLECTIONS[model.base(file)]
    old, new = records.by_id(before, coll), records.by_id(after, coll)
    counted = collections.Counter(rid for rid, _, _ in records.iter_records(after, coll))
    if not counted and not old:
        # What an archive move makes holds what it moved; empty shards would only slow every step.
        yield Finding(file, (), "archive", f"{file} holds no record: a shard is made by archiving into it")
    for rid in sorted(rid for rid, n in counted.items() if n > 1):
        yield Finding(file, (), "duplicate-id", f"{rid} is in this shard more than once; a record is archived once")
    for rid in sorted(old.keys() - new.keys()):
        yield Finding(file, (), "deleted", f"{rid} was deleted from the archive; archived records stay")
    for rid, record in new.items():
        if rid not in old:
            if rid in arrived:
                yield Finding(file, (), "duplicate-id", f"{rid} is archived twice, here and in {arrived[rid][0]}")
            arrived[rid] = (file, record)
        elif old[rid] != record:
            yield Finding(file, (), "immutable", f"archived {rid} changed; archived records never change")


def migrated(docs: list[tuple[str, Doc, Doc]], who: Judge) -> Iterator[Finding]:
    """The whole store leaves this branch for a branch of its own: the human coordinator's call."""
    at = At(model.REGISTRY, rulebook.INSTANCE, "$", ())
    if not any(roles.holds(r, who, at, {}, {}) for r in rulebook.MIGRATE_ROLES):
        message = f"{who.actor} may not move the store off this branch; only the human coordinator ({who.human}) may"
        yield Finding(model.REGISTRY, (), "authorization", message)


def moved(
    left: dict[str, tuple[str, Record]],
    arrived: dict[str, tuple[str, Record]],
    who: Judge,
    live_tasks: Callable[[], Doc],
) -> Iterator[Finding]:
    """Records leave a live file only into the archive: unchanged, closed, and closed long enough;
    a task only once no task left live depends on it (`live_tasks`: the new state's queue)."""
    if any(file == model.TASKS for file, _ in left.values()):
        waiting = records.waited_on(r for _, _, r in records.iter_records(live_tasks(), model.TASK_RECORDS))
        for rid in sorted(r for r, (file, _) in left.items() if file == model.TASKS and r in waiting):
            message = f"{rid} is what {waiting[rid]} waits for: a task stays live while a live task depends on it"
            yield Finding(model.TASKS, (), "archive", message)
    for rid in sorted(left.keys() - arrived.keys()):
        file = left[rid][0]
        message = f"{rid} was deleted; records are never deleted (closed ones move to the archive)"
        yield Finding(file, (), "deleted", message)
    for rid in sorted(arrived.keys() - left.keys()):
        shard = arrived[rid][0]
        yield Finding(shard, (), "immutable", f"{rid} is archived as it never was live; records move as they are")
    for rid in sorted(left.keys() & arrived.keys()):
        (file, record), (shard, archived) = left[rid], arrived[rid]
        if record != archived or model.base(shard) != file:
            yield Finding(shard, (), "immutable", f"{rid} changed on its way to the archive; records move as they are")
        else:
            yield from _archivable(shard, rid, record, who)


def _archivable(shard: str, rid: str, record: Record, who: Judge) -> Iterator[Finding]:
    coll = model.COLLECTIONS[model.base(shard)]
    kind = rulebook.KINDS[coll.kind]
    status = model.status_of(kind.name, record)
    if status not in rulebook.ARCHIVABLE_STATUSES[kind.name]:
        yield Finding(shard, (), "archive", f"{rid} is {status}: only closed records move to the archive")
        return
    closed = model.closed_at(kind.name, record)
    age = dt.timedelta(days=who.settings.archive_after_days)
    if closed is None or timestamps.parse(closed) + age > who.when:
        message = f"{rid} closed {closed}; it may move to the archive {who.settings.archive_after_days:g} days after"
        yield Finding(shard, (), "archive", message)
    elif not any(roles.holds(r, who, At(shard, kind, rid, ()), record, record) for r in rulebook.ARCHIVE_ROLES):
        yield Finding(shard, (), "authorization", f"{who.actor} may not archive {rid}; any registered instance may")
    elif not model.in_shard(shard, closed):
        yield Finding(
            shard,
            (),
            "archive",
            f"{rid} closed {closed}: it belongs in {model.shard_for(file=coll.file, closed=closed)} or a later shard",
        )
