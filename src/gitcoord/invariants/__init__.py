"""The rules one state of the store must keep, whatever its history.

References resolve, ids are unique, every record sits in the list its status calls for,
dependencies form a DAG, `response_queue` is in step with the messages, and no merge
conflict is left unresolved. The input is schema-valid documents; a file that failed its
schema is left out, and the checks that need it are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator

from gitcoord import model
from gitcoord import records
from gitcoord.findings import Finding
from gitcoord.invariants import decisions
from gitcoord.invariants import messages
from gitcoord.invariants import placement
from gitcoord.invariants import references
from gitcoord.invariants import registry
from gitcoord.invariants import tasks
from gitcoord.invariants.references import Archives
from gitcoord.model import Doc
from gitcoord.records import State
from gitcoord.records import iter_records


def check(
    state: State,
    *,
    files: Iterable[str] = model.FILES,
    archives: Archives | None = None,
    since: State | None = None,
    whole_archive: bool = False,
) -> list[Finding]:
    """What breaks the invariants in `files` (the rules of other files are not checked).

    `since`: the state a protocol step changed, which copies the records it keeps. Then
    only the records the step made are looked at, with the tasks that depend on them: a
    rule that holds of a record holds as long as the records it refers to stay. Unless the
    step took records away (an archive), which anything may have referred to: then all.
    `archives`: the status an id of a kind has in the archive, None if it was not archived (a
    reference may name an archived record; a dependency archived completed is done).
    `whole_archive`: also that no live record is archived as well, in any shard (which reads
    the shards from each live record's day on: `coord validate` asks it; a step cannot make it
    so, the rulebook refuses that).
    """
    known = references.Known(state, archives)
    findings: list[Finding] = []
    wanted = set(files)
    touched = records.touched(since, state) if since is not None else None
    for file, checker in _CHECKS.items():
        if file in wanted and file in state:
            findings.extend(checker(state, known, touched.get(file) if touched is not None else None))
            findings.extend(_conflicts(file, state[file]))
    for file in model.ARCHIVE_FILES:
        if file in wanted and file in state:
            findings.extend(_archive(file, state[file], state))
    if whole_archive and archives is not None:
        findings.extend(_live_and_archived(state, [f for f in model.COLLECTIONS if f in wanted], archives))
        findings.extend(_archived_twice(state, [f for f in wanted if model.is_shard(f) and f in state]))
    return findings


def _archived_twice(state: State, shards: Iterable[str]) -> Iterator[Finding]:
    """A record is archived once: in one shard (a merge of two lines that archived it apart could
    put it in two; the history check refuses that, and this finds what came before it)."""
    first: dict[tuple[str, str], str] = {}
    for shard in sorted(shards):
        coll = model.COLLECTIONS[model.base(shard)]
        for rid, path, _ in iter_records(state[shard], coll):
            where = first.setdefault((coll.kind, rid), shard)
            if where != shard:
                message = f"{rid} is archived in {where} too: a record is archived once (readers take that copy)"
                yield Finding(shard, path, "duplicate-id", message)


def _live_and_archived(state: State, files: Iterable[str], archives: Archives) -> Iterator[Finding]:
    for file in files:
        coll = model.COLLECTIONS[file]
        if not coll.id_key or file not in state:
            continue
        for rid, path, _ in iter_records(state[file], coll):
            if archives(coll.kind, rid):
                message = f"{rid} is both live and archived: an archived record never changes; delete the live copy"
                yield Finding(file, path, "duplicate-id", message)


def _archive(file: str, doc: Doc, state: State) -> Iterator[Finding]:
    """An archive file: its records unique and in place, and none of them live as well."""
    coll = model.COLLECTIONS[model.base(file)]
    yield from placement.check(file, coll, doc)
    live = coll.file
    if live in state:
        alive = {rid for rid, _, _ in iter_records(state[live], coll)}
        for rid, path, _ in iter_records(doc, coll):
            if rid in alive:
                message = f"{rid} is both archived and live (in {live}); keep the live one and delete this copy"
                yield Finding(file, path, "duplicate-id", message)


def _conflicts(file: str, doc: Doc) -> Iterator[Finding]:
    for i, c in enumerate(doc.get("merge_conflicts", ())):
        yield Finding(
            file,
            ("merge_conflicts", i),
            "merge-conflict",
            f"unresolved merge conflict in {c['record']}.{c['field']} ({c['reason']}): "
            f"choose with `coord resolve {c['record']} {c['field']} --pick N`, or edit the record and "
            "delete this entry",
        )


_CHECKS = {
    model.REGISTRY: registry.check,
    model.TASKS: tasks.check,
    model.MESSAGES: messages.check,
    model.DECISIONS: decisions.check,
}
