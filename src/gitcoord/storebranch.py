"""A store's own branch: created and advanced only through git's plumbing, never checked out.

Coordination events are frequent and code commits are not; on a branch of its own the
store never blocks on, nor drags along, anyone's code: no working tree, index or code
branch is touched by a step, a read or a sync.
"""

from __future__ import annotations

from pathlib import Path

from gitcoord import git
from gitcoord.errors import FatalError


def create(root: Path, ref: git.Ref, files: dict[str, bytes], message: str) -> git.Sha:
    """A new branch `ref` whose one commit (a root: no code history) holds `files`."""
    blobs = {path: git.hash_object(root, data) for path, data in files.items()}
    tree = git.write_tree(root, None, blobs)
    commit = git.commit_tree(root, tree, [], message)
    if not git.update_ref(root, ref, commit, None, "coord: a store of its own"):
        raise FatalError(f"{ref} appeared while the store was being made; run `coord init` again")
    return commit
