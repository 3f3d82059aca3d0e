"""A store's own branch: created and advanced only through git's plumbing, never checked out.

Coordination events are frequent and code commits are not; on a branch of its own the
store never blocks on, nor drags along, anyone's code: no working tree, index or code
branch is touched by a step, a read or a sync.
"""

from __future__ import annotations

from pathlib import Path

from gitcoord import checkout
from gitcoord import clone
from gitcoord import fileio
from gitcoord import git
from gitcoord import hooks
from gitcoord import model
from gitcoord.errors import FatalError

HOOKS_CONFIG = ".pre-commit-config.yaml"


def beside_store() -> dict[str, bytes]:
    """What a store's own branch holds beside the store: what lets a worktree of it check its commits.
    Only the human coordinator changes these there (`history.beside_store`): they run as whoever opens it."""
    return {
        ".gitattributes": fileio.with_lines("", clone.ATTRIBUTES).encode("utf-8"),
        HOOKS_CONFIG: ("repos:\n" + hooks.local_block()).encode("utf-8"),
    }


def create(root: Path, ref: git.Ref, files: dict[str, bytes], message: str) -> git.Sha:
    """A new branch `ref` whose one commit (a root: no code history) holds `files`."""
    blobs = {path: git.hash_object(root, data) for path, data in files.items()}
    tree = git.write_tree(root, None, blobs)
    commit = git.commit_tree(root, tree, [], message)
    if not git.update_ref(root, ref, commit, None, "coord: a store of its own"):
        raise FatalError(f"{ref} appeared while the store was being made; run `coord init` again")
    return commit


def add_files(root: Path, branch: str, files: dict[str, bytes], message: str) -> git.Sha | None:
    """A commit on `branch` that puts `files` in its tree and changes no coordination file
    (e.g. the workflows GitHub runs from this branch); None when they are there already."""
    store = [p for p in files if p.split("/", 1)[0] == model.COORD_DIR]
    if store:
        raise ValueError(f"add_files writes no coordination file: {store}")
    ref = git.Ref(f"refs/heads/{branch}")
    local = git.rev_parse(root, ref)
    tip = local or tip_of(root, branch)
    if tip is None:
        raise FatalError(f"the coordination branch {branch} is not in this clone; run `coord init` first")
    blobs = {path: git.hash_object(root, data) for path, data in files.items()}
    if git.object_ids(root, [f"{tip}:{path}" for path in blobs]) == list(blobs.values()):
        return None
    commit = git.commit_tree(root, git.write_tree(root, tip, blobs), [tip], message)
    worktree = git.worktree_of(root, branch)
    moved = (
        checkout.move(root, worktree, ref, tip, commit)
        if worktree is not None
        else git.update_ref(root, ref, commit, local, "coord: " + message.split("\n", 1)[0])
    )
    if not moved:
        raise FatalError(f"{branch} moved while its files were being added; run the command again")
    return commit


def tip_of(root: Path, branch: str) -> git.Sha | None:
    """Where `branch` is in this clone, or, before it has one of its own, where the remote has it."""
    return git.rev_parse(root, f"refs/heads/{branch}") or git.rev_parse(root, f"refs/remotes/origin/{branch}")
