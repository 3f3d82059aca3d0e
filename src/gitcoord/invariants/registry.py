"""The registry's names and keys: no instance takes a name that reads like another's, the
reserved `all` or the human coordinator's, and no signing key is held by two signers.
"""

from __future__ import annotations

from collections.abc import Iterator

from gitcoord import model
from gitcoord import records
from gitcoord import sshkeys
from gitcoord.findings import Finding
from gitcoord.invariants import references
from gitcoord.jsonio import JsonPath
from gitcoord.records import State


def check(state: State, known: references.Known, only: set[int] | None) -> Iterator[Finding]:
    doc = records.registry(state)
    f = model.REGISTRY
    settings = model.settings_of(doc)
    # One key, one signer: a key held twice would let its holder sign as either name.
    holders: dict[str, str] = {}
    if settings.human_key:
        holders[_key_material(settings.human_key)] = settings.human_coordinator
        yield from _a_key(settings.human_key, ("settings", "human_key"))
    looks: dict[str, str] = {_look(settings.human_coordinator): settings.human_coordinator}
    for name, record in doc["instances"].items():
        path: JsonPath = ("instances", name)
        twin = looks.setdefault(_look(name), name)
        if twin != name:
            message = (
                f"{name!r} reads like {twin!r} (names differing only in case, in '.', '_', '-' or in letters "
                "a terminal shows alike, such as l, I and 1, O and 0, rn and m, are one name to a reader): "
                "choose a name no one can take for another's"
            )
            yield Finding(f, path, "duplicate-id", message)
        if name == model.BROADCAST:
            yield Finding(f, path, "reference", "'all' is reserved: it addresses a message to every instance")
        if name == settings.human_coordinator:
            message = (
                f"{name!r} is the human coordinator's name (settings.human_coordinator); an instance "
                "may not share it: rename the instance or choose another name for the human"
            )
            yield Finding(f, path, "reference", message)
        key = record.get("signing_key")
        if key:
            yield from _a_key(key, (*path, "signing_key"))
            material = _key_material(key)
            if material in holders:
                message = f"{name}'s signing_key is also {holders[material]}'s; every signer needs a key of its own"
                yield Finding(f, (*path, "signing_key"), "duplicate-id", message)
            holders.setdefault(material, name)
        current = record["current_task"]
        if isinstance(current, str) and current.startswith("task_"):
            yield from references.ref(f, (*path, "current_task"), current, known.tasks, model.TASKS)


def _a_key(key: str, path: JsonPath) -> Iterator[Finding]:
    """A key that matches the schema's pattern but holds no key would fail every signature check
    against it, the human's repair of it included: refused when it is written."""
    try:
        sshkeys.parse(key)
    except sshkeys.NotAKey as e:
        yield Finding(model.REGISTRY, path, "schema", str(e))


# Letters a terminal shows alike, folded to one (ASCII's share of Unicode TR39's confusables).
_ALIKE = (("rn", "m"), ("vv", "w"), ("l", "1"), ("i", "1"), ("o", "0"))


def _look(name: str) -> str:
    """A name as a reader takes it in: case, the punctuation ids may hold and look-alike letters
    do not tell two apart."""
    folded = "".join(c for c in name.casefold() if c not in "._-")
    for alike, one in _ALIKE:
        folded = folded.replace(alike, one)
    return folded


def _key_material(key: str) -> str:
    """The key of a public key line without its comment, so that one key is one string."""
    return " ".join(key.split()[:2])
