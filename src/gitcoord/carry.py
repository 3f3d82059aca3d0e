"""The steps a clone had not shared when the store moved (`coord migrate`), made again where it went.

A clone that follows a move to the branch the store went to (`coord install`) still holds, on
the branch it left, the steps it made and had not shared yet. Each is made again on the new
branch: its change of the store's files, record by record against its own parent (as the
merge driver merges), the times it wrote set to now (made again, it happens now), committed
with its own message by this clone, in the order they were made. The new commits are judged by
the rules before the branch takes them, as the gate will judge them; when one does not apply
any more (a conflict, a refusal), none is carried and the clone is told which, so nothing lands
that the clone did not mean and nothing it meant is lost: the old branch keeps them as they were.

Only this clone's own steps: commits acting as its instance alone and, where it signs, signed
with its key. The old branch may be a code branch holding a teammate's commits, merged or
pulled but not shared, and signing one of those again would make it this clone's.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import NamedTuple

from gitcoord import clock
from gitcoord import fileio
from gitcoord import git
from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import signing
from gitcoord import store
from gitcoord import timestamps
from gitcoord import validation
from gitcoord import workspace
from gitcoord.errors import FatalError
from gitcoord.history.times import value_of
from gitcoord.model import Doc
from gitcoord.records import State
from gitcoord.workspace import Workspace


class Carried(NamedTuple):
    steps: int  # the steps made again on the new branch
    left: str | None  # why none was, where some were to carry


def leaving(common_dir: Path, was: str | None) -> str | None:
    """The branch whose unshared steps `coord install` carries to the one it chooses: `was`, the
    branch it finds chosen, or the one an install cut off before it carried them noted (the note
    stays until they are carried, `carried`: once the choice has moved on, `was` no longer says)."""
    note = _note(common_dir)
    try:
        noted = note.read_text("utf-8").strip() or None
    except FileNotFoundError:
        noted = None
    if noted is None and was is not None:
        fileio.write_atomic(note, was.encode())
    return noted or was


def carried(common_dir: Path) -> None:
    _note(common_dir).unlink(missing_ok=True)


def _note(common_dir: Path) -> Path:
    return common_dir / "coord" / "carry-from"


def over(ws: Workspace, old: str) -> Carried:
    """Make again on `ws.branch` the steps of this clone's branch `old` that its remote lacks."""
    mine = git.rev_parse(ws.root, f"refs/heads/{old}")
    shared = git.rev_parse(ws.root, f"refs/remotes/{ws.remote}/{old}")
    onto = git.rev_parse(ws.root, ws.ref)
    start = onto or git.rev_parse(ws.root, ws.tracking)
    if mine is None or shared is None or start is None:
        return Carried(0, None)
    kept = f"they are kept on {old} as they were: redo on {ws.branch} those you still want"
    tip, carried = made_again(ws, [mine, "--not", shared, start], start, kept)
    if carried.steps and not git.update_ref(
        ws.root, ws.ref, tip, onto, f"coord: steps not shared carried over from {old}"
    ):
        return Carried(0, f"{ws.branch} moved meanwhile; run `coord install` again")
    return carried


def made_again(ws: Workspace, revisions: list[str], start: git.Sha, kept: str) -> tuple[git.Sha, Carried]:
    """This clone's steps among `revisions`, each made again in turn on `start`, the whole judged:
    the new tip and how many; or `start` and why none was (`kept`: where they stay meanwhile)."""
    listed = git.changes(ws.root, [*revisions, "--no-merges"])
    found = [(c, paths) for c in listed if (paths := _store_paths(ws, c))]
    if not found:
        return start, Carried(0, None)
    steps = _own(ws, [c for c, _ in found])
    if len(steps) < len(found):
        others = [c.subject for c, _ in found if c.sha not in steps]
        return start, Carried(0, f"{len(others)} of them this clone did not make ({others[0]!r}); {kept}")
    try:
        tip = start
        for c, paths in found:
            tip = _again(ws, c, paths, tip, steps[c.sha])
    except FatalError as e:
        return start, Carried(0, f"{e}; {kept}")
    from gitcoord import replay  # here: only a clone that carries steps over judges them itself

    verdict = replay.check_range(ws.root, [tip, "--not", start], now=clock.now())
    if verdict.findings:
        first = verdict.findings[0]
        step = verdict.subjects.get(first.commit, "a step")
        return start, Carried(
            0, f"made again on {ws.branch}, {step!r} breaks the rules there ({first.message}); {kept}"
        )
    return tip, Carried(len(found), None)


def _own(ws: Workspace, commits: list[git.Change]) -> dict[str, str | None]:
    """Those of `commits` that are this clone's, each with the key file that signed it: acting as
    its instance alone, signed with a key it signs or signed with (a step before a rotation, with
    the key it replaced). A clone that does not sign vouches for nothing more than the trailer."""
    me = ws.identity
    if me is None:
        return {}
    keys = signing.held(ws.root)
    if not keys:
        return {c.sha: None for c in commits if c.instances == (me,)}
    return {c: str(k.path) if k.path else None for c, k in signing.made_by(ws.root, commits, me, keys).items()}


def _store_paths(ws: Workspace, c: git.Change) -> list[str]:
    if len(c.parents) != 1:
        return []
    prefix = f"{model.COORD_DIR}/"
    return sorted(
        p
        for p in git.changed_paths(ws.root, c.parents[0], c.sha)
        if p.startswith(prefix) and model.is_store_file(p.removeprefix(prefix))
    )


def _again(ws: Workspace, c: git.Change, paths: list[str], tip: git.Sha, key: str | None) -> git.Sha:
    from gitcoord import driver  # here: only a carry merges records

    def fail(why: str) -> FatalError:
        return FatalError(f"{c.sha[:12]} ({c.subject}) no longer applies on {ws.branch}: {why}")

    [parent] = c.parents
    before, made = (workspace.snapshot(ws, strict=False, commit=s) for s in (parent, c.sha))
    files = [f for f in model.FILES if store.repo_path(f) in paths]
    now = restamped(before, made, timestamps.format(clock.now()), files)
    blobs = {store.repo_path(f): git.hash_object(ws.root, store.dump(f, d)) for f, d in now.items()}
    theirs = git.write_tree(ws.root, git.tree_ids(ws.root, [f"{c.sha}:"])[0], blobs)
    [ours] = git.tree_ids(ws.root, [f"{tip}:"])
    assert ours is not None  # a commit has a tree
    tree = driver.merge_into(ws.root, (parent, tip, theirs), ours, paths, fail, replaying=True)
    problems = validation.check(workspace.snapshot(ws, commit=tree))
    if problems:
        raise fail(problems[0].message)
    [made_as] = git.commits(ws.root, [c.sha, "-n1"])
    return git.commit_tree(ws.root, tree, [tip], made_as.message, key=key)  # as it was signed: the key it had


def restamped(before: State, after: State, now: str, files: list[str]) -> dict[str, Doc]:
    """Those of `files` of `after` in which a step wrote times (from `before`), each such time set to
    `now`: a record's stamps it changed, and the stamps of the entries it added."""
    docs: dict[str, Doc] = {}
    for kind in rulebook.KINDS.values():
        coll = model.BY_KIND[kind.name]
        if coll.file not in files:
            continue
        old = records.by_id(before[coll.file], coll)
        doc = copy.deepcopy(after[coll.file])  # each kind has a file of its own
        changed = False
        for rid, _, record in records.iter_records(doc, coll):
            was = old.get(rid)
            if was != record:
                changed |= _stamp(kind, was, record, now)
        if changed:
            docs[coll.file] = doc
    return docs


def _stamp(kind: rulebook.Kind, was: model.Record | None, record: model.Record, now: str) -> bool:
    changed = False
    for field in kind.stamps:
        value = value_of(record, field)
        if value is not None and (was is None or value_of(was, field) != value):
            *parents, last = field.split(".")
            holder = value_of(record, ".".join(parents)) if parents else record
            holder[last] = now
            changed = True
    for field, spec in kind.entries.items():
        before = (value_of(was, field) if was is not None else None) or []
        for entry in value_of(record, field) or []:
            if spec.stamp is not None and spec.stamp in entry and entry not in before:
                entry[spec.stamp] = now
                changed = True
    return changed
