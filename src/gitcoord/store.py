"""The store's files: where they live and their canonical bytes.

One canonical form (keys in schema order, records in id order), so that an unchanged file
keeps every byte; a record left as it was is copied from the old text, not written again.
"""

from __future__ import annotations

from gitcoord import canonical
from gitcoord import layout
from gitcoord import model
from gitcoord.model import Doc


def repo_path(file: str) -> str:
    return f"{model.COORD_DIR}/{file}"


PATHS = frozenset(repo_path(f) for f in model.ALL_FILES)  # the store's files, as paths in a tree


def dump(file: str, doc: Doc, reuse: canonical.Reuse | None = None) -> bytes:
    return canonical.dumps(doc, layout.shape(model.base(file)), reuse).encode("utf-8")


def reusable(file: str, data: bytes, doc: Doc) -> canonical.Reuse:
    """What of `data` (the text `doc` was parsed from) a later dump can copy unchanged."""
    base = model.base(file)
    coll = model.COLLECTIONS[base]
    lists = dict.fromkeys(coll.lists, coll.id_key) if coll.id_key else {}
    if base == model.MESSAGES:
        lists["response_queue"] = "responding_to"  # an entry a step did not change is kept as it was
    if not lists:
        return {}
    return canonical.record_texts(data.decode("utf-8"), doc, lists)
