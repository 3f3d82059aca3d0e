"""Every commit judged against its parent's state: the range check behind CI, the server's gate and sync.

No commit is skipped and no case switches the rules off. A file that is missing is an empty
document, so deleting the store or re-creating it is a change like any other; a root
commit is judged from the empty store; a merge is judged against what the merge driver
makes of its parents, so only what the person merging added needs their authority; an
octopus merge, or a merge of two stores created apart, that touches the coordination files
is refused. The acting instance is the one `Coord-Instance` trailer of the commit's own
trailer block, and the moment of the change is the commit's date, which may not lie in the
future of the checker's clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from gitcoord import authenticity
from gitcoord import git
from gitcoord import history
from gitcoord import ids
from gitcoord import invariants
from gitcoord import merge
from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord import validation
from gitcoord.errors import FatalError
from gitcoord.findings import Finding
from gitcoord.model import Doc

Blobs = dict[str, str]  # store file (relative to coordination/) -> blob id: one state of the store
EMPTY: Blobs = {}


class MalformedTree(FatalError):
    """A commit whose tree git itself would call broken: it cannot be judged, so it is refused."""

    kind = "invalid_store"


class Loader:
    """Store states by commit, parsed once per file version, so that a long range stays cheap."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._raw: dict[str, bytes | None] = {}
        self._parsed: dict[tuple[str, str], tuple[Doc | None, list[Finding]]] = {}
        self._trees: dict[str, Blobs] = {}
        self.dates: dict[str, int] = {}  # commit -> its committer date, as git.changes gives them

    def at(self, commits: Sequence[str]) -> dict[str, Blobs]:
        """The store files of each commit, in two git calls for the trees and one per distinct tree."""
        specs = [f"{c}:{model.COORD_DIR}" for c in commits]
        found = {}
        for commit, tree in zip(commits, git.tree_ids(self.root, specs), strict=True):
            found[commit] = self.tree(tree) if tree else EMPTY
        self._unambiguous(found)
        return found

    def _unambiguous(self, found: dict[str, Blobs]) -> None:
        """Refuse a tree that reads one way listed and another way by path.

        The checker lists a commit's store; every reader (`COMMIT:coordination/FILE`, `git show`,
        the steps) looks a file up by its path. A tree that lists a name twice, or holds an entry
        named `coordination/task-queue.json` beside the real directory (what `git fsck` calls
        duplicateEntries, fullPathname, treeNotSorted), would have the checker judge one file
        while everyone reads another. So both ways must agree, for every store file.
        """
        wanted = [(c, f) for c, blobs in found.items() for f in sorted({*model.FILES, *blobs})]
        looked = git.blob_ids(self.root, [f"{c}:{model.COORD_DIR}/{f}" for c, f in wanted])
        for (commit, file), by_path in zip(wanted, looked, strict=True):
            if by_path != found[commit].get(file):
                raise MalformedTree(
                    f"commit {commit[:12]}'s tree is malformed: {model.COORD_DIR}/{file} reads differently by "
                    "its path than in the tree's listing (a duplicate or misplaced entry, as `git fsck` reports); "
                    "such a commit is refused whoever made it"
                )

    def tree(self, tree: str) -> Blobs:
        if tree not in self._trees:
            self._trees[tree] = {p: b for p, b in git.blobs_under(self.root, tree).items() if model.is_store_file(p)}
        return self._trees[tree]

    def committed(self, commit: str) -> dt.datetime | None:
        """When `commit` was committed (None for a date no calendar holds)."""
        if commit not in self.dates:
            self.dates.update(git.committer_times(self.root, [commit, "-n1"]))
        return instant(self.dates.get(commit, 0))

    def raw(self, blob: str | None) -> bytes | None:
        if blob is None:
            return None
        if blob not in self._raw:
            [self._raw[blob]] = git.read_blobs(self.root, [blob])
        return self._raw[blob]

    def prefetch(self, blobs: Sequence[str]) -> None:
        wanted = sorted({b for b in blobs if b not in self._raw})
        for blob, data in zip(wanted, git.read_blobs(self.root, wanted), strict=True):
            self._raw[blob] = data

    def parse(self, file: str, blob: str) -> tuple[Doc | None, list[Finding]]:
        key = (file, blob)
        if key not in self._parsed:
            self._parsed[key] = validation.parse_findings(file, self.raw(blob))
        return self._parsed[key]

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

    def archives(self, kind: str, rid: str) -> bool:
        """Whether `rid` of `kind` was archived: looked up only in the shards dated after it was made."""
        coll = model.BY_KIND[kind]
        shards = [f for f in self.blobs if model.is_shard(f)]
        for shard in model.shards_from(shards, coll.file, ids.created(rid)):
            if self.usable(shard) and any(r == rid for r, _, _ in records.iter_records(self[shard], coll)):
                return True
        return False

    def archived(self, kind: str) -> frozenset[str]:
        """The ids of `kind` in this state's archive shards (read only when a reference needs them)."""
        coll = model.BY_KIND[kind]
        ids: set[str] = set()
        for file in self.blobs:
            if model.is_shard(file) and model.base(file) == coll.file and self.usable(file):
                ids.update(records.by_id(self[file], coll))
        return frozenset(ids)


class Verdict(NamedTuple):
    commits: int
    findings: list[Finding]
    subjects: dict[str, str]  # commit -> its subject line
    touched: frozenset[str] = frozenset()  # the commits that changed the store


def check_range(root: Path, revisions: Sequence[str], *, now: dt.datetime) -> Verdict:
    """Judge every commit of `revisions` (oldest first) against its parents' states, and its signature."""
    commits = git.changes(root, revisions)
    loader = Loader(root)
    loader.dates.update({c.sha: c.committed for c in commits})
    wanted = sorted({c.sha for c in commits} | {p for c in commits for p in c.parents})
    at = loader.at(wanted)
    touched = [c for c in commits if not c.parents or any(at[p] != at[c.sha] for p in c.parents)]
    findings: list[Finding] = []
    for c in touched:
        findings += [f._replace(commit=c.sha) for f in judge_commit(loader, c, at, now=now)]
        if len(c.parents) == 2:
            findings += [f._replace(commit=c.sha) for f in _crossed(loader, c, now=now)]
    findings += authenticity.review(root, touched, _acting(touched), _registry_at(loader, at))
    subjects: dict[str, str] = {c.sha: c.subject for c in commits}
    return Verdict(len(commits), findings, subjects, frozenset(c.sha for c in touched))


def _registry_at(loader: Loader, at: dict[str, Blobs]) -> Callable[[str], Doc | None]:
    return lambda sha: loader.state(at[sha]).get(model.REGISTRY)


def _acting(commits: Sequence[git.Change]) -> dict[str, authenticity.Acting]:
    return {c.sha: authenticity.Acting(c.instances[0] if len(c.instances) == 1 else None, c.instances) for c in commits}


def _crossed(loader: Loader, merge: git.Change, *, now: dt.datetime) -> list[Finding]:
    """What each side of a merge brings, judged again under the authority of the line it joins.

    Each commit was judged against its own parent; but any old commit can be a parent, so a
    side branch grown from the past could carry a key since rotated, an unsigned commit from
    before signatures were required, or a reclaim of a holder who has checked in since. Judged
    again here with the joined line's settings, keys and latest presence (`history.overlay`),
    such a commit cannot come in through a merge.
    """
    findings: list[Finding] = []
    tips = loader.at(list(merge.parents))
    for mine, other in ((merge.parents[1], merge.parents[0]), (merge.parents[0], merge.parents[1])):
        joined = loader.state(tips[other]).get(model.REGISTRY)
        if joined is None or not loader.state(tips[other]).exists:
            continue
        brought = git.changes(loader.root, [mine, "--not", other])
        at = loader.at(sorted({c.sha for c in brought} | {p for c in brought for p in c.parents}))
        judged = [c for c in brought if len(c.parents) == 1 and at[c.parents[0]] != at[c.sha]]
        for c in judged:
            old, new = loader.state(at[c.parents[0]]), loader.state(at[c.sha])
            if not old.exists:
                continue
            authority = history.overlay(old.get(model.REGISTRY) or {}, joined)
            actor = c.instances[0] if len(c.instances) == 1 else None
            when = instant(c.committed)
            if when is None:
                continue  # judged on its own as a commit with no date
            found = review(old, new, actor, when=when, now=now, invariant=False, event=c.event, authority=authority)
            findings += [_brought(f, c) for f in found]
        also: dict[str, Doc | None] = {c.sha: joined for c in judged}
        signed = authenticity.review(loader.root, judged, _acting(judged), _registry_at(loader, at), also=also)
        findings += [_brought(f, next(c for c in judged if c.sha == f.commit)) for f in signed]
    return findings


def _brought(f: Finding, c: git.Change) -> Finding:
    return f._replace(commit="", message=f"{c.sha[:12]} ({c.subject}), which this merge brings in: {f.message}")


def instant(seconds: int) -> dt.datetime | None:
    """A commit date as an instant; None where it lies outside the years a calendar can name."""
    try:
        return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def judge_commit(loader: Loader, c: git.Change, at: dict[str, Blobs], *, now: dt.datetime) -> list[Finding]:
    when = instant(c.committed)
    if when is None:
        return [Finding(model.REGISTRY, (), "time", f"the commit's date ({c.committed} s) lies outside any calendar")]
    findings = list(_dated(c, when, now))  # its trailers and its signature: `authenticity`
    actor = c.instances[0] if len(c.instances) == 1 else None
    new = loader.state(at[c.sha])
    if len(c.parents) > 2:
        return [
            *findings,
            Finding(
                model.REGISTRY,
                (),
                "merge",
                "an octopus merge may not change the coordination files; merge one branch at a time",
            ),
        ]
    if len(c.parents) == 2:
        old, problem = _expected(loader, c.parents, new)
        if problem:
            return [*findings, problem]
    else:
        old = loader.state(at[c.parents[0]]) if c.parents else loader.state(EMPTY)
    fresh = not c.parents or old.exists or not git.ever_touched(loader.root, c.parents[0], _REGISTRY_PATH)
    since = loader.committed(c.parents[0]) if len(c.parents) == 1 else None
    return findings + review(old, new, actor, when=when, now=now, fresh=fresh, event=c.event, since=since)


# A store that existed once and was deleted is not fresh: re-creating it is not a new root of trust.
_REGISTRY_PATH = f"{model.COORD_DIR}/{model.REGISTRY}"


def _dated(c: git.Change, when: dt.datetime, now: dt.datetime) -> Iterator[Finding]:
    if when > now + rulebook.SKEW:
        message = f"the commit is dated {timestamps.format(when)}, after the checker's clock ({timestamps.format(now)})"
        yield Finding(model.REGISTRY, (), "time", message)


def review(
    old: State,
    new: State,
    actor: str | None,
    *,
    when: dt.datetime,
    now: dt.datetime,
    invariant: bool = True,
    fresh: bool = True,
    event: str | None = None,
    authority: Doc | None = None,
    since: dt.datetime | None = None,
) -> list[Finding]:
    """What is wrong with the state `new`, and with the change that made it from `old`."""
    files = sorted(f for f in {*old.blobs, *new.blobs} if old.blobs.get(f) != new.blobs.get(f))
    if not files:
        return []
    found = [p for f in files for p in new.problems(f)]
    usable = [f for f in files if new.usable(f)]
    unjudged = [f for f in files if f in old.blobs and not old.usable(f)]
    for file in unjudged:
        message = f"{file} does not parse in the parent, so this change cannot be judged; repair the parent first"
        found.append(Finding(file, (), "history", message))
    live = [f for f in usable if not model.is_shard(f)]
    problems = invariants.check(new, files=live, archived=new.archived) if invariant else []
    judged = [f for f in usable if f not in unjudged]
    problems += history.check(
        old, new, actor, when=when, now=now, files=judged, fresh=fresh, event=event, authority=authority, since=since
    )
    for file in sorted({f.file for f in problems}):
        raw = new.loader.raw(new.blobs.get(file)) or b""
        found += validation.locate_findings(file, raw, [f for f in problems if f.file == file])
    return found


def _expected(loader: Loader, parents: Sequence[str], actual: State) -> tuple[State, Finding | None]:
    """What the merge driver makes of the two parents (the state a merge commit is judged against)."""
    root = loader.root
    sides = loader.at(list(parents))
    ours, theirs = (loader.state(sides[p]) for p in parents)
    bases = git.merge_bases(root, git.Sha(parents[0]), git.Sha(parents[1]))
    if not bases:
        if ours.exists and theirs.exists:
            return ours, Finding(
                model.REGISTRY, (), "merge", "this merges two unrelated histories that each hold a store; refused"
            )
        return (ours if ours.exists else theirs), None
    base = _virtual_base(loader, bases)
    if not base.exists and ours.exists and theirs.exists:
        return ours, Finding(model.REGISTRY, (), "merge", "this merges two stores created apart; refused")
    merged = _merge_states(base, ours, theirs, actual)
    return merged, None


def _virtual_base(loader: Loader, bases: Sequence[str]) -> State:
    """The merge base, or for criss-cross history the bases merged with each other, as git does."""
    states = [loader.state(b) for b in loader.at(list(bases)).values()]
    merged = states[0]
    for other in states[1:]:
        inner = git.merge_bases(loader.root, git.Sha(bases[0]), git.Sha(bases[1]))
        merged = _merge_states(_virtual_base(loader, inner) if inner else loader.state(EMPTY), merged, other, None)
    return merged


class Merged(State):
    """A state computed by merging, not read from a commit."""

    def __init__(self, loader: Loader, docs: dict[str, Doc], blobs: Blobs) -> None:
        super().__init__(loader, blobs)
        self.docs = docs

    def __getitem__(self, file: str) -> Doc:
        if file in self.docs:
            return self.docs[file]
        return super().__getitem__(file)

    def usable(self, file: str) -> bool:
        return file in self.docs or super().usable(file)


def _merge_states(base: State, ours: State, theirs: State, actual: State | None) -> State:
    docs: dict[str, Doc] = {}
    blobs: Blobs = {}
    for file in sorted({*ours.blobs, *theirs.blobs}):
        o, t, b = ours.blobs.get(file), theirs.blobs.get(file), base.blobs.get(file)
        if t in (o, b):
            chosen = o
        elif o == b:
            chosen = t
        else:
            chosen = None
        if chosen is not None:
            blobs[file] = chosen
            continue
        if not (ours.usable(file) and theirs.usable(file) and base.usable(file)):
            blobs[file] = o or t or ""
            continue
        doc = merge.merge_file(model.base(file), base[file] if b else None, ours[file], theirs[file]).doc
        docs[file] = _settled(file, doc, actual[file]) if actual is not None and actual.usable(file) else doc
        blobs[file] = f"merged:{file}"
    return Merged(ours.loader, docs, blobs)


def _settled(file: str, doc: Doc, actual: Doc) -> Doc:
    """The driver's result with each conflict settled as `actual` settled it (to one of its candidates)."""
    coll = model.COLLECTIONS[model.base(file)]
    conflicts = doc.get("merge_conflicts", [])
    if not conflicts:
        return doc
    doc = {k: v for k, v in doc.items() if k != "merge_conflicts"}
    if "merge_conflicts" in actual:
        doc["merge_conflicts"] = actual["merge_conflicts"]
    mine = records.by_id(actual, coll)
    for c in conflicts:
        record, found = records.get({coll.file: doc}, coll.kind, c["record"]), mine.get(c["record"])
        if record is not None and found is not None and merge.chosen(c, found):
            value = (
                found.get(c["field"])
                if c["field"] != "outcome"
                else {f: found[f] for f in merge.OUTCOME_FIELDS if f in found}
            )
            rid = c["record"] if not coll.id_key else None
            doc = records.put(doc, coll, merge.settle(record, c, value), rid)
    return doc
