"""Is a change from one state of the store to the next a lawful step, by the instance that made it?

A generic diff of the old and the new state against the rulebook (`rulebook.py`): every
record created, changed, archived or deleted, and every field that changed, needs a rule
that allows it and an actor who holds a role for it. Authority — the human coordinator,
the registry, the lease, the holder of a task — is read from the *old* state, so a change
cannot grant itself the power it uses; and times an actor writes may not lie beyond the
moment of the change. The same function judges a command's own step, a staged commit
(pre-commit), and every commit replayed by `coord check --range`, the server's gate and CI.

Here the change is walked file by file; the rules are in the modules beside: `record_changes`
(each record created or changed), `file_fields` (the files' own fields), `archive` (records
leaving a live file), `times` (the times a change writes) and `roles` (who may).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence

from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord.findings import Finding
from gitcoord.history import archive
from gitcoord.history import file_fields
from gitcoord.history import record_changes
from gitcoord.history import times
from gitcoord.history.roles import At
from gitcoord.history.roles import Judge
from gitcoord.history.roles import holds
from gitcoord.model import Doc
from gitcoord.model import Record


def document(state: Mapping[str, Doc], file: str) -> Doc:
    """The file's document in `state`; a file that is not there is an empty one."""
    doc = state.get(file)
    return doc if doc is not None else model.empty_documents()[model.base(file)]


def judge(old: Mapping[str, Doc], actor: str | None, when: dt.datetime, now: dt.datetime | None = None) -> Judge:
    registry = document(old, model.REGISTRY)
    settings = model.settings_of(registry)
    return Judge(actor, settings.human_coordinator, registry["instances"], settings, when, now or when)


def check(
    old: Mapping[str, Doc],
    new: Mapping[str, Doc],
    actor: str | None,
    *,
    when: dt.datetime,
    now: dt.datetime | None = None,
    files: Iterable[str] | None = None,
    fresh: bool = True,
    event: str | None = None,
    authority: Doc | None = None,
    since: dt.datetime | None = None,
) -> list[Finding]:
    """Everything the change of `files` (default: all) from `old` to `new`, made by `actor` at `when`, breaks.

    `fresh`: an empty `old` is a store that never existed (not one that was deleted), so its
    first state is the root of trust.
    """
    files = list(files) if files is not None else sorted({*old, *new})
    docs = [(f, document(old, f), document(new, f)) for f in files]
    if fresh and _empty(document(old, model.REGISTRY)) and all(_empty(o) for _, o, _ in docs):
        return []  # a store created from nothing: its first state is the root of trust
    who = judge({model.REGISTRY: authority} if authority is not None else old, actor, when, now)
    # Only a state that knows its archive can say an id was archived (a snapshot, a replayed commit).
    who = who._replace(archives=records.archive_of(old), since=since)
    findings: list[Finding] = []
    left: dict[str, tuple[str, Record]] = {}  # records that left a live file
    arrived: dict[str, tuple[str, Record]] = {}  # records that arrived in an archive shard
    for file, before, after in docs:
        if before is after:
            continue
        if model.is_shard(file):
            findings += archive.shard(file, before, after, arrived)
        else:
            findings += record_changes.live(file, before, after, who, left)
            findings += file_fields.check(file, before, after, who)
    if model.REGISTRY in files:
        findings += _names_held(old, document(old, model.REGISTRY), document(new, model.REGISTRY))
    if event == rulebook.MIGRATE and all(_empty(n) for _, _, n in docs):
        findings += archive.migrated(docs, who)
    else:
        findings += archive.moved(left, arrived, who, lambda: document(new, model.TASKS))
    if findings and actor is None:
        first = findings[0]
        message = (
            "the change names no instance: commit with a Coord-Instance trailer, or set your identity "
            "(--as, COORD_INSTANCE or `git config coord.instance`)"
        )
        return [Finding(first.file, first.path, "authorization", message)]
    return findings


def _names_held(old: Mapping[str, Doc], before: Doc, after: Doc) -> list[Finding]:
    """A new instance may not take a name the live records already hold in a role: a former human
    coordinator's, who needs no entry. It would be the creator, sender or holder of what they did."""
    fresh = sorted(after.get("instances", {}).keys() - before.get("instances", {}).keys())
    if not fresh:
        return []
    held: dict[str, str] = {}
    fields = sorted(set(rulebook.ROLE_FIELDS.values()))
    for file in (model.TASKS, model.MESSAGES, model.DECISIONS):
        coll = model.COLLECTIONS[file]
        for rid, _, record in records.iter_records(document(old, file), coll):
            for field in fields:
                value = record.get(field)
                for name in value if isinstance(value, list) else [value]:
                    if isinstance(name, str):
                        held.setdefault(name, f"{rid}.{field}")
    return [
        Finding(
            model.REGISTRY,
            ("instances", name),
            "authorization",
            f"{name} is the name {held[name]} holds (a former human coordinator's, or one that never "
            "registered): an instance of that name would play that role there; register under another name",
        )
        for name in fresh
        if name in held
    ]


def latest(file: str, doc: Doc) -> dt.datetime | None:
    """The latest time a live file records (its own fields and its records' stamps), if any.

    Only a judged commit can move it, so it is the floor under the times a change may write:
    a commit whose parent the committer dated in the past cannot lower it."""
    coll = model.COLLECTIONS[model.base(file)]
    kind = rulebook.KINDS[coll.kind]
    values = [doc.get(k) for k, rule in rulebook.FILE_FIELDS.items() if rule == "touched"]
    values += [
        times.value_of(r, f) for _, _, r in records.iter_records(doc, coll) if isinstance(r, dict) for f in kind.stamps
    ]
    moments = [timestamps.parse(v) for v in values if isinstance(v, str) and timestamps.is_valid(v)]
    return max(moments, default=None)


def overlay(own: Doc, other: Doc) -> Doc:
    """The authority a change carries into a merge: the other side's settings and keys, everyone's
    latest presence. A commit on one side of a merge is judged again under it, so that an old
    parent cannot lend a change the authority the line it joins has since taken away (a key
    rotated, signatures required, a holder who has checked in since)."""
    mine, theirs = own.get("instances", {}), other.get("instances", {})
    instances = {}
    for name in {*mine, *theirs}:
        entry = dict(theirs.get(name) or mine[name])
        if name in mine and name in theirs:
            entry["last_update"] = timestamps.later(mine[name].get("last_update"), theirs[name].get("last_update"))
        instances[name] = entry
    return {**other, "instances": instances}


def check_record(
    state: Mapping[str, Doc],
    kind: str,
    old: Record | None,
    new: Record,
    actor: str | None,
    *,
    when: dt.datetime,
    rid: str | None = None,
) -> list[Finding]:
    """What the rulebook says of one record's change on `state`: for a step to refuse early, in its words."""
    coll = model.BY_KIND[kind]
    rid = rid if rid is not None else new[coll.id_key]
    at = At(coll.file, rulebook.KINDS[kind], rid, ())
    who = judge(state, actor, when)._replace(archives=records.archive_of(state))
    siblings = record_changes.Lazy(lambda: records.by_id(document(state, coll.file), coll))
    if old is None:
        return list(record_changes.created(at, new, who, siblings))
    return list(record_changes.changed(at, old, new, who, siblings))


def beside_store(
    old: Mapping[str, Doc], actor: str | None, paths: Sequence[str], *, when: dt.datetime
) -> list[Finding]:
    """On a store's own branch (`settings.store_branch`), what lies beside coordination/ is the
    human coordinator's alone: it runs in the clones that open the branch (the hooks of a
    `.pre-commit-config.yaml` in `coord edit`'s worktree, the workflows GitHub runs for its pull
    requests), so a change there by anyone else would run their code as the person who opens it."""
    who = judge(old, actor, when)
    branch = who.settings.store_branch
    at = At(model.REGISTRY, rulebook.INSTANCE, "$", ())
    if not paths or branch is None or any(holds(r, who, at, {}, {}) for r in rulebook.BESIDE_STORE_ROLES):
        return []
    message = (
        f"{who.actor or 'a commit naming no instance'} changed {', '.join(paths)} on {branch}, the store's own "
        f"branch; only the human coordinator ({who.human}) changes files beside {model.COORD_DIR}/ there"
    )
    return [Finding(model.REGISTRY, (), "authorization", message)]


def _empty(doc: Doc) -> bool:
    return not any(doc.get(k) for k in ("instances", "settings", *model.RECORD_LISTS))
