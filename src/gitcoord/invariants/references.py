"""References resolve: the instances, tasks, messages and decisions a record names exist (live, or
archived where an archived record is still a valid target).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from collections.abc import Container
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

from gitcoord import model
from gitcoord import records
from gitcoord.findings import Finding
from gitcoord.jsonio import JsonPath
from gitcoord.records import State

# (kind, id): the status of the record in coordination/archive/, where it is still a valid target
# of a reference; None where it was not moved there.
Archives = Callable[[str, str], "str | None"]


class _Ids:
    """The ids of one kind: the live ones, then (only on a miss) the archived ones."""

    def __init__(self, live: frozenset[str], kind: str, archives: Archives) -> None:
        self.live = live
        self._kind = kind
        self._archives = archives

    def __contains__(self, rid: object) -> bool:
        return rid in self.live or (isinstance(rid, str) and self._archives(self._kind, rid) is not None)


def human_coordinator(state: State) -> str:
    return model.settings_of(state.get(model.REGISTRY, {})).human_coordinator


class Known:
    """The ids a reference may name; None where the file that defines them is not usable.

    Each set is built on first use, so checking one file reads only the files it refers to.
    """

    def __init__(self, state: State, archives: Archives | None) -> None:
        self._state = state
        self._archives: Archives = functools.cache(archives or (lambda kind, rid: None))
        self.human = human_coordinator(state)

    def archived(self, kind: str, rid: str) -> str | None:
        """The status `rid` of `kind` has in the archive; None where it was not archived."""
        return self._archives(kind, rid)

    def _ids(self, file: str) -> _Ids | None:
        if file not in self._state:
            return None
        coll = model.COLLECTIONS[file]
        live = frozenset(records.by_id(self._state[file], coll))
        return _Ids(live, coll.kind, self._archives)

    @functools.cached_property
    def instances(self) -> frozenset[str] | None:
        ids = self._ids(model.REGISTRY)
        return ids.live if ids is not None else None

    @functools.cached_property
    def tasks(self) -> _Ids | None:
        return self._ids(model.TASKS)

    @functools.cached_property
    def messages(self) -> _Ids | None:
        return self._ids(model.MESSAGES)

    @functools.cached_property
    def decisions(self) -> _Ids | None:
        return self._ids(model.DECISIONS)

    def by_prefix(self, rid: str) -> _Ids | None:
        prefix = rid.split("_", 1)[0]
        return {"task": self.tasks, "msg": self.messages, "dec": self.decisions}[prefix]

    def missing_instance(self, name: Any, *, broadcast: bool = False) -> bool:
        if self.instances is None or name is None or name == self.human:
            return False
        return name not in self.instances and not (broadcast and name == model.BROADCAST)


def instances(
    file: str, path: JsonPath, names: Iterable[Any], known: Known, what: str, *, broadcast: bool = False
) -> Iterator[Finding]:
    for i, name in enumerate(names):
        yield from instance(file, (*path, i), name, known, what, broadcast=broadcast)


def instance(
    file: str, path: JsonPath, name: Any, known: Known, what: str, *, broadcast: bool = False
) -> Iterator[Finding]:
    if known.missing_instance(name, broadcast=broadcast):
        yield Finding(file, path, "reference", f"{what} {name!r} is not an instance in {model.REGISTRY}")


def ref(file: str, path: JsonPath, rid: Any, ids: Container[str] | None, where: str) -> Iterator[Finding]:
    if rid is not None and ids is not None and rid not in ids:
        yield Finding(file, path, "reference", f"{rid!r} is not a record in {where}")
