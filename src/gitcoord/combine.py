"""What a sync shares: the local tip, the remote's, the step made again on the remote's tip, or a
merge of the two sides.

A merge is made with `git merge-tree`, touching no checkout; where only the store's files were
changed on both sides, they are merged record by record here, in this process, by the driver's
code, and the result is validated and must be signable by this clone. The clone's own commits
that the remote's line made void are left out first (`voided`).
"""

from __future__ import annotations

from typing import NamedTuple
from typing import Protocol

from gitcoord import clone
from gitcoord import git
from gitcoord import incoming
from gitcoord import model
from gitcoord import store
from gitcoord import voided
from gitcoord import workspace
from gitcoord.checkout import advance
from gitcoord.errors import FatalError
from gitcoord.errors import NotFound
from gitcoord.events import Event
from gitcoord.workspace import Workspace


class NeedsPerson(FatalError):
    """The two histories need a person; nothing was changed."""

    kind = "conflict"


Counts = tuple[int, int]  # the commits the result has that the local side lacked, and the remote


class Redo(Protocol):
    """A step this clone just made (`mine`, its commit), made again on another commit: a sync
    whose push lost the race makes it again on the remote's new tip, judged on what the others
    did, and shares it with no merge. Raises the step's refusal when it no longer applies."""

    mine: git.Sha

    def __call__(self, base: git.Sha) -> git.Sha: ...


class Undone(FatalError):
    """The step this sync was sharing no longer applies on what the remote has now (a task
    another instance claimed first, say): it was taken back, and nothing was committed."""

    kind = "refused"


class Combined(NamedTuple):
    target: git.Sha  # the commit to share
    counts: Counts | None  # (where known) the commits it adds to each side
    dropped: list[voided.Dropped]  # this clone's commits it leaves out, void under the remote's line
    merged: bool  # whether it is a merge of the two sides
    again: bool = False  # whether it is the local step made again on the remote's tip (not after it)


def combine(ws: Workspace, local: git.Sha | None, remote: git.Sha | None, redo: Redo | None = None) -> Combined:
    """What to share, from the local tip and the remote's."""
    if local is None or remote is None:
        found = local or remote
        if found is None:
            raise FatalError(f"neither this clone nor {ws.remote} has {ws.branch}; run `coord init` first")
        return Combined(found, None, [], False)
    if local == remote:
        return Combined(local, (0, 0), [], False)
    # One question answers the usual cases: a side with no commit the other lacks is in it.
    ahead, behind = git.ahead_behind(ws.root, local, remote)
    if not behind:
        return Combined(local, (0, ahead), [], False)
    # Nothing of its own either where it is a step shared as made again while this branch could
    # not follow it (`incoming.redone`): the remote's line holds that step; a merge would make it twice.
    if not ahead or incoming.superseded(ws, local, remote):
        return Combined(remote, (behind, 0), [], False)
    if redo is not None and ahead == 1 and local == redo.mine:
        return Combined(_made_again(ws, redo, local, remote), (behind + 1, 1), [], False, again=True)
    redone = incoming.redone_under(ws, local, remote)
    if redone:  # steps made on one shared as made again: rebuilt on the shared line without it
        why: dict[str, str] = {
            m: f"shared already as {a[:12]}, made again on {ws.remote}'s newer tip" for m, a in redone.items()
        }
        kept, dropped = voided.leave_out(ws, local, remote, why)
        for d in dropped:
            if d.commit in redone:  # not left out: shared already, and kept nowhere else
                git.delete_refs(ws.root, d.kept)
        again = combine(ws, kept, remote)
        others = [d for d in dropped if d.commit not in redone]
        return again._replace(counts=None, dropped=[*others, *again.dropped])
    kept, dropped = voided.set_aside(ws, local, remote)
    if dropped:  # what is left of this clone's line, if anything, is merged as any other
        again = combine(ws, kept, remote)
        return again._replace(counts=None, dropped=dropped)
    merged = _merge(ws, local, remote, git.merge_bases(ws.root, local, remote))
    return Combined(merged, (behind + 1, ahead + 1), [], True)  # the merge commit, on top of what each side lacked


def _made_again(ws: Workspace, redo: Redo, local: git.Sha, remote: git.Sha) -> git.Sha:
    from gitcoord.protocol import Refused  # here: only a step's own sync makes it again
    from gitcoord.validation import InvalidChange

    try:
        return redo(remote)
    except (Refused, InvalidChange, NotFound) as e:  # NotFound: what it acts on is gone there (archived)
        if not advance(ws, local, remote):  # taken back: the clone goes on from what the others did
            raise FatalError(f"{ws.branch} moved while this sync ran; run `coord sync` again") from None
        raise Undone(
            f"{ws.remote} moved while this step was being shared, and on what it has now the step no longer "
            f"applies: {e}\nNothing was committed (it was taken back here); this clone is at {remote[:12]}."
        ) from None


def _merge(ws: Workspace, local: git.Sha, remote: git.Sha, bases: list[git.Sha]) -> git.Sha:
    # Here, not at the top: a sync that only fetches or pushes never needs the checks of a merge.
    from gitcoord import authenticity
    from gitcoord import validation

    both = _changed_on_both_sides(ws, bases[0], local, remote) if len(bases) == 1 else None
    if both is not None and both <= store.PATHS:
        # The usual case. git merges everything else; the coordination files are merged here,
        # in this process, instead of by one driver process per file: that keeps short the
        # window in which another push can overtake this one.
        tree = _merge_tree(ws, local, remote, {f"merge.{clone.DRIVER}.driver": "true"})  # true: keep ours
        from gitcoord import driver  # here: a sync that merges nothing never needs the merge code

        three = (bases[0], local, remote)
        tree = driver.merge_into(ws.root, three, tree, sorted(both), lambda why: _needs_person(ws, why))
    else:  # other files too, or criss-cross history: the driver merges each file, in git
        tree = _merge_tree(ws, local, remote, {})
    merged = workspace.snapshot(ws, commit=tree)
    problems = validation.check(merged)
    if problems:
        raise validation.InvalidStore(
            problems, f"merging {ws.remote}/{ws.branch} gives an invalid store; nothing was changed"
        )
    sides = [workspace.snapshot(ws, strict=False, commit=c)[model.REGISTRY] for c in (local, remote)]
    try:  # else the remote would refuse it
        authenticity.can_sign(ws.root, sides, merged[model.REGISTRY], ws.identity)
    except FatalError as e:
        raise FatalError(f"the merge with {ws.remote}/{ws.branch} cannot be signed: {e}") from None
    event = Event("sync.merge", ws.identity, None, f"merge {ws.remote}/{ws.branch} into {ws.branch}")
    return git.commit_tree(ws.root, tree, [local, remote], event.message())


def _changed_on_both_sides(ws: Workspace, base: git.Sha, local: git.Sha, remote: git.Sha) -> set[str]:
    return git.changed_paths(ws.root, base, local) & git.changed_paths(ws.root, base, remote)


def _merge_tree(ws: Workspace, local: git.Sha, remote: git.Sha, config: dict[str, str]) -> git.Sha:
    try:
        return git.merge_tree(ws.root, local, remote, config=config)
    except git.MergeTreeConflict as e:
        raise _needs_person(ws, e.messages) from None


def _needs_person(ws: Workspace, said: str) -> NeedsPerson:
    shared = ws.tracking
    worktree = git.worktree_of(ws.root, ws.branch)
    where, after = (
        (f"in {worktree} (where {ws.branch} is checked out) run", "")
        if worktree is not None
        else (f"run `coord edit` (it checks {ws.branch} out in a worktree of its own), there", " `coord edit --done`,")
    )
    return NeedsPerson(
        f"merging {shared} needs a person:\n{said}\n"
        f"Nothing was changed and your commits are kept. To settle it: {where} `git merge {shared}`, "
        f"`coord resolve` (it lists each conflict and how to pick), `coord validate`, `git commit`;{after} "
        f"then `coord sync`. A pick that leaves the store invalid is undone with `git merge --abort`: "
        "merge again and pick another."
    )
