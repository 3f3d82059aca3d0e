"""The files' own fields (beside their record lists): the settings are the human coordinator's,
the `last_updated` stamps only go forward, and merge conflicts are written only by the merge driver.
"""

from __future__ import annotations

from collections.abc import Iterator

from gitcoord import model
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord.findings import Finding
from gitcoord.history import times
from gitcoord.history.roles import Judge
from gitcoord.model import Doc
from gitcoord.model import Record


def check(file: str, before: Doc, after: Doc, who: Judge) -> Iterator[Finding]:
    lists = set(model.COLLECTIONS[file].lists)
    for key in sorted((before.keys() | after.keys()) - lists):
        if before.get(key) == after.get(key):
            continue
        rule = rulebook.FILE_FIELDS.get(key, rulebook.HUMAN)
        if rule == rulebook.HUMAN and who.actor != who.human:
            message = f"{who.actor} changed the {key}; only the human coordinator ({who.human}) may"
            yield Finding(file, (key,), "authorization", message)
        elif rule == "touched":
            if times.earlier(after.get(key), before.get(key)):
                yield Finding(file, (key,), "time", f"{key} went back from {before.get(key)} to {after.get(key)}")
            value = after.get(key)
            if isinstance(value, str) and timestamps.parse(value) > min(who.when, who.now) + rulebook.SKEW:
                yield Finding(file, (key,), "time", f"{key} = {value} lies after the change itself")
        elif rule == "merge":
            yield from _settled(file, before.get(key) or [], after.get(key) or [])


def _settled(file: str, before: list[Record], after: list[Record]) -> Iterator[Finding]:
    """Outside a merge, a merge conflict can only be settled (removed), never written."""
    for entry in after:
        if entry not in before:
            message = "a merge conflict is written only by the merge driver, in a merge"
            yield Finding(file, ("merge_conflicts",), "authorization", message)
