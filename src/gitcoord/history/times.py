"""The times a change writes: none beyond the moment of the change, none before the state it changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord.findings import Finding
from gitcoord.history.roles import At
from gitcoord.history.roles import Judge
from gitcoord.model import Record


def stamps(at: At, old: Record | None, new: Record, who: Judge) -> Iterator[Finding]:
    """The record's stamps that the change wrote, each judged by `future`."""
    for field in sorted(at.kind.stamps):
        value = value_of(new, field)
        if value is not None and (old is None or value_of(old, field) != value):
            yield from future(at, field, value, who, *field.split("."))


def future(at: At, field: str, value: Any, who: Judge, *path: str | int) -> Iterator[Finding]:
    """A time the actor writes may not lie after the moment of the change (beyond a little skew),
    nor after the checker's clock: a commit dated ahead (within the gate's slack) would otherwise
    add its own skew, and the floor its times raise would refuse every writer until then."""
    if not isinstance(value, str):
        return
    moment = timestamps.parse(value)
    latest = min(who.when, who.now)
    if moment > latest + rulebook.SKEW:
        message = f"{at.rid}.{field} = {value} lies after the change itself ({timestamps.format(latest)})"
        yield at.finding("time", message, *path)
    elif who.since is not None and moment < who.since - rulebook.SKEW:
        message = f"{at.rid}.{field} = {value} lies before the state it changes ({timestamps.format(who.since)})"
        yield at.finding("time", message, *path)


def closing(at: At, field: str, old: Record, new: Record, who: Judge) -> Iterator[Finding]:
    """A move into a closed status writes the moment it closed: the archive's wait counts from it.
    A time kept from before (by more than the skew) would let the record leave the live files at once."""
    value, status = value_of(new, field), new.get("status", "")
    if value is None:
        yield at.finding("time", f"{at.rid}: a move to {status} writes {field}, the moment it closed", field)
    elif who.since is not None and value == value_of(old, field) and earlier(value, _minus_skew(who.since)):
        message = (
            f"{at.rid} moves to {status} with {field} = {value}, before the state it changes "
            f"({timestamps.format(who.since)}): a close writes its own moment, which the archive's wait counts from"
        )
        yield at.finding("time", message, field)


def value_of(record: Record, field: str) -> Any:
    """The value of a dotted field (`escalation.positions`); None where a part of it is missing."""
    value: Any = record
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def earlier(a: str | None, b: str | None) -> bool:
    """Whether the time `a` lies before `b` (never, where either is unset)."""
    return a is not None and b is not None and timestamps.parse(a) < timestamps.parse(b)


def _minus_skew(moment: dt.datetime) -> str:
    return timestamps.format(moment - rulebook.SKEW)
