"""The store at each commit of a range, read from git's objects in batches and each file parsed once.

What `replay.py` judges commit by commit: a state per commit, where a live file that is
missing reads as empty and a tree git would call broken is refused before anything is judged.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import OrderedDict
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple
from typing import TypeVar

from gitcoord import git
from gitcoord import history
from gitcoord import ids
from gitcoord import model
from gitcoord import records
from gitcoord import validation
from gitcoord.errors import FatalError
from gitcoord.findings import Finding
from gitcoord.model import Doc

K = TypeVar("K")
V = TypeVar("V")
Blobs = dict[str, str]  # store file (relative to coordination/) -> blob id: one state of the store
EMPTY: Blobs = {}


REGISTRY_PATH = f"{model.COORD_DIR}/{model.REGISTRY}"


class Standing(NamedTuple):
    """Where the authority over a change comes from, when the state it changes holds no store."""

    fresh: bool  # no store there, nor ever before: the store a change makes is a root of trust
    authority: Doc | None  # for a branch the store left (`coord migrate`), the registry it had last


class MalformedTree(FatalError):
    """A commit whose tree git itself would call broken: it cannot be judged, so it is refused."""

    kind = "invalid_store"


# File versions kept read and parsed: a commit's, its parents', a merge's base, with room to
# spare. A range is judged oldest first, so what one commit needs the next mostly needs too;
# keeping every version of a year of history would hold gigabytes of parsed JSON.
KEPT = 64
TREES = 8_192  # trees whose listing is kept: a few parts of a range (replay.PART) at once


class _Recent(OrderedDict[K, V]):
    """A mapping that forgets what was used least recently beyond `limit` entries."""

    def __init__(self, limit: int = KEPT) -> None:
        super().__init__()
        self.limit = limit

    def get_recent(self, key: K) -> V | None:
        found = self.get(key)
        if found is not None:
            self.move_to_end(key)
        return found

    def keep(self, key: K, value: V) -> V:
        self[key] = value
        if len(self) > self.limit:
            self.popitem(last=False)
        return value


class Loader:
    """Store states by commit, each file version parsed once while it is in use, so that a long
    range stays cheap in time and bounded in memory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._raw: _Recent[str, tuple[bytes | None]] = _Recent()
        self._parsed: _Recent[tuple[str, str], tuple[Doc | None, list[Finding]]] = _Recent()
        self._shard_ids: dict[tuple[str, str], Mapping[str, str]] = {}
        self._sound: set[str] = set()  # trees of a store found well formed, with every tree below
        self._sound_roots: set[str] = set()  # commits whose top tree was
        # The store files of each tree read: the parts of a range a check holds at once, and more.
        self._trees: _Recent[str, Blobs] = _Recent(TREES)
        self._latest: dict[tuple[str, str], dt.datetime | None] = {}
        self.dates: dict[str, int] = {}  # commit -> its committer date, as git.changes gives them
        self._standing: dict[str, Standing] = {}

    def at(self, commits: Sequence[str]) -> dict[str, Blobs]:
        """The store files of each commit, in two git calls for the trees and one per distinct tree."""
        specs = [f"{c}:{model.COORD_DIR}" for c in commits]
        stores = dict(zip(commits, git.tree_ids(self.root, specs), strict=True))
        self._unambiguous(stores)
        return {commit: self.tree(tree) if tree else EMPTY for commit, tree in stores.items()}

    def _unambiguous(self, stores: Mapping[str, str | None]) -> None:
        """Refuse a tree that reads one way listed and another way by path.

        The checker lists a commit's store; every reader (`COMMIT:coordination/FILE`, `git show`,
        the steps) looks a file up by its path, which git finds by a sorted search of each tree on
        the way. A tree that lists a name twice, holds an entry named `coordination/task-queue.json`
        beside the real directory, or lists its entries out of order (what `git fsck` calls
        duplicateEntries, fullPathname, treeNotSorted) would have the checker judge one file while
        everyone reads another. Where every tree on the way has unique names without a slash in
        git's order, the two ways agree: so each commit's top tree and every tree of its store must
        be so. Each tree is looked at once: a shard's day, once over, keeps its tree, and a year of
        shards is not read again for every commit.
        """
        roots = [c for c in stores if c not in self._sound_roots]
        for commit, entries in zip(roots, git.tree_listings(self.root, [f"{c}^{{tree}}" for c in roots]), strict=True):
            self._sound_tree(entries or [], commit, "its top tree")
            self._sound_roots.add(commit)
        pending = {t: (c, model.COORD_DIR) for c, t in stores.items() if t is not None and t not in self._sound}
        while pending:
            below: dict[str, tuple[str, str]] = {}
            for tree, entries in zip(pending, git.tree_listings(self.root, list(pending)), strict=True):
                commit, path = pending[tree]
                self._sound_tree(entries or [], commit, path)
                self._sound.add(tree)
                for mode, name, sha in entries or []:
                    if mode == _TREE and sha not in self._sound:
                        below.setdefault(sha, (commit, f"{path}/{name.decode('utf-8', 'replace')}"))
            pending = below

    @staticmethod
    def _sound_tree(entries: list[tuple[str, bytes, git.Sha]], commit: str, path: str) -> None:
        fault = _tree_fault(entries)
        if fault:
            raise MalformedTree(
                f"commit {commit[:12]}'s tree is malformed: {path} lists {fault}, so a file there reads differently "
                "by its path than in the tree's listing (`git fsck` reports it); such a commit is refused whoever "
                "made it"
            )

    def tree(self, tree: str) -> Blobs:
        found = self._trees.get_recent(tree)
        if found is None:
            found = {p: b for p, b in git.blobs_under(self.root, tree).items() if model.is_store_file(p)}
            self._trees.keep(tree, found)
        return found

    def standing(self, commit: str | None, state: State) -> Standing:
        """The authority over a change of `state`, the store at `commit`: its own registry's while
        it holds one; none at all before any registry was there (what comes is a root of trust);
        and where the store was deleted (moved to a branch of its own), the last registry it had,
        so that a store re-created there has no more authority than the one that left."""
        if commit is None or model.REGISTRY in state.blobs:
            return Standing(True, None)
        if commit not in self._standing:
            deleted = git.last_touched(self.root, git.Sha(commit), REGISTRY_PATH)
            before = f"{deleted}^"
            registry = self.state(self.at([before])[before]).get(model.REGISTRY) if deleted else None
            self._standing[commit] = Standing(deleted is None, registry)
        return self._standing[commit]

    def registry(self, commit: str, blobs: Blobs) -> Doc | None:
        """The registry whose keys and settings hold at `commit` (see `standing`)."""
        state = self.state(blobs)
        return state.get(model.REGISTRY) if model.REGISTRY in blobs else self.standing(commit, state).authority

    def committed(self, commit: str) -> dt.datetime | None:
        """When `commit` was committed (None for a date no calendar holds)."""
        if commit not in self.dates:
            self.dates.update(git.committer_times(self.root, [commit, "-n1"]))
        return instant(self.dates.get(commit, 0))

    def raw(self, blob: str | None) -> bytes | None:
        if blob is None or blob.startswith(git.LINK):
            return None
        found = self._raw.get_recent(blob)
        if found is None:
            found = self._raw.keep(blob, (git.read_blobs(self.root, [blob])[0],))
        return found[0]

    def parse(self, file: str, blob: str) -> tuple[Doc | None, list[Finding]]:
        key = (file, blob)
        found = self._parsed.get_recent(key)
        if found is None and blob.startswith(git.LINK):
            message = (
                f"{model.COORD_DIR}/{file} is a symbolic link, not a file: every checkout would hold a link "
                "where the JSON belongs; commit the file itself"
            )
            found = self._parsed.keep(key, (None, [Finding(file, (), "parse", message)]))
        if found is None:
            found = self._parsed.keep(key, validation.parse_findings(file, self.raw(blob)))
        return found

    def shard_ids(self, shard: str, blob: str) -> Mapping[str, str]:
        """The ids a usable shard holds, each with its record's status. A shard whose day is over
        never changes, so one blob stands in every commit after it: its ids are kept for the whole
        range, while the parsed documents are kept only for the latest few."""
        key = (shard, blob)
        if key not in self._shard_ids:
            doc = self.parse(shard, blob)[0] or {}
            self._shard_ids[key] = records.statuses(doc, model.COLLECTIONS[model.base(shard)])
        return self._shard_ids[key]

    def latest(self, file: str, blob: str, doc: Doc) -> dt.datetime | None:
        if (file, blob) not in self._latest:
            self._latest[(file, blob)] = history.latest(file, doc)
        return self._latest[(file, blob)]

    def state(self, blobs: Blobs) -> State:
        return State(self, blobs)


class State(Mapping[str, Doc]):
    """One state of the store, each file parsed on first use; a live file that is missing is empty."""

    def __init__(self, loader: Loader, blobs: Blobs) -> None:
        self.loader = loader
        self.blobs = blobs
        self.exists = any(f in blobs for f in model.FILES)

    def __getitem__(self, file: str) -> Doc:
        blob = self.blobs.get(file)
        if blob is None:
            if file in model.FILES or model.is_store_file(file):
                return model.empty_documents()[model.base(file)]
            raise KeyError(file)
        doc, _ = self.loader.parse(file, blob)
        if doc is None:
            raise KeyError(file)
        return doc

    def problems(self, file: str) -> list[Finding]:
        blob = self.blobs.get(file)
        if blob is None:
            return validation.parse_findings(file, None)[1] if self.exists and file in model.FILES else []
        return self.loader.parse(file, blob)[1]

    def usable(self, file: str) -> bool:
        """Whether the file can be read: it parses, or it is missing (and so empty)."""
        blob = self.blobs.get(file)
        return blob is None or self.loader.parse(file, blob)[0] is not None

    def __contains__(self, file: object) -> bool:
        # Only files that can be read: the checks skip what did not parse (and report it).
        return isinstance(file, str) and (file in model.FILES or file in self.blobs) and self.usable(file)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({*model.FILES, *self.blobs}))

    def __len__(self) -> int:
        return len({*model.FILES, *self.blobs})

    def latest(self) -> dt.datetime | None:
        """The latest time the live files record (`history.latest`), each file version read once."""
        moments = [self._latest(f) for f in model.FILES if f in self.blobs and f in self]
        return max((m for m in moments if m is not None), default=None)

    def _latest(self, file: str) -> dt.datetime | None:
        return self.loader.latest(file, self.blobs[file], self[file])

    def archives(self, kind: str, rid: str) -> str | None:
        """The status `rid` of `kind` has in the archive (None: not archived), looked up only in
        the shards dated after it was made."""
        shard = self.shard_of(kind, rid)
        return None if shard is None else self._ids_in(shard)[rid]

    def shard_of(self, kind: str, rid: str) -> str | None:
        """The first shard that holds `rid` of `kind` (None: not archived)."""
        coll = model.BY_KIND[kind]
        for shard in model.shards_from(self._shards, coll.file, ids.created(rid)):
            if rid in self._ids_in(shard):
                return shard
        return None

    @functools.cached_property
    def _shards(self) -> list[str]:
        return [f for f in self.blobs if model.is_shard(f)]

    def _ids_in(self, shard: str) -> Mapping[str, str]:
        return self.loader.shard_ids(shard, self.blobs[shard]) if self.usable(shard) else {}


_TREE = "40000"  # a directory's mode in a tree object
_MODES = frozenset({"100644", "100755", "120000", _TREE, "160000"})  # the modes git writes


def _tree_fault(entries: list[tuple[str, bytes, git.Sha]]) -> str | None:
    """What makes git's search by path miss an entry a listing shows, or read a directory the
    listing does not descend into: a mode git does not write (40755 is a directory to git), a
    name twice, a name with a slash, entries out of git's order (names compared as bytes, a
    directory's as if it ended in a slash)."""
    names: set[bytes] = set()
    last = b""
    for mode, name, _ in entries:
        if mode not in _MODES:  # git reads 40755 as a directory too: only its own modes are sound
            return f"an entry with mode {mode} ({name.decode('utf-8', 'replace')!r})"
        if not name or b"/" in name:
            return f"an entry named {name.decode('utf-8', 'replace')!r}"
        if name in names:
            return f"{name.decode('utf-8', 'replace')!r} twice"
        key = name + b"/" if mode == _TREE else name
        if key <= last:
            return f"its entries out of git's order (at {name.decode('utf-8', 'replace')!r})"
        names.add(name)
        last = key
    return None


def instant(seconds: int) -> dt.datetime | None:
    """A commit date as an instant; None where it lies outside the years a calendar can name."""
    try:
        return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
