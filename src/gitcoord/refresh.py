"""Fetch before reading: what an agent reads is the remote's state, or it is told how old it is.

`refresh` fetches the coordination branch into its remote-tracking ref, within a short time
(`git config coord.fetchTimeout SECONDS`, default 3), and says which commit to read:

- the local branch, fast-forwarded with `git update-ref` (compare-and-swap on the value it
  had) when it has nothing unshared and no worktree has it checked out;
- the remote-tracking tip, when the branch is checked out somewhere (a checkout and its
  index are never touched here: `coord sync` and the steps move those);
- the local branch as it is, when it has commits the remote lacks (`coord sync` shares them).

What arrived is judged first (`incoming`): a tip that breaks the rules is neither read nor taken;
a clone with no branch of its own yet judges the remote's whole history once.
When the fetch fails or times out, the view is this clone's, and `Freshness.problem` says
why and `committed` how old the tip is. Nothing here commits, pushes or waits for the lock.
"""

from __future__ import annotations

from typing import Any
from typing import NamedTuple

from gitcoord import git
from gitcoord import incoming
from gitcoord.errors import FatalError
from gitcoord.workspace import Workspace

TIMEOUT = 3.0  # seconds; a clone sets its own with `git config coord.fetchTimeout`


class Freshness(NamedTuple):
    remote: str | None  # the remote fetched from; None when this clone has none
    fetched: bool  # whether the fetch just now went through
    problem: str | None  # why it did not
    commit: git.Sha | None  # the tip this view reads (None: no coordination branch anywhere)
    committed: str | None  # that tip's commit date
    local: git.Sha | None  # the local branch, after any fast-forward
    tracking: git.Sha | None  # the remote-tracking tip, after the fetch
    unshared: int  # commits the local branch has that the remote lacks
    missing: int  # commits of the remote this view lacks (the two have diverged)
    refused: bool = False  # the remote refused the unshared commits when a sync pushed them

    def as_data(self) -> dict[str, Any]:
        return {
            "remote": self.remote,
            "fetched": self.fetched,
            "problem": self.problem,
            "commit": self.commit,
            "committed": self.committed,
            "unshared": self.unshared,
            "missing": self.missing,
            "refused": self.refused,
        }


def has_remote(ws: Workspace) -> bool:
    return git.remote_url(ws.root, ws.remote) is not None


def timeout(ws: Workspace) -> float:
    """This clone's bound on a fetch for reading: `coord.fetchTimeout` seconds (git lowercases the key)."""
    try:
        value = float(ws.config.get("coord.fetchtimeout", TIMEOUT))
    except ValueError:
        return TIMEOUT
    return value if value > 0 else TIMEOUT


def refresh(ws: Workspace, *, timeout: float) -> Freshness:
    """Fetch the coordination branch (at most `timeout` seconds) and choose the commit to read."""
    if not has_remote(ws):
        local = git.rev_parse(ws.root, ws.ref)
        return _seen(ws, remote=None, fetched=False, problem=None, commit=local, local=local, tracking=None)
    problem = _fetch(ws, timeout)
    tips = git.tips(ws.root, [ws.ref, ws.tracking, incoming.verified_ref(ws), incoming.refused_ref(ws)])
    local, tracking = tips[ws.ref], tips[ws.tracking]
    refused = tips[incoming.refused_ref(ws)]
    if problem is None and incoming.rewound(ws, tips[incoming.verified_ref(ws)], tracking):
        # Not taken, and not this clone's to share again: the sync that meets it says what to do.
        said = f"{ws.remote}/{ws.branch} was rewound: it lost commits this clone had judged good; `coord sync` tells"
        return _seen(ws, remote=ws.remote, fetched=False, problem=said, commit=local, local=local, tracking=tracking)
    bad = incoming.judge_since(ws, tracking, tips[incoming.verified_ref(ws)])
    if bad is not None:  # what arrived breaks the rules: read, and build on, the last good state
        fetched, problem = problem is None, problem or incoming.summary(ws, bad)
        good = incoming.believed(ws, local, bad)
        if good is None and tracking is not None:  # not even its root keeps the rules: nothing to read
            raise FatalError(incoming.refusal(ws, bad, tracking))
        return _seen(
            ws, remote=ws.remote, fetched=fetched, problem=problem, commit=good, local=local, tracking=tracking
        )
    if problem is not None or tracking is None or tracking == local:
        return _seen(
            ws,
            remote=ws.remote,
            fetched=problem is None,
            problem=problem,
            commit=local or tracking,
            local=local,
            tracking=tracking,
            refused=refused,
        )
    if local is None or git.is_ancestor(ws.root, local, tracking) or incoming.superseded(ws, local, tracking):
        if local is not None and git.worktree_of(ws.root, ws.branch) is None:
            local = _fast_forward(ws, local, tracking)
        return _seen(
            ws,
            remote=ws.remote,
            fetched=True,
            problem=None,
            commit=tracking,
            local=local,
            tracking=tracking,
            refused=refused,
        )
    # unshared commits: the view is this clone's own
    return _seen(
        ws, remote=ws.remote, fetched=True, problem=None, commit=local, local=local, tracking=tracking, refused=refused
    )


def _fast_forward(ws: Workspace, local: git.Sha, tracking: git.Sha) -> git.Sha | None:
    """Move the local branch to the remote's tip if it still is where it was read; where it is after."""
    try:
        if git.update_ref(ws.root, ws.ref, tracking, local, f"coord: fast-forward to {ws.remote}/{ws.branch}"):
            return tracking
    except git.Locked:  # another git process is moving it: leave it to that one
        pass
    return git.rev_parse(ws.root, ws.ref)


def _fetch(ws: Workspace, timeout: float) -> str | None:
    """None when the fetch went through (or the remote has no coordination branch yet); else why not."""
    try:
        git.fetch_within(ws.root, ws.remote, ws.ref, ws.tracking, timeout=timeout)
    except git.RemoteRefMissing:
        return None
    except git.TimedOut:
        return f"{ws.remote} did not answer within {timeout:g} s"
    except git.FetchFailed as e:
        return f"cannot fetch from {ws.remote}: {e.reason}"
    return None


def _seen(
    ws: Workspace,
    *,
    remote: str | None,
    fetched: bool,
    problem: str | None,
    commit: git.Sha | None,
    local: git.Sha | None,
    tracking: git.Sha | None,
    refused: git.Sha | None = None,
) -> Freshness:
    unshared = missing = 0
    if local is not None and tracking is not None and local != tracking:
        unshared = git.rev_list_count(ws.root, local, since=tracking)
        missing = git.rev_list_count(ws.root, tracking, since=commit) if commit != tracking else 0
    # How old the view is matters where there is a remote to be behind; without one, nothing is fetched.
    committed = git.commit_date(ws.root, commit) if commit and remote is not None else None
    held = bool(unshared) and _held_back(ws, refused, local, tracking)
    return Freshness(remote, fetched, problem, commit, committed, local, tracking, unshared, missing, held)


def _held_back(ws: Workspace, refused: git.Sha | None, local: git.Sha | None, tracking: git.Sha | None) -> bool:
    """Whether the local line holds what the remote refused (and has not taken since)."""
    if refused is None or local is None or tracking is None:
        return False
    if refused == local:
        return True
    # steps made since, on top of what was refused, are held back with it
    return git.is_ancestor(ws.root, refused, local) and not git.is_ancestor(ws.root, refused, tracking)


def describe(fresh: Freshness) -> list[str]:
    """What a reader should know about how current its view is (notes); nothing when it is current."""
    notes = []
    tip = f"{fresh.commit[:12]}, committed {fresh.committed}" if fresh.commit else "no coordination branch"
    if fresh.problem is not None:
        notes.append(f"{fresh.problem}; this is this clone's view as of {tip}")
    if fresh.missing:
        notes.append(
            f"{fresh.remote} has {fresh.missing} commit(s) this view lacks and this clone has "
            f"{fresh.unshared} it lacks; `coord sync` merges them"
        )
    elif fresh.refused:
        notes.append(
            f"{fresh.unshared} commit(s) of this clone are not shared: {fresh.remote} refused them when they were "
            "pushed; `coord sync` says why, and how to go on without them"
        )
    elif fresh.unshared and fresh.fetched:
        notes.append(f"{fresh.unshared} commit(s) of this clone are not shared yet; `coord sync` shares them")
    return notes
