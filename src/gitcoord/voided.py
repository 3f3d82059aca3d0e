"""Local commits that the shared line made void while they waited to be shared, set aside.

A step is judged when it is made, against the state it was made on. If it is shared later (a
remote out of reach, a lost race), the shared line may have moved in a way that takes away its
grounds: the holder of a reclaimed task checked in since, the human raised the archive cut-off.
A merge would bring such a commit in, and the rules (the server's gate, CI, every clone's
check of what it receives) refuse it there, as they must: from the outside, it looks exactly
like a forged commit grown from an old parent.

So before merging, a sync asks which of its own commits the shared line would refuse
(`crossing.void`). It leaves those out, with every later local commit rebuilt on the line without
them (each change merged record by record onto its new parent, with its message and date, signed
again, and judged again: one that needed a commit left out is left out too). What is left out
stays reachable under refs/coord/dropped/, and the sync says what and why; nothing is lost.
"""

from __future__ import annotations

from typing import NamedTuple

from gitcoord import clock
from gitcoord import git
from gitcoord import model
from gitcoord import workspace
from gitcoord.errors import FatalError
from gitcoord.findings import Finding
from gitcoord.workspace import Workspace

KEPT = "refs/coord/dropped/"


class Dropped(NamedTuple):
    commit: git.Sha
    subject: str
    why: str
    kept: git.Ref  # where it stays reachable

    def as_data(self) -> dict[str, str]:
        return {"commit": self.commit, "subject": self.subject, "why": self.why, "kept": self.kept}


def set_aside(ws: Workspace, local: git.Sha, remote: git.Sha) -> tuple[git.Sha, list[Dropped]]:
    """`local`, or the line rebuilt without the commits that `remote`'s line makes void, and those."""
    from gitcoord import crossing  # here: a sync that has nothing to merge judges nothing

    dropped: list[Dropped] = []
    for _ in range(64):  # each round leaves out at least one commit; a long line is repaired by hand
        found = crossing.void(ws.root, local, remote, now=clock.now())
        if not found or _wrong_from_the_start(ws, local, remote, found):
            return local, dropped
        why: dict[str, str] = {c.sha: f.message for c, f in reversed(found)}  # the first finding of each
        why.update(_claims_lost(ws, remote, [c for c, _ in found if c.event == "task.claim"]))
        local, more = leave_out(ws, local, remote, why)
        dropped += more
    raise FatalError(f"too many of this clone's commits are void under {ws.remote}/{ws.branch} to set aside")


def _claims_lost(ws: Workspace, remote: git.Sha, claims: list[git.Change]) -> dict[str, str]:
    """Why each of this clone's claims is void, in the words a claimant needs: the task went to
    another instance whose claim was shared first (the rulebook's own words name a field)."""
    if not claims:
        return {}
    from gitcoord import records  # here: only a sync that lost a claim reads the remote's queue

    tasks = records.by_id(workspace.snapshot(ws, strict=False, commit=remote)[model.TASKS], model.TASK_RECORDS)
    said: dict[str, str] = {}
    for c in claims:
        for task_id in git.trailer_values(ws.root, [c.sha], "Coord-Subject").get(c.sha, []):
            holder = (tasks.get(task_id) or {}).get("assigned_to")
            if holder and holder != ws.identity:
                hint = "`coord task ready --mine` shows other work"
                said[c.sha] = f"your claim on {task_id} lost to {holder}'s, shared first; {hint}"
    return said


def _wrong_from_the_start(
    ws: Workspace, local: git.Sha, remote: git.Sha, found: list[tuple[git.Change, Finding]]
) -> bool:
    """Whether a commit found void breaks the rules against its own parent too: then it was never
    good (a forgery, a hand edit past the hooks), not made void since. It is not set aside as an
    honest step would be: the merge that brings it is refused, and the sync says so."""
    from gitcoord import replay

    own = {f.commit for f in replay.check_range(ws.root, [local, "--not", remote], now=clock.now()).findings}
    return any(c.sha in own for c, _ in found)


def leave_out(ws: Workspace, local: git.Sha, remote: git.Sha, void: dict[str, str]) -> tuple[git.Sha, list[Dropped]]:
    """`local`'s line rebuilt on `remote`'s without the commits of `void` (each with why), and those left out."""
    line = git.commits(ws.root, [local, "--not", remote])
    if any(len(c.parents) != 1 for c in line):
        raise FatalError(_by_hand(ws, void, "a merge is among them"))
    tip = line[0].parents[0]  # where this clone's line leaves the shared one
    dropped: list[Dropped] = []
    for c in line:
        why = void.get(c.sha)
        if why is None and c.parents[0] == tip:
            tip = c.sha  # nothing below it was left out: it stays as it is
            continue
        if why is None:
            from gitcoord import replay

            again = _onto(ws, c, tip, void)
            findings = replay.check_range(ws.root, [again, "--not", tip], now=clock.now()).findings
            if not findings:
                tip = again
                continue
            if any(f.about_the_commit for f in findings):
                # Signed again here, with this clone's key of today: what it signed then (a key
                # rotation, another identity's step) cannot be told apart from a forgery.
                raise FatalError(_by_hand(ws, void, f"{c.sha[:12]} cannot be signed again as it was"))
            why = f"without the commits left out before it: {findings[0].message}"
        kept = git.Ref(KEPT + c.sha)
        git.update_ref(ws.root, kept, c.sha, None, "coord: void under the shared line, set aside")
        dropped.append(Dropped(c.sha, c.subject, why, kept))
    return tip, dropped


def _onto(ws: Workspace, c: git.Commit, tip: git.Sha, void: dict[str, str]) -> git.Sha:
    """Commit `c`'s change again on `tip`: each file it changed merged record by record."""
    from gitcoord import driver  # here: only a sync that sets something aside merges this way

    def fail(why: str) -> FatalError:
        return FatalError(_by_hand(ws, void, f"{c.sha[:12]}: {why}"))

    paths = sorted(git.changed_paths(ws.root, c.parents[0], c.sha))
    beside = [p for p in paths if not p.startswith(f"{model.COORD_DIR}/")]
    if beside:  # code, with its modes, links and authors: only git, or a person, replays that
        raise fail(f"it changes {beside[0]}, beside the store")
    tree = driver.merge_into(ws.root, (c.parents[0], tip, c.sha), tip, paths, fail)
    return git.commit_tree(ws.root, tree, [tip], c.message, date=c.committed)


def _by_hand(ws: Workspace, void: dict[str, str], why: str) -> str:
    listed = "".join(f"\n  {sha[:12]}: {message}" for sha, message in void.items())
    return (
        f"commits of this clone are void under {ws.remote}/{ws.branch}, which the shared line would refuse:{listed}\n"
        f"and they cannot be left out here ({why}). Nothing was changed or pushed. Leave them out by hand, "
        f"{_where(ws)} `git rebase -i --rebase-merges {ws.tracking}` (dropping them), then `coord sync`."
    )


def _where(ws: Workspace) -> str:
    worktree = git.worktree_of(ws.root, ws.branch)
    if worktree is not None:
        return f"in {worktree}:"
    return f"in `coord edit`'s worktree of {ws.branch} (`coord edit`, then `coord edit --done` after):"
