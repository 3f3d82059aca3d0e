"""The protocols as pure functions: a state and a request in, the changed documents out.

No git, no files, no clock: the time, the acting instance and the id maker come in a
`Context`, and every step returns a `Change` that the caller checks and commits. A step
that the protocol does not allow raises `Refused` with what to do instead. Who may take a
step is the rulebook's to say (`rulebook.py`, judged by `history/`): every step's change
is judged by it before it is returned, so no step restates an authority rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from collections.abc import Iterator
from typing import Any
from typing import NamedTuple

from gitcoord import events
from gitcoord import history
from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord.errors import FatalError
from gitcoord.errors import NotFound
from gitcoord.events import Event
from gitcoord.ids import IdMaker
from gitcoord.model import Doc
from gitcoord.model import Fields
from gitcoord.model import Record
from gitcoord.records import State


class Refused(FatalError):
    """The protocol does not allow this step; the message says why and what to do."""

    kind = "refused"


class NoSuchRecord(Refused, NotFound):
    """The step names a record that is not in the store."""

    kind = "not_found"


class Context(NamedTuple):
    actor: str | None
    now: dt.datetime
    new_id: IdMaker

    @property
    def stamp(self) -> str:
        return timestamps.format(self.now)

    def me(self) -> str:
        if not self.actor:
            raise Refused(events.IDENTITY_HELP)
        return self.actor


class Change(NamedTuple):
    docs: dict[str, Doc]  # the files this step changes, as they become
    event: Event
    record: Fields | None  # what was created or changed, for the caller to show
    notes: tuple[str, ...] = ()  # what the actor should know, beyond the change itself


class Edit:
    """A state being changed: reads see the changes made so far; only changed files are copied."""

    def __init__(self, state: State, ctx: Context) -> None:
        self.base = state
        self.ctx = ctx
        self.docs: dict[str, Doc] = {}
        self.state = records.with_changes(state, self.docs)

    def authorize(self, kind: str, old: Record | None, new: Record, rid: str | None = None, *, hint: str = "") -> None:
        """Refuse now, in the rulebook's words, if the actor may not make this change to one record."""
        found = history.check_record(self.base, kind, old, new, self.ctx.actor, when=self.ctx.now, rid=rid)
        if found:  # the hint says who holds the record: it answers only a refusal of who may
            raise Refused(found[0].message + (hint if found[0].rule == "authorization" else ""))

    def get(self, kind: str, rid: str) -> Record | None:
        return records.get(self.state, kind, rid)

    def require(self, kind: str, rid: str) -> Record:
        found = self.get(kind, rid)
        if found is None:
            raise NoSuchRecord(no_such(kind, rid), details={"record": rid})
        return found

    def put(self, kind: str, record: Fields, rid: str | None = None) -> Fields:
        coll = model.BY_KIND[kind]
        self.docs[coll.file] = records.put(self.state[coll.file], coll, record, rid)
        return record

    def ids(self, kind: str) -> Container[str]:
        coll = model.BY_KIND[kind]
        return _Taken(self.state[coll.file], coll)

    def touch_registry(self, when: str) -> None:
        doc = dict(self.state[model.REGISTRY])
        doc["last_registry_update"] = timestamps.later(doc.get("last_registry_update"), when)
        self.docs[model.REGISTRY] = doc

    def done(self, event: Event, record: Fields | None, *notes: str) -> Change:
        tidied = self._tidy(event.actor)
        found = history.check(self.base, self.state, event.actor, when=self.ctx.now, files=list(self.docs))
        if found:
            raise Refused("\n".join(f.message for f in found))
        return Change(dict(self.docs), event, record, (*notes, *tidied))

    def _tidy(self, actor: str | None) -> tuple[str, ...]:
        """Clear the actor's current_task if the task is no longer theirs.

        A merge (a lost claim) or another instance (a reclaim) can take a task away, but the
        registry entry is its owner's alone to change; so the owner's next step fixes it.
        """
        entry = records.registry(self.state)["instances"].get(actor) if actor else None
        current = entry["current_task"] if entry else None
        if not (isinstance(current, str) and current.startswith("task_")):
            return ()
        task = self.get("task", current)
        if task is not None and task["assigned_to"] == actor and task["status"] in rulebook.HELD:
            return ()
        assert entry is not None
        assert actor is not None
        self.put("instance", {**entry, "current_task": None}, actor)
        where = f"{task['status']}, held by {task['assigned_to'] or 'nobody'}" if task else "gone"
        return (f"your current task {current} is no longer yours ({where})",)


class _Taken(Container[str]):
    """The ids of a collection, for a new id to avoid: asked once or twice, so looked up by a scan."""

    def __init__(self, doc: Doc, coll: model.Collection) -> None:
        self._doc = doc
        self._coll = coll

    def __contains__(self, rid: object) -> bool:
        if not self._coll.id_key:
            return rid in self._doc.get(self._coll.lists[0], {})
        key = self._coll.id_key
        return any(r[key] == rid for name in self._coll.lists for r in self._doc.get(name, ()))


_LIST = {"instance": "status", "task": "task list", "message": "msg list --all", "decision": "decision list --all"}


def no_such(kind: str, rid: str) -> str:
    """What to say of an id that names no record, and where the ones there are are listed."""
    return f"there is no {kind} {rid!r}; `coord {_LIST[kind]}` shows them (an id, or its start after the prefix)"


def settings(state: State) -> model.Settings:
    return model.settings_of(records.registry(state))


def instance(edit: Edit, name: str) -> Record:
    found = edit.state[model.REGISTRY]["instances"].get(name)
    if found is None:
        raise Refused(f"{name!r} is not registered; register it with `coord register {name} --role ROLE`")
    entry: Record = found
    return entry


def known_instance(edit: Edit, name: str, *, broadcast: bool = False) -> str:
    """`name` if it can be addressed: a registered instance, the human coordinator, or all."""
    if name == settings(edit.state).human_coordinator or (broadcast and name == model.BROADCAST):
        return name
    instance(edit, name)
    return name


def plural(items: list[Any], word: str) -> str:
    return f"{len(items)} {word}{'' if len(items) == 1 else 's'}"


def iter_ids(items: list[Record], key: str) -> Iterator[str]:
    return (r[key] for r in items)
