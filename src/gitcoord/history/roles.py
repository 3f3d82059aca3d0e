"""Who may: the roles an actor plays for a record, judged on the old state, and refusals in the rulebook's words.

A `Judge` carries who made a change, when, and what the old state says of the world (the
registry, the settings); an `At` names the record a finding is about. Every rule of the
history check asks `holds` whether the actor plays a role the rulebook names for the step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import NamedTuple

from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import shapes
from gitcoord.findings import Finding
from gitcoord.jsonio import JsonPath
from gitcoord.model import Record
from gitcoord.rulebook import Kind


class Judge(NamedTuple):
    """Who made a change and when, and what the old state says about the world."""

    actor: str | None
    human: str
    registry: Mapping[str, shapes.Instance]  # the old state's instances
    settings: model.Settings  # the old state's settings
    when: dt.datetime  # the moment of the change: the commit's date
    now: dt.datetime  # the checker's clock (a commit dated after it is not believed)
    archives: Callable[[str, str], str | None] | None = None  # (kind, id): its status in the old state's archive
    since: dt.datetime | None = None  # the floor of the state it changes: times written may not lie before it

    @property
    def known(self) -> bool:
        return self.actor is not None and (self.actor in self.registry or self.actor == self.human)


class At(NamedTuple):
    """Which record a finding is about, and where it is."""

    file: str
    kind: Kind
    rid: str
    path: JsonPath

    def finding(self, rule: str, message: str, *field: str | int) -> Finding:
        return Finding(self.file, (*self.path, *field), rule, message)


def holds(role: str, who: Judge, at: At, old: Record | None, new: Record) -> bool:
    """Whether the actor plays `role` for this change of the record `at` names (judged on `old`)."""
    me = who.actor
    record = old if old is not None else new
    if me is None:
        return False
    if role == rulebook.ANYONE:
        return who.known
    if role == rulebook.HUMAN:
        return me == who.human
    if role == rulebook.SELF:
        return me == at.rid
    if role in _FIELD_ROLES:
        return bool(record.get(_FIELD_ROLES[role]) == me)
    if role == rulebook.HOLDER:
        return old is not None and old.get("assigned_to") == me
    if role == rulebook.CLAIMANT:
        return bool(new.get("assigned_to") == me) and who.known
    if role == rulebook.RECIPIENT:
        # One named reader: a message to all is nobody's to close for everyone (as `coord msg ack` says).
        return record.get("to") == me and who.known
    if role == rulebook.DECIDER:
        return me in record.get("decided_by", ())
    if role == rulebook.STALE_HOLDER:
        return who.known and _stale(who, old)
    raise AssertionError(f"unknown role {role}")  # pragma: no cover


_FIELD_ROLES = {r: rulebook.ROLE_FIELDS[r] for r in (rulebook.CREATOR, rulebook.SENDER, rulebook.PROPOSER)}


def _stale(who: Judge, old: Record | None) -> bool:
    """The holder had not checked in for a whole lease when the task was taken back.

    Judged from the moment of the change (never later than the checker's own clock), not from
    any time the actor wrote: a reclaim cannot make a holder look stale by dating itself.
    """
    holder = (old or {}).get("assigned_to")
    if holder is None:
        return False
    moment = min(who.when, who.now)
    return records.holder_silent(who.registry.get(holder), old or {}, moment, who.settings.lease_hours)


def refuse(at: At, who: Judge, what: str) -> Finding:
    return at.finding("authorization", f"{who.actor} may not {what} on {at.rid}")


def denied(at: At, who: Judge, what: str, rules: list[Any], record: Record) -> Finding:
    """A refusal that says who may, in the rulebook's words, filled in from the record."""
    roles = sorted({r for rule in rules for r in rule.roles})
    names = [n for r in roles if (n := _role_name(r, who, at, record))]
    may = f"; {either(names)} may" if names else ""
    return at.finding("authorization", f"{who.actor} may not {what} on {at.rid}{may}")


def _role_name(role: str, who: Judge, at: At, record: Record) -> str | None:
    """The role in words, e.g. "its holder (instance-2)"; None for a role nobody holds on this record."""
    values = {"rid": at.rid, "human": who.human}
    for key in ("created_by", "assigned_to", "from", "to", "proposed_by", "decided_by"):
        value = record.get(key)
        values[key] = ", ".join(value) if isinstance(value, list) else str(value or "")
    name = rulebook.ROLE_NAMES[role]
    if "()" in name.format(**values):
        return None
    return name.format(**values)


def either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
