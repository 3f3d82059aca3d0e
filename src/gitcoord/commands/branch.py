"""The store's own branch, seen and handled without a checkout: `coord show`, `coord edit`, `coord migrate`.

`show` prints a store file as the branch has it. `edit` opens the branch in a worktree of
its own, where a person edits the files by hand and commits through the same hooks that
validate and check every commit. `migrate` moves a store kept on the code branch (the older
layout) to a branch of its own, its history kept: the new branch continues from the code
branch's tip, so `coord log` and `coord check --range` read across the move.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import NamedTuple

from gitcoord import checkout
from gitcoord import clock
from gitcoord import fileio
from gitcoord import git
from gitcoord import history
from gitcoord import lock
from gitcoord import model
from gitcoord import rulebook
from gitcoord import store
from gitcoord import storebranch
from gitcoord import workspace
from gitcoord.errors import BadUsage
from gitcoord.errors import Busy
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
    tip = workspace.tip(ws)  # the local branch exists (from the remote's, if need be)
    _hooks_vouched_for(ws, tip)
    fileio.ensure_lines(ws.repo.common_dir / "info" / "exclude", (f"/{EDIT_DIR}/",))
    git.worktree_add(ws.root, where, ws.branch)
    lines = [
        f"opened {ws.branch} in {where}: edit the files under {model.COORD_DIR}/ there and `git commit` —",
        "the hooks validate and check each commit as they would any other; then `coord sync` shares it,",
        "and `coord edit --done` closes the worktree. Steps made meanwhile keep its files up to date.",
    ]
    out.emit({"worktree": str(where), "branch": ws.branch}, lines)
    return 0


def _hooks_vouched_for(ws: workspace.Workspace, tip: git.Sha) -> None:
    """Refuse to open a branch whose hooks no rule vouches for: they would run as the person who commits.

    A store that names its branch (`settings.store_branch`) lets only the human coordinator change
    them; one made before that setting existed is opened only when they are the ones coord writes."""
    config = storebranch.HOOKS_CONFIG
    registry, committed = git.read_blobs(ws.root, [f"{tip}:{store.repo_path(model.REGISTRY)}", f"{tip}:{config}"])
    named = _names_branch(registry)
    if named or committed is None or committed == storebranch.beside_store()[config]:
        return
    raise Refused(
        f"{ws.branch}'s {config} is not the one coord writes, and its hooks would run as you in the worktree: read "
        f"it (`git show {ws.ref}:{config}`); if it is right, `git worktree add {EDIT_DIR} {ws.branch}` opens "
        "the branch; nothing was opened"
    )


def _names_branch(registry: bytes | None) -> bool:
    try:  # a store that does not parse is what `coord edit` is for: its hooks then count as unvouched
        settings = json.loads(registry or b"{}").get("settings", {})
    except (ValueError, AttributeError):
        return False
    return isinstance(settings, dict) and isinstance(settings.get("store_branch"), str)


STORE_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}")  # as the registry's schema has settings.store_branch


def migrate(*, cwd: Path, as_instance: str | None, out: Output, branch: str) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    actor = ws.require_identity()
    with lock.hold(ws.repo.common_dir):
        begun = checkout.migrate_begun(ws.repo.common_dir)
        if begun is not None:  # cut off before it finished: finish that one, whatever was asked now
            move = Move.read(begun)
        else:
            move = _plan(ws, actor, branch)
            fileio.write_atomic(checkout.migrate_journal(ws.repo.common_dir), json.dumps(move._asdict()).encode())
        shared = _carry_out(ws, move)
    code, branch, new, code_commit = move.code, move.branch, move.new, move.code_commit
    lines = [
        f"the store now lives on {branch} ({new[:12]}), continuing {code}'s history; this clone uses it",
        f"{code} ({code_commit[:12]}) no longer holds the store: {model.COORD_DIR}/MOVED.md says where it went",
        f"shared both with {ws.remote} at once; each other clone runs `coord install`"
        if shared
        else f"share both at once (`git push --atomic {ws.remote} {code} {branch}`), then each other clone runs "
        "`coord install`",
    ]
    out.emit({"branch": branch, "commit": new, "code_branch": code, "code_commit": code_commit}, lines)
    return 0


class Move(NamedTuple):
    """A `coord migrate` as planned, kept in a journal until it is done: a command cut off in the
    middle leaves the next `coord migrate` the same commits to finish with, not a half-moved store."""

    code: str  # the branch the store leaves
    branch: str  # the branch it moves to
    tip: git.Sha  # the code branch's tip it moves from
    new: git.Sha  # the store branch's first commit
    code_commit: git.Sha  # the code branch's commit without the store

    @classmethod
    def read(cls, journal: dict[str, str]) -> Move:
        tip, new, code_commit = (git.Sha(journal[k]) for k in ("tip", "new", "code_commit"))
        return cls(journal["code"], journal["branch"], tip, new, code_commit)


def _plan(ws: workspace.Workspace, actor: str, branch: str) -> Move:
    """The move's two commits, checked; no ref moves."""
    code = ws.branch
    tip = workspace.tip(ws)
    if not (STORE_BRANCH.fullmatch(branch) and git.is_branch_name(ws.root, branch)):
        raise BadUsage(
            f"{branch!r} is not a name the store's branch can have: letters, digits and . _ / -, "
            "starting with a letter or digit, as git takes a branch name"
        )
    if git.rev_parse(ws.root, f"refs/heads/{branch}") or git.rev_parse(ws.root, f"refs/remotes/{ws.remote}/{branch}"):
        raise Refused(f"{branch} exists already; give another name, or `git config coord.branch {branch}`")
    if branch == code:
        raise Refused(f"the store is on {code} already")
    if tip is None:
        raise Refused(f"{code} holds no store to move")
    paths = [p for p in git.paths_under(ws.root, f"{tip}:{model.COORD_DIR}") if model.is_store_file(p)]
    if not paths:
        raise Refused(f"{code} holds no store to move")
    state = workspace.snapshot(ws, strict=False)
    refused = history.check(state, {}, actor, when=clock.now(), files=paths, event=rulebook.MIGRATE)
    if refused:
        raise Refused(refused[0].message + "; nothing was changed")
    moved = Event("migrate", actor, None, f"{actor} moves the store to its own branch {branch}").message()
    # The new branch continues from the code branch's tip: its history is the store's history.
    registry = dict(state[model.REGISTRY])
    registry["settings"] = {**registry.get("settings", {}), "store_branch": branch}
    own = _tree(ws, tip, keep={store.repo_path(p) for p in paths}, registry=store.dump(model.REGISTRY, registry))
    new = git.commit_tree(ws.root, own, [tip], moved)
    left = Event("migrate", actor, None, f"{actor} moves the store to branch {branch}; it is no longer here").message()
    code_commit = git.commit_tree(ws.root, _moved_away(ws, tip, branch, paths), [tip], left)
    return Move(code, branch, tip, new, code_commit)


def _carry_out(ws: workspace.Workspace, move: Move) -> bool:
    """The move, in an order a kill anywhere leaves finishable: shared first (both branches at
    once), then the store's branch here, this clone's choice of it, and the code branch last, so
    that no command here ever sees a code branch without the store while it still coordinates
    on it. Whether it was shared."""
    shared = _share_both(ws, move)
    store_ref = git.Ref(f"refs/heads/{move.branch}")
    if git.rev_parse(ws.root, store_ref) != move.new and not git.update_ref(
        ws.root, store_ref, move.new, None, "coord: the store's own branch"
    ):
        _undo(ws, move)
        raise FatalError(f"{move.branch} appeared meanwhile; nothing was moved here; run `coord migrate` again")
    git.set_config(ws.root, "coord.branch", move.branch)
    code_ref = git.Ref(f"refs/heads/{move.code}")
    if git.rev_parse(ws.root, code_ref) != move.code_commit:
        _advance_code(ws, code_ref, move.tip, move.code_commit)
    checkout.migrate_journal(ws.repo.common_dir).unlink(missing_ok=True)
    return shared


def _share_both(ws: workspace.Workspace, move: Move) -> bool:
    """Push the move, both branches in one atomic push: the store leaves `code` and arrives on
    `branch` together, or not at all. A step shared on `code` meanwhile would otherwise stay there,
    and the team split between two live stores. Where the remote moved first, the move is undone
    here and refused; where it cannot be reached, both wait for the person to push them."""
    if git.remote_url(ws.root, ws.remote) is None:
        return False
    updates = [(move.code_commit, git.Ref(f"refs/heads/{move.code}")), (move.new, git.Ref(f"refs/heads/{move.branch}"))]
    try:
        git.push_atomic(ws.root, ws.remote, updates)
    except git.PushRejected:
        _undo(ws, move)
        raise Refused(
            f"{ws.remote}'s {move.code} moved on while the store was being moved (a step shared meanwhile): nothing "
            f"was moved, here or there. `coord sync`, then `coord migrate --branch {move.branch}` again"
        ) from None
    except git.PushFailed:
        return False
    return True


def _undo(ws: workspace.Workspace, move: Move) -> None:
    """Back to before the move, here: none of it was shared."""
    store_ref = git.Ref(f"refs/heads/{move.branch}")
    if git.rev_parse(ws.root, store_ref) == move.new:
        git.delete_refs(ws.root, store_ref)
    git.set_config(ws.root, "coord.branch", move.code)
    checkout.migrate_journal(ws.repo.common_dir).unlink(missing_ok=True)


def _tree(ws: workspace.Workspace, tip: git.Sha, *, keep: set[str], registry: bytes) -> git.Sha:
    """A tree of the store files `keep` of commit `tip` with the registry `registry` (which names
    the branch), and what lets a worktree of it check its commits."""
    blobs = {
        p: b
        for p, b in zip(sorted(keep), git.object_ids(ws.root, [f"{tip}:{p}" for p in sorted(keep)]), strict=True)
        if b
    }
    written = {store.repo_path(model.REGISTRY): registry, **storebranch.beside_store()}
    blobs.update({path: git.hash_object(ws.root, data) for path, data in written.items()})
    return git.write_tree(ws.root, None, blobs)


def _moved_away(ws: workspace.Workspace, tip: git.Sha, branch: str, paths: list[str]) -> git.Sha:
    note = workspace.moved_note(branch).encode()
    tree = git.drop_paths(ws.root, tip, [store.repo_path(p) for p in paths])
    return git.write_tree(ws.root, tree, {f"{model.COORD_DIR}/{workspace.MOVED}": git.hash_object(ws.root, note)})


def _advance_code(ws: workspace.Workspace, ref: git.Ref, old: git.Sha, new: git.Sha) -> None:
    """The code branch, last: a lock in the way keeps the plan for `coord migrate` to finish."""
    worktree = git.worktree_of(ws.root, ref.removeprefix("refs/heads/"))
    try:
        moved = (
            checkout.move(ws.root, worktree, ref, old, new)
            if worktree is not None
            else git.update_ref(ws.root, ref, new, old, "coord: the store moved away")
        )
    except git.Locked as e:
        raise Busy(
            f"{e.lock} stays locked, so {ref} cannot leave the store yet: remove it if no git command is running "
            "here, then `coord migrate` again finishes the move",
            details={"lock": str(e.lock)},
        ) from None
    if not moved:  # nothing to finish: the store has moved, and the code branch went its own way
        checkout.migrate_journal(ws.repo.common_dir).unlink(missing_ok=True)
        raise FatalError(
            f"{ref} moved while the store was being moved; the store's branch is shared, and this clone uses it: "
            f"bring {ref.removeprefix('refs/heads/')} up to {ws.remote}'s by hand (it no longer holds the store)"
        )
