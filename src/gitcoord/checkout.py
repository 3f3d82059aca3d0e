"""Moving a branch that a worktree has checked out, safely: the ref first, then the files.

Where the store lives on the code branch (the older layout), a step or a sync moves a
branch that someone has checked out. git's own fast-forward writes the index and the files
before it moves the ref, so a command killed in between (or a ref update that loses a race)
used to leave the step's files staged, to be swept into the person's next commit. Here the
ref moves first, by compare-and-swap, and only then do the index and the files follow; a
journal written before and removed after lets the next coord command finish what a killed
one began. A dedicated coordination branch is never checked out, so none of this applies.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from gitcoord import fileio
from gitcoord import git
from gitcoord.errors import Busy
from gitcoord.errors import FatalError

if TYPE_CHECKING:
    from gitcoord.workspace import Workspace

# How long a step waits for a person's git command (a commit whose hooks run, say) to let go
# of the index before it moves the branch under them.
INDEX_PATIENCE = 60.0


# What the reflog of the branch says of a move to a step this clone made and judged (`made_here`).
STEP = "coord step: "


def advance(ws: Workspace, old: git.Sha | None, new: git.Sha, *, step: bool = False) -> bool:
    """Move the shared branch from `old` to `new`; False when it no longer points at `old`.
    `step`: `new` is a step made here, judged as it was made, and the reflog says so."""
    reason = (STEP if step else "coord: ") + new
    for delay in (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 0):
        try:
            return _move_branch(ws, old, new, reason)
        except git.Locked as e:  # another git command is running there
            if not delay:
                raise Busy(
                    f"{e.lock} stays locked: another git command is working in this repository, or one was "
                    "killed and left the lock behind (remove it if none is running); nothing was committed",
                    details={"lock": str(e.lock)},
                ) from None
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _move_branch(ws: Workspace, old: git.Sha | None, new: git.Sha, reason: str) -> bool:
    worktree = git.worktree_of(ws.root, ws.branch)
    if worktree is None:
        return git.update_ref(ws.root, ws.ref, new, old, reason)
    return move(ws.root, worktree, ws.ref, old, new, reason=reason)


def made_here(ws: Workspace, commits: list[git.Sha]) -> bool:
    """Whether each of `commits` is a step this clone made, and judged as it made it: the branch's
    reflog moved to each by `advance(step=True)`. (Only the clone's own record: the gate judges
    what it receives whatever this says.)"""
    steps = {sha for sha, said in git.reflog(ws.root, ws.ref, limit=max(64, 2 * len(commits))) if said.startswith(STEP)}
    return bool(commits) and steps.issuperset(commits)


def finish_checkout(ws: Workspace) -> str | None:
    """Bring a checkout up to its branch where a killed command left it behind (under the lock);
    refuse to go on where a `coord migrate` was cut off, until it is finished."""
    begun = migrate_begun(ws.repo.common_dir)
    if begun is not None:
        raise FatalError(
            f"a `coord migrate` of the store from {begun['code']} to {begun['branch']} was cut off in this clone: "
            f"run `coord migrate --branch {begun['branch']}` to finish it (it takes up where it stopped); "
            "nothing was done"
        )
    return repair(ws.root, ws.repo.common_dir, ws.ref, ws.branch)


def moving(common_dir: Path, ref: str) -> bool:
    """Whether a coord command is moving the checkout of `ref` (or was cut off doing so): its ref
    has moved, or is about to, and the index and files may not show it yet."""
    return _journal(common_dir, ref).exists()


def migrate_journal(common_dir: Path) -> Path:
    """Where a `coord migrate` keeps its plan until it is done (`commands.branch.Move`)."""
    return common_dir / "coord" / "migrate.json"


def migrate_begun(common_dir: Path) -> dict[str, str] | None:
    """The plan of a `coord migrate` that began here and did not finish, if any."""
    try:
        found: dict[str, str] = json.loads(migrate_journal(common_dir).read_text("utf-8"))
    except FileNotFoundError:
        return None
    return found


def move(root: Path, worktree: Path, ref: git.Ref, old: git.Sha | None, new: git.Sha, *, reason: str = "") -> bool:
    """Move the checked-out `ref` from `old` to `new`; False when it no longer points at `old`."""
    _wait_for_index(worktree)
    if old is None or git.rev_parse(worktree, "HEAD") != old:
        return False
    changed = sorted(git.changed_paths(root, old, new))
    if changed and git.has_changes(worktree, "HEAD", changed):
        raise FatalError(
            f"{worktree} has uncommitted changes to files this step would update ({_few(changed)}); "
            "commit or stash them, then run the command again; nothing was committed"
        )
    # Checked before the ref moves: once it has, a file in the way could only stop the files following.
    stray = git.untracked(worktree, changed) if changed else []
    if stray:
        raise FatalError(
            f"{worktree} holds files git does not track where this step writes ({_few(stray)}); move or "
            "delete them, then run the command again; nothing was committed"
        )
    journal = _journal(git.discover(root).common_dir, ref)
    fileio.write_atomic(journal, json.dumps({"ref": ref, "old": old, "new": new}).encode())
    if not git.update_ref(root, ref, new, old, reason or "coord: " + new):
        journal.unlink(missing_ok=True)
        return False
    _follow(worktree, old, new)
    journal.unlink(missing_ok=True)
    return True


def repair(root: Path, common_dir: Path, ref: git.Ref, branch: str) -> str | None:
    """Finish a checkout that a killed command left behind its branch; what was done, if anything.

    Every command that changes the store asks first, so the usual answer (no journal) costs no git process.
    """
    journal = _journal(common_dir, ref)
    if not journal.exists():
        return None
    entry = json.loads(journal.read_text("utf-8"))
    worktree = git.worktree_of(root, branch)
    tip = git.rev_parse(root, ref)
    if worktree is not None and tip is not None and tip == entry["new"]:
        _follow(worktree, git.Sha(entry["old"]), git.Sha(entry["new"]))
        journal.unlink(missing_ok=True)
        return f"brought {worktree} up to {ref} {tip[:12]}, which a killed coord command had moved"
    journal.unlink(missing_ok=True)  # the ref never moved, or moved on since: nothing half done
    return None


def _follow(worktree: Path, old: git.Sha, new: git.Sha) -> None:
    try:
        git.follow(worktree, old, new)
    except git.WouldOverwrite as e:
        raise FatalError(
            f"the branch moved to {new[:12]}, but local changes in {worktree} stop its files from following:\n"
            f"{e.stderr.strip()}\nStash them (`git stash`), run any coord command (it finishes the update), "
            "then `git stash pop`"
        ) from None


def _wait_for_index(worktree: Path) -> None:
    lock = git.lock_file(worktree, "index.lock")
    deadline = time.monotonic() + INDEX_PATIENCE
    while lock.exists():
        if time.monotonic() > deadline:
            age = time.time() - lock.stat().st_mtime if lock.exists() else 0
            raise Busy(
                f"{lock} has been held for {age:.0f}s: a git command is running in {worktree}, or one was killed "
                "and left it behind; if no git command is running there, remove it; nothing was committed",
                details={"lock": str(lock)},
            )
        time.sleep(0.05)


def _journal(common_dir: Path, ref: str) -> Path:
    return common_dir / "coord" / ("checkout-" + ref.replace("/", "_") + ".json")


def _few(paths: list[str]) -> str:
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
