"""Keeping the live files the size of the open work: closed records move to the archive, by policy.

A record that closed on day D (UTC) moves once D has been over for the settings'
`archive_after_days` (default 2): every record of a day becomes due at the same moment,
so each day's shard (`archive/YYYY/MM/DD/…`, named for the last day it covers) is written
once and never changes again, and two clones archiving at once write the same bytes. A
closed task stays live while a live task depends on it, so that whether a task can start
is always answered from the live files; it moves with the first batch after it is free.
References to archived records stay valid, and `show` still finds them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord.events import Event
from gitcoord.model import Record
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import Edit
from gitcoord.protocol import Refused
from gitcoord.records import State


def cutoff(now: dt.datetime, days: float) -> dt.datetime:
    """The end of the last day whose closed records are due: midnight (UTC), `days` ago or earlier."""
    moment = now.astimezone(dt.timezone.utc) - dt.timedelta(days=days)
    return dt.datetime.combine(moment.date(), dt.time(), tzinfo=dt.timezone.utc)


def choose(state: State, before: dt.datetime) -> dict[str, set[str]]:
    """The ids of the closed records that closed before `before`, by file (tasks: once nothing live waits on them)."""
    chosen: dict[str, set[str]] = {}
    shelved = _shelved(state)
    for file in model.ARCHIVABLE:
        coll = model.COLLECTIONS[file]
        closed = rulebook.ARCHIVABLE_STATUSES[coll.kind]
        chosen[file] = {
            rid
            for rid, _, r in records.iter_records(state[file], coll)
            if model.status_of(coll.kind, r) in closed
            and _closed_before(coll.kind, r, before)
            and not shelved(coll.kind, rid)
        }
    tasks = records.by_id(state[model.TASKS], model.TASK_RECORDS)
    old = chosen[model.TASKS]
    while True:  # keep every task a live task still depends on
        needed = set(records.waited_on(t for rid, t in tasks.items() if rid not in old))
        if not needed & old:
            break
        old -= needed
    return chosen


def _shelved(state: State) -> Callable[[str, str], bool]:
    """Whether a live record is in a shard already. It happens honestly: one clone archives a
    record while another adds a note to it, and the merge keeps the noted copy live (nothing is
    lost). The shard's copy never changes, so the live one, the newer, stays where it is."""
    found: Callable[[str, str], str | None] | None = getattr(state, "archives", None)
    if found is not None:
        return lambda kind, rid: found(kind, rid) is not None
    return lambda kind, rid: any(
        rid in records.by_id(doc, model.BY_KIND[kind])
        for name, doc in state.items()
        if model.is_shard(name) and model.base(name) == model.BY_KIND[kind].file
    )


def _closed_before(kind: str, record: Record, before: dt.datetime) -> bool:
    return timestamps.before(model.closed_at(kind, record), before)


def due(state: State, now: dt.datetime) -> dict[str, set[str]]:
    """What the archive policy moves at `now` (nothing, if nothing is due)."""
    settings = model.settings_of(records.registry(state))
    return choose(state, cutoff(now, settings.archive_after_days))


def until(state: State, now: dt.datetime, before: dt.datetime | None = None) -> dt.datetime:
    """The cut-off: what the policy says is due at `now`, or earlier if `before` asks for less."""
    latest = cutoff(now, model.settings_of(records.registry(state)).archive_after_days)
    return min(before, latest) if before is not None else latest


def archive(state: State, ctx: Context, *, before: dt.datetime | None = None) -> Change:
    """Move what is due (or, less than the policy allows, what closed before `before`) to the archive."""
    edit = Edit(state, ctx)
    me = ctx.me()
    settings = model.settings_of(records.registry(edit.state))
    until_ = until(state, ctx.now, before)
    chosen = choose(state, until_)
    if not any(chosen.values()):
        raise Refused(
            f"nothing to archive: no closed record from before {timestamps.format(until_)} "
            f"(records move {settings.archive_after_days:g} days after the day they closed)"
        )
    shard_day = until_ - dt.timedelta(days=1)
    counts = []
    for file, ids in chosen.items():
        if not ids:
            continue
        coll = model.COLLECTIONS[file]
        moving: list[Record] = [r for rid, _, r in records.iter_records(state[file], coll) if rid in ids]
        edit.docs[file] = records.without(state[file], coll, ids)
        shelf = model.shard_for(file=file, closed=timestamps.format(shard_day))
        archived = edit.state.get(shelf) or model.empty_documents()[file]
        for record in moving:
            archived = records.put(archived, coll, record)
        edit.docs[shelf] = archived
        counts.append(f"{len(moving)} {coll.kind}{'s' if len(moving) != 1 else ''}")
    summary = f"{me} archives {', '.join(counts)} closed before {timestamps.format(until_)}"
    return edit.done(
        Event("archive", me, None, summary), {k: sorted(v) for k, v in chosen.items()}, *raised(state, before, until_)
    )


def raised(state: State, before: dt.datetime | None, until_: dt.datetime) -> tuple[str, ...]:
    """The note for a cut-off asked later than the policy allows, which the policy moved back."""
    if before is None or before <= until_:
        return ()
    days = model.settings_of(records.registry(state)).archive_after_days
    return (
        f"the cut-off asked, {timestamps.format(before)}, is later than the policy allows: records move "
        f"{days:g} days after the day they closed (settings.archive_after_days), so it is {timestamps.format(until_)}",
    )
