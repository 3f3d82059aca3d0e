"""Exchanging coordination commits with the other clones, through any git remote.

Fetch the shared branch; judge what came in (every new commit against the rules, as the
server's gate and CI do) before building on it; if both sides moved, merge them with `git
merge-tree`, which runs the merge driver without touching any checkout; validate; push the
result, and only once the remote has taken it move the local branch, so that a race lost to
another push leaves no merge behind to stack the next one on. When another instance pushed
first, back off (jittered, bounded) and go round again. Local commits are never dropped: on
any failure they stay, and the message says why. A remote that was rewound is reported.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from typing import NamedTuple

from gitcoord import checkout
from gitcoord import clock
from gitcoord import clone
from gitcoord import git
from gitcoord import incoming
from gitcoord import lock
from gitcoord import voided
from gitcoord import workspace
from gitcoord.checkout import advance as advance
from gitcoord.checkout import finish_checkout
from gitcoord.combine import Counts
from gitcoord.combine import NeedsPerson as NeedsPerson
from gitcoord.combine import Redo as Redo
from gitcoord.combine import Undone as Undone
from gitcoord.combine import combine
from gitcoord.errors import Busy
from gitcoord.errors import FatalError
from gitcoord.workspace import Workspace

# How long to keep going round when other clones keep pushing first. A sync that merges
# loses a race only to pushes made while it merges, so even a busy remote lets it through
# soon; the bound is for a remote that something floods.
PATIENCE = 120.0  # seconds
# The shortest and the longest wait after a lost race (see _backoff).
MIN_SLOT = 0.05  # seconds
MAX_WAIT = 20.0  # seconds
# A remote ref lock that outlasts this is not another push at work but one that was killed.
REMOTE_LOCK_PATIENCE = 15.0  # seconds


class Synced(NamedTuple):
    before: str  # the local tip before
    after: str  # the local tip after (also the remote's, once pushed)
    fetched: int  # commits that came from the remote
    pushed: int  # commits that went to it
    merged: bool
    attempts: int
    news: dict[str, Any]
    dropped: list[voided.Dropped]  # this clone's commits left out, void under the remote's line
    behind: str | None = None  # why the local branch is not at `after` yet, though the remote is


class Declined(FatalError):
    """The remote answered and refused the push (its gate: a commit here breaks the rules); trying
    again will not help. The message names the commits not shared and how to go on without them."""

    kind = "refused"


def sync(
    ws: Workspace,
    *,
    patience: float = PATIENCE,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    accept_rewind: bool = False,
    redo: Redo | None = None,
) -> Synced:
    """Share this clone's commits (see the module's doc). `redo`: the step this clone just made,
    which a lost race makes again on the remote's new tip instead of merging it (see `Redo`)."""
    clone.require_driver(ws.repo, ws.config)
    with lock.hold(ws.repo.common_dir):
        finish_checkout(ws)
        start: git.Sha | None = None
        merged = False
        deadline = clock() + patience
        attempt = 0
        locked_since: float | None = None
        set_aside: list[voided.Dropped] = []  # this clone's steps a rewind it accepted left out
        while True:
            attempt += 1
            began = clock()
            # The local tip, and the remote's as this clone last saw it. The local one is read
            # before the fetch: whatever moves it later, the branch moves only from it (advance).
            # What was judged good is read with them: only a sync, under the lock, moves it on.
            tips = git.tips(ws.root, [ws.ref, ws.tracking, incoming.verified_ref(ws), incoming.refused_ref(ws)])
            local, known, judged = tips[ws.ref], tips[ws.tracking], tips[incoming.verified_ref(ws)]
            refused = tips[incoming.refused_ref(ws)]
            start = local if attempt == 1 else start
            remote = _fetch(ws)
            # What this clone saw the remote hold, and judged good: what it judged is moved by no
            # fetch, and holds no tip it refused (the tracking ref does, once fetched: a repair
            # that takes the shared branch back to the last good commit is no rewind).
            known = judged if judged is not None or known == refused else known
            if accept_rewind and incoming.rewound(ws, known, remote):
                incoming.verify(ws, remote, judged)  # judged before the branch goes back to it, not after
                assert known is not None  # what a rewind is
                local, set_aside = _take_rewind(ws, local, known, remote)
                known, judged = remote, incoming.rewound_to(ws, remote, judged)
            _refuse_rewind(ws, known, remote)
            incoming.verify(ws, remote, judged)
            if remote is not None and remote != local:
                _still_there(ws, remote, local)
            target, counts, dropped, joined, again = combine(ws, local, remote, redo)
            if target != remote and not (redo is not None and counts is not None and counts[1] == 1 and not joined):
                _judge_outgoing(ws, target, remote)  # all but the one step just made, and checked, here
            if again:
                # Written before the push: killed once the remote took it, or unable to move the
                # branch after, the next sync must know that the step is shared, or merge it twice.
                assert local is not None  # a step was made here
                incoming.redone(ws, local, target)
            try:
                pushed = target == remote or _push(ws, target)
            except git.RemoteLocked as e:
                locked_since = locked_since or clock()
                if clock() - locked_since > REMOTE_LOCK_PATIENCE:
                    raise FatalError(_stale_remote_lock(ws, e)) from None
                pushed = False
            # Only what the remote took moves the local branch: a lost race leaves no merge here.
            moved, behind = False, None
            if pushed:
                if target != remote:
                    incoming.shared(ws, target)
                try:
                    moved = target == local or advance(ws, local, target)
                except FatalError as e:  # shared all the same (a lock, local edits): the branch follows later
                    moved, behind = True, _left_behind(ws, local, target, e)
            if pushed and moved:
                if refused is not None:  # what the remote refused is shared now, or left behind
                    incoming.forget_refused(ws)
                if (again or dropped) and behind is None:  # the branch took the shared line: none is needed
                    incoming.forget_redone(ws)
                merged = merged or joined
                counted = counts if start == local else None
                return _result(
                    ws,
                    start,
                    target,
                    remote,
                    merged=merged,
                    attempts=attempt,
                    counts=counted,
                    dropped=[*set_aside, *dropped],
                    behind=behind,
                )
            if clock() >= deadline:
                raise FatalError(
                    f"{ws.remote} kept moving: for {patience:g} s, each of {attempt} pushes of {ws.branch} "
                    "was overtaken by another push. Your commits are kept; run `coord sync` again."
                )
            waited = 1 - (deadline - clock()) / patience if patience > 0 else 1.0
            sleep(max(0.0, min(_backoff(attempt, clock() - began, waited), deadline - clock())))


def _judge_outgoing(ws: Workspace, target: git.Sha, remote: git.Sha | None) -> None:
    """What this sync would share, judged as the gate will (and the pre-push hook, which a sync
    does not run): a commit that reached the branch by no step of this clone's (a fast-forward to
    a teammate's branch, `git reset`, `git update-ref`) must not become the shared state, pushed
    by this clone and remembered as judged, where no gate would refuse it."""
    revisions: list[str] = [target, "--not", remote] if remote else [target]
    if checkout.made_here(ws, git.rev_list(ws.root, revisions)) or _signed_here(ws, revisions):
        return  # made here, by its steps or a person's commit through the hooks: judged when made
    from gitcoord import replay  # here: a sync with nothing of its own to share judges nothing

    verdict = replay.check_range(ws.root, revisions, now=clock.now())
    if not verdict.findings:
        return
    from gitcoord import validation

    first = verdict.findings[0].commit
    shown = "\n".join("  " + validation.format_finding(f._replace(commit="")) for f in verdict.findings[:10])
    raise FatalError(
        f"this clone's {ws.branch} holds a commit that breaks the rules, so nothing was pushed: {first[:12]} "
        f"{verdict.subjects.get(first, '')!r} by {git.author(ws.root, git.Sha(first))}:\n{shown}\n"
        f"It came by no coord step here. Take it off {ws.branch} (back to {ws.tracking} with `git update-ref "
        f"{ws.ref} GOOD`, GOOD being the commit before it, then redo with coord any step after it you still want)."
    )


def _signed_here(ws: Workspace, revisions: list[str]) -> bool:
    """Whether every commit of `revisions` acts as this clone's instance and is signed with the key it
    signs with now (not a retired one, which may have leaked): nothing a teammate made can be, and
    what this clone made was judged as it was made."""
    from gitcoord import signing

    key, me = signing.current(ws.root), ws.identity
    if key is None or me is None:
        return False
    keys = [key]
    made = git.changes(ws.root, revisions)
    return len(signing.made_by(ws.root, made, me, keys)) == len(made)


def _backoff(attempt: int, took: float, waited: float) -> float:
    """How long to wait after losing the race for the `attempt`th time, when the attempt took
    `took` s and `waited` of the patience (a share, 0 to 1) is spent.

    The wait is counted in attempts: where each one is slow (a busy machine, a far remote), the
    window in which a push can be overtaken is long too, and contenders that all retried at
    once would only slow each other down further. Jittered and growing with the losses, so that
    writers that collided spread out instead of colliding again; and narrowing again as the
    wait grows, so that a writer that has lost many races retries more often than one that
    has just arrived, and none is starved. Bounded, so that none sleeps for long.
    """
    import random  # here: a sync that was not overtaken never waits

    slot = max(took, MIN_SLOT)
    window = 2 ** min(attempt, 4) * max(0.0, 1.0 - waited)
    return min(MAX_WAIT, slot * random.uniform(0.5, 0.5 + max(1.0, window)))


def _left_behind(ws: Workspace, local: git.Sha | None, target: git.Sha, e: FatalError) -> str:
    """What a sync says when it shared `target` and this clone's branch could not follow it."""
    lock = e.details().get("lock") if isinstance(e, Busy) else None
    why = (
        f"{lock} stays locked (another git command is working here, or one was killed and left it: remove it "
        "if none is running)"
        if lock
        else str(e).removesuffix("; nothing was committed")  # what the branch's move said before it moved
    )
    return (
        f"shared as {target[:12]}, but this clone's {ws.branch} could not follow it from {str(local)[:12]}: "
        f"{why}; the next coord command brings the branch up"
    )


def _take_rewind(
    ws: Workspace, local: git.Sha | None, known: git.Sha, remote: git.Sha | None
) -> tuple[git.Sha, list[voided.Dropped]]:
    """Accept the rewound remote as the truth: the local branch goes back to it, and what it had
    shared is not pushed again; but this clone's steps that were never shared (made since `known`,
    what the remote held before) are made again on it, or, where they no longer apply, set aside."""
    from gitcoord import carry  # here: only a rewind accepted makes steps again

    if remote is None:
        raise FatalError(f"{ws.remote} no longer has {ws.branch}; there is nothing to reset to")
    if local is None:
        return remote, []
    unshared = [local, "--not", known, remote]
    kept = f"they are kept under {voided.KEPT}: redo with coord those you still want"
    tip, carried = carry.made_again(ws, unshared, remote, kept)
    dropped: list[voided.Dropped] = []
    if carried.left is not None:
        for c in git.changes(ws.root, unshared):
            ref = git.Ref(voided.KEPT + c.sha)
            git.update_ref(ws.root, ref, c.sha, None, "coord: not shared when a rewind was accepted")
            dropped.append(voided.Dropped(c.sha, c.subject, f"not shared before the rewind: {carried.left}", ref))
    if not advance(ws, local, tip):  # back, not on: a checkout of it follows as on any move
        raise FatalError(f"{ws.branch} moved while the rewind was being accepted; run `coord sync` again")
    return tip, dropped


def _refuse_rewind(ws: Workspace, known: git.Sha | None, remote: git.Sha | None) -> None:
    """A shared branch that lost commits this clone had seen was rewound or rewritten: say so, undo nothing."""
    if not incoming.rewound(ws, known, remote):
        return
    assert known is not None
    git.update_ref(ws.root, ws.tracking, known, remote, "coord: keep what the remote had")  # see it again next time
    now = f"is now at {remote[:12]}" if remote else "was deleted there"
    raise FatalError(
        f"{ws.remote}/{ws.branch} was rewound: it had {known[:12]}, which it no longer contains, and {now}. "
        "Someone force-pushed or deleted the shared branch, dropping coordination events. Nothing was changed "
        "here and nothing was pushed. If the human coordinator did it to repair the branch, each clone takes "
        "it with `coord sync --accept-rewind` (which drops what the remote no longer has, and makes this "
        "clone's steps it never had again on it); "
        f"otherwise the human coordinator restores it from a clone that has {known[:12]} "
        f"(`git push {ws.remote} {known}:{ws.ref}`)."
    )


def _stale_remote_lock(ws: Workspace, e: git.RemoteLocked) -> str:
    return (
        f"{ws.remote} keeps {e.lock} locked: a push to it was killed and left the lock behind (a push at work "
        f"holds it for a moment, not {REMOTE_LOCK_PATIENCE:g} s). Whoever can reach the server removes that "
        "file; your commits are kept."
    )


def _fetch(ws: Workspace) -> git.Sha | None:
    tracking = ws.tracking
    try:
        git.fetch(ws.root, ws.remote, ws.ref, tracking)
    except git.RemoteRefMissing:
        return None  # the remote has no such branch yet: this push creates it
    except git.RefLocked as e:
        raise FatalError(
            f"cannot record what {ws.remote} has: {e.lock} exists. A git command is updating it, or a killed one "
            "left it behind: if no git command is running in this clone, remove that file. Your commits are kept."
        ) from None
    except git.FetchFailed as e:
        raise FatalError(
            f"cannot fetch {ws.branch} from {ws.remote}: {e.stderr.strip()}\n"
            "Your commits are kept; run `coord sync` again when it is reachable."
        ) from None
    return git.rev_parse(ws.root, tracking)


def _push(ws: Workspace, commit: git.Sha) -> bool:
    """Whether the push went through; False when the remote moved first.

    Without the pre-push hook: each commit pushed was checked when it was made (a protocol
    step, a validated merge, or a commit through the hooks), and CI replays them all.
    """
    try:
        git.push(ws.root, ws.remote, commit, ws.ref)
    except git.RemoteLocked:
        raise  # retried too, but a lock that stays is named
    except git.PushRejected:
        return False
    except git.RefAmbiguous:
        raise FatalError(
            f"cannot push {ws.branch} to {ws.remote}: it holds another ref named like the branch, such as a tag "
            f"called {ws.ref} (refs/tags/{ws.ref}), which stands in for the branch wherever git reads the name. "
            f"The human coordinator deletes it (`git push {ws.remote} :refs/tags/{ws.ref}`); a gate "
            "(`coord install --server`) refuses such refs. Your commits are kept; then `coord sync`."
        ) from None
    except git.PushFailed as e:
        if e.kind == "refused":
            ref = incoming.refused_ref(ws)  # remembered, for the reads: `coord sync` will not share it
            git.update_ref(ws.root, ref, commit, git.rev_parse(ws.root, ref), "coord: refused by the remote")
            raise Declined(_declined(ws, commit, e)) from None
        raise FatalError(f"cannot push {ws.branch} to {ws.remote}:\n{e.output}\nYour commits are kept.") from None
    return True


_PROGRESS = re.compile(r"^(Counting|Compressing|Writing|Resolving|Total|Delta|Done\b|Processing)")


def _declined(ws: Workspace, commit: git.Sha, e: git.PushFailed) -> str:
    said = [line.removeprefix("remote:").rstrip() for line in e.stderr.splitlines() if line.startswith("remote:")]
    said = [line for line in said if line.strip() and not _PROGRESS.match(line.strip())]
    shared = ws.tracking
    seen = git.rev_parse(ws.root, shared)  # none: the branch's first push was refused
    mine = git.changes(ws.root, [commit, "--not", seen] if seen else [commit])
    listed = "".join(f"\n  {c.sha[:12]} {c.subject}" for c in reversed(mine))
    worktree = git.worktree_of(ws.root, ws.branch)
    drop = (
        f"in {worktree}: `git reset --keep {shared}`"
        if worktree is not None
        else f"`git branch -f {ws.branch} {shared}`"
    )
    return (
        f"{ws.remote} refuses {ws.branch}:\n" + "\n".join(said or [e.output]) + "\n"
        f"So the {len(mine)} commit(s) of this clone that {shared} lacks will never be shared as they are:{listed}\n"
        f"To go on from the shared state, drop them ({drop}; redo with coord any step among them that you still "
        "want), or repair the bad one by hand (`coord edit`)."
    )


def _still_there(ws: Workspace, remote: git.Sha, local: git.Sha | None) -> None:
    """Nothing is merged with a remote tip that no longer holds the store (`coord migrate` took it
    away): the sync says where it went, and this clone's branch stays as it is."""
    if workspace.holds_store_at(ws.root, remote):
        return
    moved = workspace.moved_by(ws.root, remote)  # unchecked here: install follows only the human's own move
    where = f" the commit that took it away ({moved[0][:12]}) says it went to the branch {moved[1]}." if moved else ""
    mine = len(git.changes(ws.root, [local, "--not", remote])) if local else 0
    kept = (
        f" This clone's {mine} commit(s) not shared are kept on {ws.branch}; `coord install` makes its steps "
        "among them again on the new branch."
        if mine
        else ""
    )
    raise FatalError(
        f"{ws.remote}/{ws.branch} is at {remote[:12]}, which no longer holds the store:{where} `coord install` "
        f"follows a move the human coordinator made (`coord migrate`); then `coord sync`.{kept}"
    )


def _result(
    ws: Workspace,
    start: git.Sha | None,
    after: git.Sha,
    remote: git.Sha | None,
    *,
    merged: bool,
    attempts: int,
    counts: Counts | None = None,
    dropped: list[voided.Dropped] | None = None,
    behind: str | None = None,
) -> Synced:
    def count(since: git.Sha | None) -> int:
        if since == after:
            return 0
        return git.rev_list_count(ws.root, after, since=since)

    if counts is not None:  # from the comparison of the two sides that chose `after`
        fetched, pushed = counts
    else:
        fetched, pushed = count(start), count(remote)

    news: dict[str, Any] = {}
    if start is not None and start != after:
        from gitcoord import whatsnew  # here: a sync that brought nothing has no news to tell

        before, now = (workspace.snapshot(ws, strict=False, commit=c) for c in (start, after))
        news = whatsnew.between(before, now, ws.identity)
    return Synced(start or "", after, fetched, pushed, merged, attempts, news, dropped or [], behind)
