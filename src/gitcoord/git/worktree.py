"""A working tree and its index: what differs, staging, committing, following a branch, text merges."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

from gitcoord.git._process import classify
from gitcoord.git._process import names
from gitcoord.git._process import run
from gitcoord.git.errors import GitError
from gitcoord.git.refs import Sha


def changed_paths(cwd: Path, a: Sha, b: Sha) -> set[str]:
    """The paths of the files that differ between commits `a` and `b`."""
    return set(names(["diff-tree", "-r", "-z", "--name-only", "--no-renames", a, b], cwd))


def paths_changed_by(cwd: Path, revisions: Sequence[str]) -> set[str]:
    """The paths each commit of `revisions` changes against its parents (a merge: against each,
    for what it takes from one side or adds itself is a change too), all together."""
    found = names(["log", "-z", "-m", "--name-only", "--no-renames", "--format=", *revisions, "--"], cwd)
    return {p.strip("\n") for p in found if p.strip("\n")}


def diff_names(cwd: Path, commit: Sha, paths: Sequence[str]) -> list[str]:
    """The files under `paths` whose working-tree version differs from `commit`'s."""
    return names(["diff", "--name-only", "-z", commit, "--", *paths], cwd)


def staged_names(cwd: Path, paths: Sequence[str], *, deleted: bool = True, against: str | None = None) -> list[str]:
    """The files under `paths` whose staged version differs from HEAD's, or `against`'s (unless
    `deleted`, not those the index no longer has)."""
    options = ([] if deleted else ["--diff-filter=d"]) + ([against] if against else [])
    return names(["diff", "--cached", "--name-only", "-z", *options, "--", *paths], cwd)


def has_changes(cwd: Path, rev: str, paths: Sequence[str]) -> bool:
    """Whether the working tree differs from `rev` in `paths`."""
    cmd = ["diff", "--quiet", rev, "--", *paths]
    done = run(cmd, cwd, check=False)
    if done.returncode not in (0, 1):
        raise classify(["git", *cmd], done)
    return done.returncode == 1


def untracked(cwd: Path, paths: Sequence[str]) -> list[str]:
    """Which of `paths` the working tree holds as files git does not track (ignored ones too)."""
    return names(["ls-files", "-z", "--others", "--", *paths], cwd)


def add(cwd: Path, paths: Sequence[str]) -> None:
    run(["add", "--", *paths], cwd)


def commit(cwd: Path, message: str, paths: Sequence[str]) -> None:
    """Commit just `paths` as they are in the working tree, whatever else is staged."""
    run(["commit", "-q", "--no-verify", "-m", message, "--", *paths], cwd)


def interpret_trailers(cwd: Path, message_file: Path, trailers: Mapping[str, str]) -> None:
    """Add `trailers` to the commit message in `message_file`, in place."""
    args = [a for key, value in trailers.items() for a in ("--trailer", f"{key}: {value}")]
    run(["interpret-trailers", "--in-place", *args, str(message_file)], cwd)


def ff_merge(worktree: Path, commit: Sha, *, env: Mapping[str, str] | None = None) -> None:
    """Fast-forward the branch checked out in `worktree` to `commit`, its files following.

    IndexLocked when another git command is running there; WouldOverwrite when local
    changes are in the way (git refuses rather than lose them).
    """
    run(["merge", "--ff-only", "--quiet", commit], worktree, env=env)


def text_merge(ours: Path, base: Path, theirs: Path, *, labels: tuple[str, str, str]) -> int:
    """git's three-way text merge of three files, written into `ours`; how many conflicts it left."""
    cmd = ["merge-file", *(a for label in labels for a in ("-L", label)), str(ours), str(base), str(theirs)]
    done = run(cmd, None, check=False)
    if not 0 <= done.returncode <= 127:  # a signal or an error, not a count of conflicts
        raise GitError(["git", *cmd], done.returncode, done.stdout, done.stderr)
    return done.returncode


def index_blobs(cwd: Path, directory: str) -> dict[str, Sha]:
    """The staged blobs below `directory`: path (relative to it) -> object id."""
    found = {}
    for item in (
        run(["ls-files", "-s", "-z", "--", directory], cwd).stdout.decode("utf-8", "surrogateescape").split("\0")
    ):
        if item:
            meta, _, path = item.partition("\t")
            _mode, sha, stage = meta.split()
            if stage == "0":
                found[path[len(directory) + 1 :]] = Sha(sha)
    return found


def reset_hard(cwd: Path, rev: str) -> None:
    """Point the checked-out branch, its index and its files at `rev`, dropping what differs."""
    run(["reset", "-q", "--hard", rev], cwd)


def follow(worktree: Path, old: Sha, new: Sha) -> None:
    """Bring the index and the files of `worktree` from commit `old` to `new`, as a checkout would.

    Only the paths that differ between the two change; local edits elsewhere stay. WouldOverwrite
    when a local edit is in the way (git refuses rather than lose it); IndexLocked while another
    git command holds the index.
    """
    run(["read-tree", "-m", "-u", old, new], worktree)


def lock_file(worktree: Path, name: str) -> Path:
    """Where git keeps `name` (e.g. index.lock) for `worktree`."""
    return Path(run(["rev-parse", "--path-format=absolute", "--git-path", name], worktree).stdout.decode().strip())


def worktree_add(cwd: Path, path: Path, branch: str) -> None:
    """A new worktree at `path` with `branch` checked out."""
    run(["worktree", "add", "--quiet", str(path), branch], cwd)


def worktree_remove(cwd: Path, path: Path) -> None:
    run(["worktree", "remove", str(path)], cwd)


def switch_new(cwd: Path, branch: str) -> None:
    """Create `branch` at HEAD and check it out."""
    run(["switch", "-q", "-c", branch], cwd)


def pull_ff(cwd: Path, remote: str, branch: str) -> None:
    """Bring the checked-out branch up to the remote's, merging (code, not coordination: the driver merges none)."""
    run(["pull", "-q", "--no-rebase", "--no-edit", "--no-verify", remote, branch], cwd)
