"""The store's own branch, seen and handled without a checkout: `coord show`, `coord edit`, `coord migrate`.

`show` prints a store file as the branch has it. `edit` opens the branch in a worktree of
its own, where a person edits the files by hand and commits through the same hooks that
validate and check every commit. `migrate` moves a store kept on the code branch (the older
layout) to a branch of its own, its history kept: the new branch continues from the code
branch's tip, so `coord log` and `coord check --range` read across the move.
"""

from __future__ import annotations

import json
from pathlib import Path

from gitcoord import checkout
from gitcoord import clock
from gitcoord import clone
from gitcoord import fileio
from gitcoord import git
from gitcoord import history
from gitcoord import hooks
from gitcoord import model
from gitcoord import rulebook
from gitcoord import store
from gitcoord import workspace
from gitcoord.errors import BadUsage
from gitcoord.errors import FatalError
from gitcoord.errors import NotFound
from gitcoord.events import Event
from gitcoord.output import Output
from gitcoord.protocol import Refused

EDIT_DIR = ".coord-edit"  # the worktree `coord edit` opens, inside the clone and ignored by it


def show(*, cwd: Path, as_instance: str | None, out: Output, file: str, at: str | None) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    name = file.removeprefix(f"{model.COORD_DIR}/")
    if not model.is_store_file(name):
        raise BadUsage(f"{file} is not a store file; they are {', '.join(model.FILES)} and the archive's shards")
    commit = git.rev_parse(ws.root, at) if at else workspace.tip(ws)
    if commit is None:
        raise NotFound(f"{at} is not a commit here", details={"record": at})
    [data] = git.read_blobs(ws.root, [f"{commit}:{store.repo_path(name)}"])
    if data is None:
        raise NotFound(f"{ws.branch} at {commit[:12]} has no {store.repo_path(name)}", details={"record": name})
    text = data.decode("utf-8", "replace")
    out.emit({"branch": ws.branch, "commit": commit, "file": name, "content": json.loads(text)}, text.rstrip("\n"))
    return 0


def edit(*, cwd: Path, as_instance: str | None, out: Output, done: bool) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    where = ws.root / EDIT_DIR
    if done:
        if not where.exists():
            raise NotFound(f"there is no {where} to close", details={"record": str(where)})
        git.worktree_remove(ws.root, where)
        out.emit({"closed": str(where)}, f"closed {where}; the branch {ws.branch} keeps what was committed there")
        return 0
    open_at = git.worktree_of(ws.root, ws.branch)
    if open_at is not None:
        out.emit({"worktree": str(open_at)}, f"{ws.branch} is already open in {open_at}")
        return 0
    workspace.tip(ws)  # the local branch exists (from the remote's, if need be)
    fileio.ensure_lines(ws.repo.common_dir / "info" / "exclude", (f"/{EDIT_DIR}/",))
    git.worktree_add(ws.root, where, ws.branch)
    lines = [
        f"opened {ws.branch} in {where}: edit the files under {model.COORD_DIR}/ there and `git commit` —",
        "the hooks validate and check each commit as they would any other; then `coord sync` shares it,",
        "and `coord edit --done` closes the worktree. Steps made meanwhile keep its files up to date.",
    ]
    out.emit({"worktree": str(where), "branch": ws.branch}, lines)
    return 0


def migrate(*, cwd: Path, as_instance: str | None, out: Output, branch: str) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    actor = ws.require_identity()
    code = ws.branch
    tip = workspace.tip(ws)
    if git.rev_parse(ws.root, f"refs/heads/{branch}") or git.rev_parse(ws.root, f"refs/remotes/{ws.remote}/{branch}"):
        raise Refused(f"{branch} exists already; give another name, or `git config coord.branch {branch}`")
    if branch == code:
        raise Refused(f"the store is on {code} already")
    paths = [p for p in git.paths_under(ws.root, f"{tip}:{model.COORD_DIR}") if model.is_store_file(p)]
    if not paths:
        raise Refused(f"{code} holds no store to move")
    state = workspace.snapshot(ws, strict=False)
    refused = history.check(state, {}, actor, when=clock.now(), files=paths, event=rulebook.MIGRATE)
    if refused:
        raise Refused(refused[0].message + "; nothing was changed")
    moved = Event("migrate", actor, None, f"{actor} moves the store to its own branch {branch}").message()
    # The new branch continues from the code branch's tip: its history is the store's history.
    own = _tree(ws, tip, keep={store.repo_path(p) for p in paths})
    new = git.commit_tree(ws.root, own, [tip], moved)
    if not git.update_ref(ws.root, git.Ref(f"refs/heads/{branch}"), new, None, "coord: the store's own branch"):
        raise FatalError(f"{branch} appeared meanwhile; run `coord migrate` again")
    left = Event("migrate", actor, None, f"{actor} moves the store to branch {branch}; it is no longer here").message()
    after = _moved_away(ws, tip, branch, paths)
    code_commit = git.commit_tree(ws.root, after, [tip], left)
    _advance_code(ws, tip, code_commit)
    git.set_config(ws.root, "coord.branch", branch)
    lines = [
        f"the store now lives on {branch} ({new[:12]}), continuing {code}'s history; this clone uses it",
        f"{code} ({code_commit[:12]}) no longer holds the store: {model.COORD_DIR}/MOVED.md says where it went",
        f"share both: `coord sync` pushes {branch}; push {code} as you push code, and each other clone runs "
        "`coord install`",
    ]
    out.emit({"branch": branch, "commit": new, "code_branch": code, "code_commit": code_commit}, lines)
    return 0


def _tree(ws: workspace.Workspace, tip: git.Sha, *, keep: set[str]) -> git.Sha:
    """A tree of the store files `keep` of commit `tip`, and what lets a worktree of it check its commits."""
    blobs = {
        p: b
        for p, b in zip(sorted(keep), git.object_ids(ws.root, [f"{tip}:{p}" for p in sorted(keep)]), strict=True)
        if b
    }
    blobs[".gitattributes"] = git.hash_object(ws.root, fileio.with_lines("", clone.ATTRIBUTES).encode())
    blobs[".pre-commit-config.yaml"] = git.hash_object(ws.root, ("repos:\n" + hooks.local_block()).encode())
    return git.write_tree(ws.root, None, blobs)


def _moved_away(ws: workspace.Workspace, tip: git.Sha, branch: str, paths: list[str]) -> git.Sha:
    note = (
        f"# The coordination store moved\n\nIt lives on the branch `{branch}` now, written by `coord` through git's\n"
        "plumbing and never checked out. In a clone: `coord install`, then `coord status`.\n"
    )
    tree = git.drop_paths(ws.root, tip, [store.repo_path(p) for p in paths])
    return git.write_tree(ws.root, tree, {f"{model.COORD_DIR}/MOVED.md": git.hash_object(ws.root, note.encode())})


def _advance_code(ws: workspace.Workspace, old: git.Sha, new: git.Sha) -> None:
    worktree = git.worktree_of(ws.root, ws.branch)
    moved = (
        checkout.move(ws.root, worktree, ws.ref, old, new)
        if worktree is not None
        else git.update_ref(ws.root, ws.ref, new, old, "coord: the store moved away")
    )
    if not moved:
        raise FatalError(f"{ws.branch} moved while the store was being moved; run `coord migrate` again")
