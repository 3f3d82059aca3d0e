"""One clone's view of the coordination store: who I am, which branch is shared, and its state.

The coordination files live on one shared branch: a branch of their own (`coord`, which
`coord init` creates) or, in the older layout, the code branch itself; `coord.branch` says
which. Commands read and write that branch directly through git's plumbing, so an instance
on any branch, in any worktree, with any edits in progress, coordinates without touching
its checkout.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import NamedTuple

from gitcoord import clock
from gitcoord import git
from gitcoord import model
from gitcoord import rulebook
from gitcoord import store
from gitcoord.errors import BadUsage
from gitcoord.errors import FatalError
from gitcoord.events import IDENTITY_HELP

if TYPE_CHECKING:
    from gitcoord.snapshot import Snapshot


class Workspace(NamedTuple):
    repo: git.Repo
    branch: str  # the shared coordination branch, e.g. "main"
    remote: str
    identity: str | None
    config: dict[str, str]  # this clone's coord.* settings, its merge driver's (merge.coord.*), its signing key

    @property
    def root(self) -> Path:
        return self.repo.root

    @property
    def ref(self) -> git.Ref:
        return git.Ref(f"refs/heads/{self.branch}")

    @property
    def tracking(self) -> git.Ref:
        """Where the shared branch was last fetched to. Named in full in what coord tells a person
        to run too: git reads a short `origin/coord` as a tag `origin/coord` first, which anyone
        who can push a tag can make."""
        return git.Ref(f"refs/remotes/{self.remote}/{self.branch}")

    def require_identity(self) -> str:
        if not self.identity:
            raise FatalError(IDENTITY_HELP)
        return self.identity


def open_workspace(cwd: Path, *, as_instance: str | None = None) -> Workspace:
    repo = git.discover(cwd)
    config = git.config(repo.root, "coord.", DRIVER_CONFIG, *SIGNING_CONFIG)
    identity = as_instance or os.environ.get("COORD_INSTANCE") or config.get("coord.instance")
    if identity and not model.INSTANCE_ID.fullmatch(identity):  # it names files under .git/ too
        raise BadUsage(
            f"{identity!r} is not an instance name (--as, COORD_INSTANCE or coord.instance): letters, digits, "
            "'.', '_' and '-', at most 64, starting with a letter or a digit"
        )
    remote = config.get("coord.remote", "origin")
    branch = config.get("coord.branch") or store_branch(repo.root, remote)
    return Workspace(repo, branch, remote, identity or None, config)


DRIVER_CONFIG = "merge.coord."  # the merge driver's settings (clone.DRIVER), read in the same git process
SIGNING_CONFIG = ("user.signingkey", "gpg.format")  # which key the clone signs with: what its looks were judged as

OWN_BRANCH = "coord"  # the name a store's own branch has unless `coord init --branch` chose another


def store_branch(root: Path, remote: str) -> str:
    """Where the store lives, for a clone that was not told, as the code branch says: there, when it
    holds the store (the older layout); where its MOVED.md says the store went; else the store's own
    branch, or the code's own. Never chosen by layout when both hold a store: anyone who pushes code
    can plant a copy on the code branch, so a newcomer asks which is the shared one."""
    code = default_branch(root, remote)
    found = follow(root, remote, code)
    if found != code:
        return found
    if holds_store(root, remote, code):
        if code != OWN_BRANCH and holds_store(root, remote, OWN_BRANCH):
            raise FatalError(
                f"both {code!r} and {OWN_BRANCH!r} hold a coordination store, and either could be a copy "
                f"made by anyone who can push to it: ask the human coordinator which one the team shares, "
                f"then `coord install --branch NAME` (it is kept in `git config coord.branch`)"
            )
        return code
    if _tip(root, remote, OWN_BRANCH):  # which may have moved on in turn (`coord migrate` from it)
        return follow(root, remote, OWN_BRANCH)
    return code


def follow(root: Path, remote: str, branch: str) -> str:
    """`branch`, or where the store went from it (and on from there, where it moved again): the
    branch named in the MOVED.md of the commit that took the store away, when that commit is the
    human coordinator's judged `coord migrate`. Not the MOVED.md at the tip, which any committer
    to the code branch can rewrite: it must not steer a newcomer to a store of the writer's making."""
    seen = {branch}
    while (went := _went_from(root, remote, _tip(root, remote, branch))) is not None and went not in seen:
        seen.add(went)
        branch = went
    return branch


def _went_from(root: Path, remote: str, tip: git.Sha | None) -> str | None:
    """Where the store went from commit `tip` of a branch, by a judged `coord migrate`; None where
    it is still there, or never was."""
    if tip is None or holds_store_at(root, tip):
        return None
    found = moved_by(root, tip)
    if found is None:
        return None
    moved, target = found
    return target if _migrated(root, moved, _tip(root, remote, target) or _fetched(root, remote, target)) else None


def _fetched(root: Path, remote: str, branch: str) -> git.Sha | None:
    """`branch` fetched from the remote, where this clone has not seen it yet (a branch the store
    moved to since the last fetch): only then can the move be judged."""
    tracking = git.Ref(f"refs/remotes/{remote}/{branch}")
    try:
        git.fetch(root, remote, git.Ref(f"refs/heads/{branch}"), tracking)
    except git.GitError:  # unreachable, or no such branch there: no move to follow
        return None
    return git.rev_parse(root, tracking)


def moved_by(root: Path, tip: git.Sha) -> tuple[git.Sha, str] | None:
    """The commit of `tip`'s history that took the store away, and the branch its MOVED.md names,
    where it left one. That commit says where the store went; a MOVED.md edited since says nothing."""
    moved = git.introduced(root, tip, store.repo_path(model.REGISTRY))
    [note] = git.read_blobs(root, [f"{moved}:{model.COORD_DIR}/{MOVED}"]) if moved else [None]
    found = _MOVED_TO.search(note.decode("utf-8", "replace")) if note else None
    return (moved, found.group(1)) if moved is not None and found is not None else None


def _migrated(root: Path, commit: git.Sha, target: git.Sha | None) -> bool:
    """Whether `commit` is a `coord migrate` the rules allow, whose store `target` continues. It is
    judged with what came since the store last left this branch, if it ever did: a store made up
    again where one left must not vouch for its own move. The rest is judged when a clone first
    reads the branch it moved to (`incoming.judge`)."""
    [change] = git.changes(root, [commit, "-n1"])
    if change.event != rulebook.MIGRATE or len(change.parents) != 1 or target is None:
        return False  # a merge, or a shallow boundary: nothing to judge it against
    [parent] = change.parents
    if not git.is_ancestor(root, parent, target):
        return False
    since = git.last_deleted(root, parent, store.repo_path(model.REGISTRY)) or parent
    from gitcoord import replay  # here: only a clone that follows a moved store judges the move

    return not replay.check_range(root, [change.sha, "--not", since], now=clock.now()).findings


MOVED = "MOVED.md"  # what `coord migrate` leaves on the branch the store left
_MOVED_TO = re.compile(r"^It lives on the branch `([A-Za-z0-9][A-Za-z0-9._/-]*)` now", re.MULTILINE)


def moved_note(branch: str) -> str:
    """The MOVED.md `coord migrate` leaves behind; `follow` reads the branch from it."""
    return (
        f"# The coordination store moved\n\nIt lives on the branch `{branch}` now, written by `coord` through git's\n"
        "plumbing and never checked out. In a clone: `coord install`, then `coord status`.\n"
    )


def _tip(root: Path, remote: str, branch: str) -> git.Sha | None:
    """Where `branch` is as last fetched from the remote, the shared truth; else where it is here."""
    return git.rev_parse(root, f"refs/remotes/{remote}/{branch}") or git.rev_parse(root, f"refs/heads/{branch}")


def holds_store(root: Path, remote: str, branch: str) -> bool:
    """Whether `branch` (as last fetched from the remote, else here) holds a coordination file."""
    tip = _tip(root, remote, branch)
    return tip is not None and holds_store_at(root, tip)


def holds_store_at(root: Path, commit: git.Sha) -> bool:
    """Whether `commit` holds a live coordination file."""
    return any(git.object_ids(root, [f"{commit}:{store.repo_path(f)}" for f in model.FILES]))


def default_branch(root: Path, remote: str) -> str:
    """The remote's default branch, else main or master, else the branch checked out here."""
    tracking = f"refs/remotes/{remote}/"
    remote_head = git.symbolic_ref(root, f"{tracking}HEAD")  # e.g. refs/remotes/origin/main
    if remote_head is not None and remote_head.startswith(tracking):
        return remote_head.removeprefix(tracking)
    for name in ("main", "master"):
        if git.rev_parse(root, f"refs/heads/{name}"):
            return name
    return git.head_branch(root) or "main"


def tip(ws: Workspace) -> git.Sha:
    """The shared branch's commit, creating the local branch from the remote's if need be."""
    commit = git.rev_parse(ws.root, ws.ref)
    if commit is None:
        from gitcoord import incoming  # here: only a clone's first look at the branch judges it

        remote_commit = git.rev_parse(ws.root, ws.tracking)
        if remote_commit is None:
            raise FatalError(
                f"the coordination branch {ws.branch!r} is not in this clone, nor fetched from {ws.remote}: "
                f"`git fetch {ws.remote} {ws.ref}` if it lives there, then `coord install`; "
                "or `coord init` to start coordinating"
            )
        commit = incoming.adopt(ws, remote_commit, incoming.judge(ws, remote_commit))
    return commit


def snapshot(ws: Workspace, *, strict: bool = True, commit: git.Sha | None = None) -> Snapshot:
    from gitcoord.snapshot import Snapshot  # here: a command that reads no file never loads the parser

    at = commit or tip(ws)

    def read(files: list[str]) -> list[bytes | None]:
        return git.read_tip_blobs(ws.repo, [f"{at}:{store.repo_path(f)}" for f in files])

    def shards() -> list[str]:
        listed = git.paths_under(ws.root, f"{at}:{model.COORD_DIR}/{model.ARCHIVE}")
        return [f for f in (f"{model.ARCHIVE}/{p}" for p in listed) if model.is_store_file(f)]

    # A branch without coordination files says so when a file is read (`validation.parse_findings`).
    return Snapshot(read, commit=at, strict=strict, shards=shards)


Blobs = dict[str, git.Sha | None]  # file name -> its blob id at one commit (None: absent)


def blobs_at(root: Path, commits: Sequence[git.Sha]) -> dict[git.Sha, Blobs]:
    """Which version of each store file each commit has, in one git call."""
    specs = [f"{c}:{store.repo_path(f)}" for c in commits for f in model.ALL_FILES]
    ids = iter(git.object_ids(root, specs))
    return {c: {f: next(ids) for f in model.ALL_FILES} for c in commits}
