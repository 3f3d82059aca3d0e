"""The store as of one commit or one directory, each file read and parsed only when asked for.

A task claim on a large store never parses the message log.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path

from gitcoord import git
from gitcoord import ids
from gitcoord import model
from gitcoord import records
from gitcoord.model import Doc
from gitcoord.store import reusable
from gitcoord.validation import InvalidStore
from gitcoord.validation import parse_findings

Reader = Callable[[list[str]], list["bytes | None"]]
Lister = Callable[[], list[str]]  # the archive shards a store has
Archives = Callable[[str, str], "str | None"]  # (kind, id): its status in the archive, None if not there


class Snapshot(Mapping[str, Doc]):
    """The store as of one commit (or one directory): file name -> document, loaded on first use."""

    def __init__(
        self, read: Reader, *, commit: git.Sha | None = None, strict: bool = True, shards: Lister | None = None
    ) -> None:
        self.commit = commit
        self._read = read
        self._shards = shards
        self._shard_list: list[str] | None = None
        self._strict = strict
        self._raw: dict[str, bytes | None] = {}
        self._docs: dict[str, Doc] = {}
        self._archives: Archives | None = None

    def prefetch(self, files: list[str]) -> None:
        wanted = [f for f in files if f not in self._raw]
        for file, data in zip(wanted, self._read(wanted), strict=True):
            self._raw[file] = data

    def raw(self, file: str) -> bytes | None:
        self.prefetch([file])
        return self._raw[file]

    def __getitem__(self, file: str) -> Doc:
        if file not in self._docs:
            if not model.is_store_file(file):
                raise KeyError(file)
            if model.is_shard(file) and self.raw(file) is None:
                self._docs[file] = model.empty_documents()[model.base(file)]  # nothing archived yet
                return self._docs[file]
            doc, findings = parse_findings(file, self.raw(file), strict=self._strict)
            if doc is None:
                raise InvalidStore(findings, _repair(self.commit))
            self._docs[file] = doc
        return self._docs[file]

    def shards(self) -> list[str]:
        """The archive shards of this store (listed on first use)."""
        if self._shard_list is None:
            self._shard_list = sorted(self._shards()) if self._shards else list(model.ARCHIVE_FILES)
        return self._shard_list

    def archives(self, kind: str, rid: str) -> str | None:
        """The status `rid` of `kind` has in the archive, None if it was not archived (see `archives_in`)."""
        if self._archives is None:
            self._archives = archives_in(self)
        return self._archives(kind, rid)

    def reuse(self, file: str) -> Mapping[int, str]:
        """The text of this snapshot's unchanged records, for writing `file` again."""
        if file not in self._docs:
            return {}
        return reusable(file, self.raw(file) or b"", self._docs[file])

    def parsed(self) -> frozenset[str]:
        """The files read so far as documents: what a reader that failed can have tripped over."""
        return frozenset(self._docs)

    # The keys are every file a snapshot answers for: the four files and the archive's shards
    # (a shard not written yet reads as empty), so that `in`, iteration and indexing agree.
    # `in` answers without reading: a snapshot reads a file only when asked for it.
    def __contains__(self, file: object) -> bool:
        return isinstance(file, str) and model.is_store_file(file)

    def __iter__(self) -> Iterator[str]:
        return iter([*model.FILES, *self.shards()])

    def __len__(self) -> int:
        return len(model.FILES) + len(self.shards())


def directory_reader(directory: Path) -> Reader:
    def read(files: list[str]) -> list[bytes | None]:
        found: list[bytes | None] = []
        for f in files:
            try:
                found.append((directory / f).read_bytes())
            except FileNotFoundError:
                found.append(None)
        return found

    return read


def directory_shards(directory: Path) -> Lister:
    def shards() -> list[str]:
        found = (p.relative_to(directory).as_posix() for p in (directory / model.ARCHIVE).rglob("*.json"))
        return [f for f in found if model.is_store_file(f)]

    return shards


def archives_in(state: Mapping[str, Doc]) -> Archives:
    """The status an id of a kind has in the archive of `state` (None: not archived): looked up
    only in the shards dated from the day the id was made (ids made here say when), each shard's
    ids read once (an unreadable shard holds none: validation reports it). A year of daily
    shards is never read whole for one reference."""
    shards = state.shards() if isinstance(state, Snapshot) else [f for f in state if model.is_shard(f)]
    held: dict[str, Mapping[str, str]] = {}

    def ids_in(shard: str, coll: model.Collection) -> Mapping[str, str]:
        if shard not in held:
            try:
                held[shard] = records.statuses(state[shard], coll) if shard in state else {}
            except InvalidStore:
                held[shard] = {}
        return held[shard]

    def archives(kind: str, rid: str) -> str | None:
        coll = model.BY_KIND[kind]
        for shard in model.shards_from(shards, coll.file, ids.created(rid)):
            found = ids_in(shard, coll).get(rid)
            if found is not None:
                return found
        return None

    return archives


def _repair(commit: git.Sha | None) -> str:
    """What to do about a store file that does not read."""
    if commit is None:
        return "Fix the file (`coord validate` lists every problem), then run the command again."
    # A commit on top cannot repair it: the hooks and the gate judge each change against its parent.
    return (
        f"It is committed so at {commit[:12]}, and a commit on top cannot repair it (each change is judged "
        "against its parent): take the commit that broke it off the branch, back to the last good one "
        "(`git log -p coordination/` shows it; `git reset --keep GOOD` where the branch is checked out, "
        "`git update-ref refs/heads/BRANCH GOOD` where it is not), then make the change again with coord."
    )
