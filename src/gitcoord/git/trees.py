"""Trees: listed as git stores them, looked up by path, rebuilt along changed paths."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from gitcoord.git._process import clean_env
from gitcoord.git._process import out
from gitcoord.git._process import run
from gitcoord.git.errors import GitError
from gitcoord.git.objects import read_trees
from gitcoord.git.refs import Sha
from gitcoord.git.refs import is_object_id


def top_entries(cwd: Path, commits: Sequence[Sha]) -> list[dict[str, Sha] | None]:
    """Each commit's top-level tree entries, name -> object id (None: no such commit), in one git call."""
    if not commits:
        return []
    raw = read_trees(cwd, [f"{c}^{{tree}}" for c in commits])
    return [None if data is None else _tree_entries(data, len(c) // 2) for c, data in zip(commits, raw, strict=True)]


def _tree_entries(data: bytes, width: int) -> dict[str, Sha]:
    """A raw tree object's entries: `MODE NAME\0` then the object id's `width` bytes, in turn."""
    found: dict[str, Sha] = {}
    pos = 0
    while pos < len(data):
        end = data.index(b"\0", pos)
        name = data[data.index(b" ", pos) + 1 : end].decode("utf-8", "surrogateescape")
        if name in found:  # git reads one of the two, a listing the other: nothing can judge it
            raise GitError(["cat-file", "--batch"], 128, b"", f"a tree lists {name!r} twice".encode())
        found[name] = Sha(data[end + 1 : end + 1 + width].hex())
        pos = end + 1 + width
    return found


def tree_listings(cwd: Path, trees: Sequence[str]) -> list[list[tuple[str, bytes, Sha]] | None]:
    """Each tree's entries as its object stores them, in their order, duplicates and all: (mode,
    name, object id); None where there is no such tree. `trees` are object ids, or `COMMIT^{tree}`
    of full commit ids. In one git call."""
    if not trees:
        return []
    raw = read_trees(cwd, trees)
    width = len(trees[0].partition("^")[0]) // 2  # bytes of an object id: 20 (SHA-1) or 32 (SHA-256)
    return [None if data is None else list(_entries(data, width)) for data in raw]


def _entries(data: bytes, width: int) -> Iterator[tuple[str, bytes, Sha]]:
    pos = 0
    while pos < len(data):
        space, end = data.index(b" ", pos), data.index(b"\0", pos)
        yield data[pos:space].decode(), data[space + 1 : end], Sha(data[end + 1 : end + 1 + width].hex())
        pos = end + 1 + width


class TreeEntry(NamedTuple):
    mode: str
    type: str
    sha: Sha
    name: str


def ls_tree(cwd: Path, treeish: str) -> list[TreeEntry]:
    done = run(["ls-tree", "-z", treeish], cwd, check=False)
    if done.returncode != 0:
        return []
    entries = []
    for item in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if item:
            meta, _, name = item.partition("\t")
            mode, kind, sha = meta.split()
            entries.append(TreeEntry(mode, kind, Sha(sha), name))
    return entries


def mktree(cwd: Path, entries: Iterable[TreeEntry]) -> Sha:
    text = "".join(f"{e.mode} {e.type} {e.sha}\t{e.name}\0" for e in entries)
    return Sha(out(["mktree", "-z"], cwd, input=text.encode("utf-8", "surrogateescape")))


def write_tree(cwd: Path, base: Sha | None, files: Mapping[str, Sha]) -> Sha:
    """The tree of commit or tree `base` with `files` (path -> blob) put in; only the trees on their paths change."""
    return _put(cwd, f"{base}^{{tree}}" if base else None, [(p.split("/"), sha) for p, sha in files.items()])


def _put(cwd: Path, tree: str | None, changes: list[tuple[list[str], Sha]]) -> Sha:
    entries = {e.name: e for e in ls_tree(cwd, tree)} if tree else {}
    below: dict[str, list[tuple[list[str], Sha]]] = {}
    for parts, sha in changes:
        if len(parts) == 1:
            entries[parts[0]] = TreeEntry("100644", "blob", sha, parts[0])
        else:
            below.setdefault(parts[0], []).append((parts[1:], sha))
    for name, sub in below.items():
        old = entries.get(name)
        entries[name] = TreeEntry("040000", "tree", _put(cwd, old.sha if old else None, sub), name)
    return mktree(cwd, entries.values())


def tree_ids(cwd: Path, specs: Sequence[str]) -> list[Sha | None]:
    """The tree each `rev:path` spec names (None where there is none), in one git call."""
    return _ids_of(cwd, specs, "tree")


def _ids_of(cwd: Path, specs: Sequence[str], kind: str) -> list[Sha | None]:
    """The object of `kind` each `rev:path` spec names (None where it names none, or another kind)."""
    if not specs:
        return []
    request = "".join(s + "\n" for s in specs).encode()
    done = run(["cat-file", "--batch-check=%(objectname) %(objecttype)"], cwd, input=request)
    ids: list[Sha | None] = []
    for line in done.stdout.decode().splitlines():
        parts = line.split()
        ids.append(Sha(parts[0]) if len(parts) == 2 and parts[1] == kind else None)
    return ids


def exist(cwd: Path, specs: Sequence[str]) -> list[bool]:
    """Whether each `rev:path` spec names something (a file, a directory, a submodule), in one git call."""
    if not specs:
        return []
    request = "".join(s + "\n" for s in specs).encode()
    done = run(["cat-file", "--batch-check=%(objecttype)"], cwd, input=request)
    return [not line.endswith(" missing") for line in done.stdout.decode().splitlines()]


LINK = "link:"  # how `blobs_under` lists a symbolic link: its blob is the target's name, not a file's content


def blobs_under(cwd: Path, tree: str) -> Mapping[str, Sha]:
    """Every blob below `tree`: path (relative to it) -> object id, a symbolic link's as LINK + id,
    so that a file turned into a link whose target text is the file's own bytes is still a change.
    A tree named by its id never changes: one process (a sync judges, checks what its side made
    void, then merges, each reading the same trees) lists it once."""
    if not is_object_id(tree):
        return _blobs_under(cwd, tree)
    return _listed(cwd, tree)


@functools.lru_cache(maxsize=64)
def _listed(cwd: Path, tree: str) -> Mapping[str, Sha]:
    return MappingProxyType(_blobs_under(cwd, tree))


def _blobs_under(cwd: Path, tree: str) -> dict[str, Sha]:
    found = {}
    for item in (
        run(["ls-tree", "-r", "-z", "--full-tree", tree], cwd).stdout.decode("utf-8", "surrogateescape").split("\0")
    ):
        if item:
            meta, _, path = item.partition("\t")
            mode, kind, sha = meta.split()
            if kind == "blob":
                found[path] = Sha(LINK + sha if mode == "120000" else sha)
    return found


def paths_under(cwd: Path, treeish: str) -> list[str]:
    """The paths of the blobs below `treeish` (nothing when there is no such tree)."""
    done = run(["ls-tree", "-r", "-z", "--name-only", treeish], cwd, check=False)
    return [p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p] if done.returncode == 0 else []


def drop_paths(cwd: Path, commit: Sha, paths: Sequence[str]) -> Sha:
    """The tree of `commit` without the files `paths`, written through a temporary index."""
    listing = run(["ls-tree", "-r", "-z", "--full-tree", commit], cwd).stdout.split(b"\0")
    gone = {p.encode("utf-8", "surrogateescape") for p in paths}
    # ls-tree prints "mode type sha<TAB>path"; --index-info takes "mode sha<TAB>path".
    kept = []
    for item in listing:
        meta, _, path = item.partition(b"\t")
        if item and path not in gone:
            mode, _kind, sha = meta.split()
            kept.append(b"%s %s\t%s\0" % (mode, sha, path))
    import tempfile  # here: with shutil and random, it costs every other command's start-up

    with tempfile.TemporaryDirectory() as tmp:
        env = clean_env({"GIT_INDEX_FILE": str(Path(tmp) / "index")})
        run(["update-index", "-z", "--index-info"], cwd, input=b"".join(kept), env=env)
        return Sha(run(["write-tree"], cwd, env=env).stdout.decode().strip())
