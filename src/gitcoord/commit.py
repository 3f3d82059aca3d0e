"""A protocol step becomes one commit on the shared branch, or nothing at all.

Under the clone's lock: read the branch tip, apply the step, check the result, write the
changed files as blobs and a tree, commit with the event's trailers, and move the branch
from the tip we read to the new commit (compare-and-swap). A dedicated coordination branch
is never checked out; where the store lives on a checked-out code branch, the checkout
follows only once the ref has moved (`checkout.py`), and local edits in the way are refused
rather than overwritten. If anything moved meanwhile, start over.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from typing import NamedTuple

from gitcoord import authenticity
from gitcoord import fileio
from gitcoord import git
from gitcoord import invariants
from gitcoord import lock
from gitcoord import model
from gitcoord import records
from gitcoord import schema
from gitcoord import store
from gitcoord import validation
from gitcoord.checkout import advance as advance  # sync and steps move the branch alike
from gitcoord.checkout import finish_checkout
from gitcoord.errors import FatalError
from gitcoord.findings import Finding
from gitcoord.protocol import Change
from gitcoord.protocol import Refused
from gitcoord.records import State
from gitcoord.snapshot import Snapshot
from gitcoord.snapshot import archives_in
from gitcoord.workspace import Workspace
from gitcoord.workspace import snapshot

Step = Callable[[State], Change]
ATTEMPTS = 5


class Made(NamedTuple):
    change: Change
    commit: git.Sha
    state: State  # the store as the step left it


class Staged(NamedTuple):
    """A step only staged (--no-commit), for a person to commit."""

    change: Change
    commit: None
    state: State


Applied = Made | Staged


def problems(old: State, new: State, change: Change) -> list[Finding]:
    """What the change would break: its records against their schema, then the invariants.

    Only what the step changed is checked, and a record or an invariant already broken before
    it is not blamed on it (`coord validate` reports those). The rulebook has judged the step
    already, when it was made (`protocol.Edit.done`).
    """
    files = list(change.docs)
    found = [
        Finding(f, v.path, "schema", v.message)
        for f in files
        for v in schema.validate_changes(model.base(f), change.docs[f], schema.shared(old[f]))
    ]
    if found:
        return found
    now = invariants.check(new, files=files, archives=archives_in(new), since=old)
    if now:
        before = invariants.check(old, files=files, archives=archives_in(old))
        known = {(f.file, f.rule, f.message) for f in before}
        now = [f for f in now if (f.file, f.rule, f.message) not in known]
    return now


def commit_step(ws: Workspace, step: Step, *, when: dt.datetime, no_commit: bool = False) -> Applied:
    """Commit `step` as one commit, dated `when`: the moment its records say it happened."""
    with lock.hold(ws.repo.common_dir):
        finish_checkout(ws)
        for _ in range(ATTEMPTS):
            # The committed store was checked when it was written; what the step changes is
            # checked below. If the step trips over a broken record, the store is checked then.
            snap = snapshot(ws, strict=False)
            if no_commit:
                change, new, _ = _apply(snap, step)
                _stage(ws, snap.commit, change)
                return Staged(change, None, new)
            made = _made(ws, snap, step, when)
            if advance(ws, snap.commit, made.commit, step=True):
                return made
        raise FatalError(f"{ws.branch} kept moving while this was being committed; run the command again")


def make_on(ws: Workspace, base: git.Sha, step: Step, *, when: dt.datetime) -> Made:
    """`step` made as a commit on `base`, checked as `commit_step` checks it; no ref moves.

    A sync whose push lost the race makes the clone's one new step again on the remote's tip
    this way: judged on what the others did, and shared with no merge."""
    return _made(ws, snapshot(ws, strict=False, commit=base), step, when)


Written = Callable[[], list[git.Sha]]  # the blobs git is writing meanwhile, once it is done


def _apply(
    snap: Snapshot, step: Step, meanwhile: Callable[[Change], Written | None] | None = None
) -> tuple[Change, State, Written | None]:
    """The step applied to the snapshot and checked; `meanwhile` starts writing its objects first."""
    written: Written | None = None
    try:
        with validation.reading(snap):
            change = step(snap)
            new = records.with_changes(snap, change.docs)
            written = meanwhile(change) if meanwhile is not None else None
            found = problems(snap, new, change)
        if found:
            raise validation.InvalidChange(found, "This step was refused; nothing was committed.")
    except BaseException:
        _finish(written)
        raise
    return change, new, written


def _finish(written: Written | None) -> None:
    if written is not None:  # git finishes what it began; nothing refers to it
        with contextlib.suppress(Exception):
            written()


def _made(ws: Workspace, snap: Snapshot, step: Step, when: dt.datetime) -> Made:
    """The commit of `step` on the snapshot's commit, its objects written while it is checked."""
    change, new, written = _apply(snap, step, lambda change: _write_meanwhile(ws, snap, change))
    try:
        authenticity.can_sign(ws.root, [snap[model.REGISTRY]], new[model.REGISTRY], change.event.actor)
    except BaseException:
        _finish(written)
        raise
    paths = [store.repo_path(f) for f in change.docs]
    if written is not None:
        blobs = dict(zip(paths, written(), strict=True))
    else:
        blobs = {
            p: git.hash_object(ws.root, store.dump(f, d, snap.reuse(f)))
            for p, (f, d) in zip(paths, change.docs.items(), strict=True)
        }
    tree = git.write_tree(ws.root, snap.commit, blobs)
    parents = [snap.commit] if snap.commit else []
    commit = git.commit_tree(ws.root, tree, parents, change.event.message(), date=int(when.timestamp()))
    return Made(change, commit, new)


def _write_meanwhile(ws: Workspace, snap: Snapshot, change: Change) -> Written | None:
    """The step's files written as objects by git on another core, while its checks run here;
    None when they cannot be written yet (the checks then say why, as they would have first)."""
    try:
        texts = [store.dump(f, d, snap.reuse(f)) for f, d in change.docs.items()]
    except Exception:  # e.g. a lone surrogate, which the schema check reports
        return None
    return git.hash_objects_meanwhile(ws.root, texts)


def _stage(ws: Workspace, commit: git.Sha | None, change: Change) -> None:
    """Write the change into this checkout and stage it, for a person to commit."""
    if git.head_branch(ws.root) != ws.branch or git.rev_parse(ws.root, "HEAD") != commit:
        raise Refused(f"--no-commit stages the change here, so this checkout must be on {ws.branch} at its tip")
    paths = [store.repo_path(f) for f in change.docs]
    if git.has_changes(ws.root, "HEAD", paths):
        raise Refused(f"{', '.join(paths)} already have changes here; commit or restore them first")
    for f, d in change.docs.items():
        fileio.write_atomic(ws.root / store.repo_path(f), store.dump(f, d))
    git.add(ws.root, paths)
