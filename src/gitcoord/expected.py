"""What the merge driver makes of a merge commit's parents: the state the merge is judged against.

Only what the person merging added beyond the driver's merge needs their authority; a conflict
the driver leaves is settled as the commit settled it, to one of its candidates. For criss-cross
history the merge bases are merged with each other first, as git does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from gitcoord import git
from gitcoord import history
from gitcoord import merge
from gitcoord import model
from gitcoord import records
from gitcoord.findings import Finding
from gitcoord.model import Doc
from gitcoord.range_loader import EMPTY
from gitcoord.range_loader import Blobs
from gitcoord.range_loader import Loader
from gitcoord.range_loader import State


def of_parents(loader: Loader, parents: Sequence[str], actual: State) -> tuple[State, Finding | None]:
    """What the merge driver makes of the two parents (the state a merge commit is judged against)."""
    root = loader.root
    sides = loader.at(list(parents))
    ours, theirs = (loader.state(sides[p]) for p in parents)
    bases = git.merge_bases(root, git.Sha(parents[0]), git.Sha(parents[1]))
    if not bases:
        if ours.exists and theirs.exists:
            return ours, Finding(
                model.REGISTRY, (), "merge", "this merges two unrelated histories that each hold a store; refused"
            )
        return (ours if ours.exists else theirs), None
    base = virtual_base(loader, bases)
    if not base.exists and ours.exists and theirs.exists:
        return ours, Finding(model.REGISTRY, (), "merge", "this merges two stores created apart; refused")
    merged = _merge_states(base, ours, theirs, actual)
    return merged, None


def virtual_base(loader: Loader, bases: Sequence[str]) -> State:
    """The merge base, or for criss-cross history the bases merged with each other, as git does:
    each next base with the merge of those before it, from their own merge bases."""
    states = [loader.state(b) for b in loader.at(list(bases)).values()]
    merged = states[0]
    for n, other in enumerate(states[1:], start=1):
        inner = git.merge_bases(loader.root, git.Sha(bases[n]), *(git.Sha(b) for b in bases[:n]))
        merged = _merge_states(virtual_base(loader, inner) if inner else loader.state(EMPTY), merged, other, None)
    return merged


class Merged(State):
    """A state computed by merging, not read from a commit."""

    def __init__(self, loader: Loader, docs: dict[str, Doc], blobs: Blobs) -> None:
        super().__init__(loader, blobs)
        self.docs = docs

    def __getitem__(self, file: str) -> Doc:
        if file in self.docs:
            return self.docs[file]
        return super().__getitem__(file)

    def usable(self, file: str) -> bool:
        return file in self.docs or super().usable(file)

    def _latest(self, file: str) -> dt.datetime | None:
        return history.latest(file, self.docs[file]) if file in self.docs else super()._latest(file)


def _merge_states(base: State, ours: State, theirs: State, actual: State | None) -> State:
    docs: dict[str, Doc] = {}
    blobs: Blobs = {}
    for file in sorted({*ours.blobs, *theirs.blobs}):
        o, t, b = ours.blobs.get(file), theirs.blobs.get(file), base.blobs.get(file)
        if t in (o, b):
            chosen = o
        elif o == b:
            chosen = t
        else:
            chosen = None
        if chosen is not None:
            blobs[file] = chosen
            continue
        if not (ours.usable(file) and theirs.usable(file) and base.usable(file)):
            blobs[file] = o or t or ""
            continue
        doc = merge.merge_file(model.base(file), base[file] if b else None, ours[file], theirs[file]).doc
        docs[file] = _settled(file, doc, actual[file]) if actual is not None and actual.usable(file) else doc
        blobs[file] = f"merged:{file}"
    return Merged(ours.loader, docs, blobs)


def _settled(file: str, doc: Doc, actual: Doc) -> Doc:
    """The driver's result with each conflict settled as `actual` settled it (to one of its candidates)."""
    coll = model.COLLECTIONS[model.base(file)]
    conflicts = doc.get("merge_conflicts", [])
    if not conflicts:
        return doc
    doc = {k: v for k, v in doc.items() if k != "merge_conflicts"}
    if "merge_conflicts" in actual:
        doc["merge_conflicts"] = actual["merge_conflicts"]
    mine = records.by_id(actual, coll)
    for c in conflicts:
        record, found = records.get({coll.file: doc}, coll.kind, c["record"]), mine.get(c["record"])
        if record is not None and found is not None and merge.chosen(c, found):
            value = (
                found.get(c["field"])
                if c["field"] != "outcome"
                else {f: found[f] for f in merge.OUTCOME_FIELDS if f in found}
            )
            rid = c["record"] if not coll.id_key else None
            doc = records.put(doc, coll, merge.settle(record, c, value), rid)
    return doc
