"""Keeping an object store small: counting its loose objects, packing them, and cheap partial clones."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from gitcoord.git._process import run
from gitcoord.git.errors import FetchFailed
from gitcoord.git.errors import RemoteRefMissing
from gitcoord.git.refs import Ref

_HEX = frozenset("0123456789abcdef")


class Loose(NamedTuple):
    objects: int
    size: int  # bytes on disk


def loose_objects(common_dir: Path) -> Loose:
    """How many loose objects the repository holds, and their size on disk.

    Read from the directory layout git documents (objects/XX/ for each first byte of an id)
    rather than by `git count-objects`: it runs after every step, and a listing of 256
    mostly empty directories costs a fraction of a git process.
    """
    objects = common_dir / "objects"
    count = size = 0
    try:
        fans = list(os.scandir(objects))
    except FileNotFoundError:
        return Loose(0, 0)
    for fan in fans:
        if len(fan.name) != 2 or not _HEX.issuperset(fan.name) or not fan.is_dir():
            continue
        # A packer at work removes what it packed, directories too: what vanished counts for nothing.
        try:
            with os.scandir(fan.path) as entries:
                for entry in entries:
                    if len(entry.name) >= 38 and _HEX.issuperset(entry.name):  # not a tmp_obj_ being written
                        size += entry.stat().st_size
                        count += 1
        except FileNotFoundError:
            continue
    return Loose(count, size)


# Consecutive versions of a coordination file are each other's best delta bases, and the
# packer meets them side by side (it sorts by path and size): a window of 3 finds the same
# deltas as git's default of 10 here, at a third of the time on a large file.
DELTA_WINDOW = 3


def repack_loose(cwd: Path) -> None:
    """Put the loose objects in a pack, and roll small packs into bigger ones (geometric
    progression), so that the store holds few packs and few loose objects.

    `--geometric` rewrites only the packs that break the progression: most runs write one
    small pack, and each object is rewritten about log2(packs) times over its life. Deltas
    are computed only for what is new; existing ones are kept.
    """
    args = ["-c", f"pack.window={DELTA_WINDOW}", "repack", "-d", "-l", "-q", "--geometric=2"]
    run(args, cwd)


def write_commit_graph(cwd: Path) -> None:
    """Add the new commits to the commit-graph (a small new layer, merged as layers pile up), so
    that ancestry questions (is_ancestor, merge-base) stay fast however long the history."""
    run(["commit-graph", "write", "--reachable", "--split", "--size-multiple=2"], cwd)


def fetch_tip(cwd: Path, remote: str, ref: Ref, into: Ref, *, depth: int | None = 1, no_blobs: bool = False) -> None:
    """Fetch `remote`'s `ref` into `into` without its whole history: only the last `depth`
    commits (None: all of them), and with `no_blobs` the commits and trees alone, each file's
    contents fetched when first read (a partial clone; the remote must allow filters).

    A full fetch makes git rebuild and hash every version of every file the history holds.
    """
    cmd = ["fetch", "--quiet", "--no-tags", *([f"--depth={depth}"] if depth else [])]
    if no_blobs:
        cmd.append("--filter=blob:none")
    cmd += [remote, f"+{ref}:{into}"]
    done = run(cmd, cwd, check=False)
    if done.returncode != 0:
        kind = RemoteRefMissing if b"couldn't find remote ref" in done.stderr else FetchFailed
        raise kind(["git", *cmd], done.returncode, done.stdout, done.stderr)
