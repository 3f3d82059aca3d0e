"""One clone's view of the coordination store: who I am, which branch is shared, and its state.

The coordination files live on one shared branch: a branch of their own (`coord`, which
`coord init` creates) or, in the older layout, the code branch itself; `coord.branch` says
which. Commands read and write that branch directly through git's plumbing, so an instance
on any branch, in any worktree, with any edits in progress, coordinates without touching
its checkout.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from gitcoord import git
from gitcoord import model
from gitcoord import store
from gitcoord.errors import FatalError
from gitcoord.snapshot import Snapshot

IDENTITY_HELP = (
    "say which instance you are: pass --as INSTANCE, set COORD_INSTANCE, "
    "or run `git config coord.instance INSTANCE` in this clone"
)


class Workspace(NamedTuple):
    repo: git.Repo
    branch: str  # the shared coordination branch, e.g. "main"
    remote: str
    identity: str | None
    config: dict[str, str]  # this clone's coord.* settings

    @property
    def root(self) -> Path:
        return self.repo.root

    @property
    def ref(self) -> git.Ref:
        return git.Ref(f"refs/heads/{self.branch}")

    def require_identity(self) -> str:
        if not self.identity:
            raise FatalError(IDENTITY_HELP)
        return self.identity


def open_workspace(cwd: Path, *, as_instance: str | None = None) -> Workspace:
    repo = git.discover(cwd)
    config = git.config(repo.root, "coord.")
    identity = as_instance or os.environ.get("COORD_INSTANCE") or config.get("coord.instance")
    remote = config.get("coord.remote", "origin")
    branch = config.get("coord.branch") or store_branch(repo.root, remote)
    return Workspace(repo, branch, remote, identity or None, config)


OWN_BRANCH = "coord"  # the name a store's own branch has unless `coord init --branch` chose another


def store_branch(root: Path, remote: str) -> str:
    """Where the store lives, for a clone that was not told: its own branch if there is one, else the code's."""
    if git.rev_parse(root, f"refs/heads/{OWN_BRANCH}") or git.rev_parse(root, f"refs/remotes/{remote}/{OWN_BRANCH}"):
        return OWN_BRANCH
    return default_branch(root, remote)


def default_branch(root: Path, remote: str) -> str:
    """The remote's default branch, else main or master, else the branch checked out here."""
    remote_head = git.symbolic_ref(root, f"refs/remotes/{remote}/HEAD")  # e.g. origin/main
    if remote_head is not None:
        return remote_head.split("/", 1)[1]
    for name in ("main", "master"):
        if git.rev_parse(root, f"refs/heads/{name}"):
            return name
    return git.head_branch(root) or "main"


def tip(ws: Workspace) -> git.Sha:
    """The shared branch's commit, creating the local branch from the remote's if need be."""
    commit = git.rev_parse(ws.root, ws.ref)
    if commit is None:
        remote_commit = git.rev_parse(ws.root, f"refs/remotes/{ws.remote}/{ws.branch}")
        if remote_commit is None:
            raise FatalError(
                f"the coordination branch {ws.branch!r} is not in this clone, nor fetched from {ws.remote}: "
                f"`git fetch {ws.remote} {ws.branch}` if it lives there, then `coord install`; "
                "or `coord init` to start coordinating"
            )
        git.update_ref(ws.root, ws.ref, remote_commit, None, "coord: track the shared branch")
        commit = remote_commit
    return commit


def snapshot(ws: Workspace, *, strict: bool = True, commit: git.Sha | None = None) -> Snapshot:
    at = commit or tip(ws)

    def read(files: list[str]) -> list[bytes | None]:
        return git.read_blobs(ws.root, [f"{at}:{store.repo_path(f)}" for f in files])

    def shards() -> list[str]:
        listed = git.paths_under(ws.root, f"{at}:{model.COORD_DIR}/{model.ARCHIVE}")
        return [f for f in (f"{model.ARCHIVE}/{p}" for p in listed) if model.is_store_file(f)]

    # A branch without coordination files says so when a file is read ("`coord init` creates it").
    return Snapshot(read, commit=at, strict=strict, shards=shards)


Blobs = dict[str, git.Sha | None]  # file name -> its blob id at one commit (None: absent)


def blobs_at(root: Path, commits: Sequence[git.Sha]) -> dict[git.Sha, Blobs]:
    """Which version of each store file each commit has, in one git call."""
    specs = [f"{c}:{store.repo_path(f)}" for c in commits for f in model.ALL_FILES]
    ids = iter(git.object_ids(root, specs))
    return {c: {f: next(ids) for f in model.ALL_FILES} for c in commits}
