"""Every record has an id of its own and sits in the list its status calls for."""

from __future__ import annotations

from collections.abc import Iterator

from gitcoord import model
from gitcoord.findings import Finding
from gitcoord.model import Fields


def check(file: str, coll: model.Collection, doc: Fields, only: set[int] | None = None) -> Iterator[Finding]:
    seen: set[str] = set()
    key = coll.id_key
    if only is not None and key:
        every = [r[key] for name in coll.lists for r in doc[name]]
        if len(set(every)) != len(every):
            only = None  # a duplicate: found by looking at every record
    for list_name in coll.lists if key else ():
        for i, record in enumerate(doc[list_name]):
            if only is not None and id(record) not in only:
                continue
            rid = record[key]
            if rid in seen:
                yield Finding(
                    file, (list_name, i), "duplicate-id", f"{rid} appears more than once; every record needs its own id"
                )
            seen.add(rid)
            placed = coll.placement(record)
            if placed != list_name:
                status = model.status_of(coll.kind, record)
                message = f"{rid} has status {status!r}, so it belongs in {placed}, not {list_name}"
                yield Finding(file, (list_name, i), "placement", message)
