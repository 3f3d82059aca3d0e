"""What each side of a merge brings, judged again under the authority of the line it joins.

Each commit was judged against its own parent; but any old commit can be a parent, so a side
branch grown from the past could carry a key since rotated, an unsigned commit from before
signatures were required, a record made again under an id the joined line holds, or a reclaim of
a holder who has checked in since. Such a commit cannot come in through a merge; and a sync asks
first which of its own commits the shared line would refuse (`void`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path

from gitcoord import authenticity
from gitcoord import git
from gitcoord import history
from gitcoord import merge
from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord.expected import of_parents
from gitcoord.expected import virtual_base
from gitcoord.findings import Finding
from gitcoord.judge import acting
from gitcoord.judge import dated_only
from gitcoord.judge import floor
from gitcoord.judge import registry_at
from gitcoord.judge import review
from gitcoord.model import Doc
from gitcoord.range_loader import EMPTY
from gitcoord.range_loader import Loader
from gitcoord.range_loader import State
from gitcoord.range_loader import instant


def crossed(
    loader: Loader, merge: git.Change, *, now: dt.datetime, judging: frozenset[str], line: str | None = None
) -> list[Finding]:
    """What each side of `merge` brings that the line it joins refuses: judged again with that
    line's settings, keys and latest presence (`history.overlay`), and, where both lines changed
    one record, each line's change of it as a change of the other's version (`_changed_since`).
    `judging`: the commits being judged; the others were shared, and judged, before. `line`: the
    store line's tip before them, where known (the gate's): a commit it does not hold was not shared
    on it, whatever branch or tag holds it (anyone who pushes can put a commit on one first)."""
    side, joined = sides(loader.root, merge, line)
    (found, stale), (back, stale_back) = (
        _brought_into(loader, a, b, now=now, judging=judging, line=line) for a, b in ((side, joined), (joined, side))
    )
    blamed, theirs = _blamed(stale, stale_back)
    crossings = found + back + _wrong(stale) + blamed + theirs
    return [_brought(f, c) for c, f in crossings]


def sides(root: Path, merge: git.Change, line: str | None) -> tuple[str, str]:
    """(the side, the line it joins) of a two-parent merge. Both are judged each way alike; which
    is which says only whose commits are named where a record both changed is refused. The line
    is the parent the store's line held, where that is known; else the second parent, as a sync
    merges the shared line into its own (`git pull` does the same)."""
    first, second = merge.parents[0], merge.parents[1]
    if line is not None and git.is_ancestor(root, git.Sha(first), git.Sha(line)):
        return second, first
    return first, second


def void(root: Path, mine: str, other: str, *, now: dt.datetime) -> list[tuple[git.Change, Finding]]:
    """What a merge of `mine` into `other` would bring that the line of `other` refuses (see
    `crossed`): each commit of `mine` made void since, with why. A sync asks before it merges.

    Where `other`'s change of a record, judged on `mine`'s version, is what the merge refuses (the
    human released a task this clone's holder has completed since), it is `mine`'s commits that
    changed that record that are void: the shared line's are shared already."""
    loader = Loader(root)
    ahead = git.changes(root, [mine, "--not", other])
    unshared = frozenset(c.sha for c in ahead)
    found, stale = _brought_into(loader, mine, other, now=now, judging=unshared, brought=ahead)
    if not stale:
        return found
    _, back = _brought_into(loader, other, mine, now=now, judging=unshared, only_stale=True)
    return found + _blamed(stale, back)[0] + _wrong(stale)


Key = tuple[str, str]  # a record: its file and id
# Each record a line changed that the other line changed too since: the commits that changed it,
# with what is wrong with each change judged on the other line's version (None: nothing).
Stale = dict[Key, list[tuple[git.Change, Finding | None]]]


def _wrong(stale: Stale) -> list[tuple[git.Change, Finding]]:
    return [(c, f) for each in stale.values() for c, f in each if f is not None]


def _blamed(stale: Stale, back: Stale) -> tuple[list[tuple[git.Change, Finding]], list[tuple[git.Change, Finding]]]:
    """What the joined line's change of a record is refused for, judged on the side's version of
    it: told of the side's commits that changed that record (the joined line is the one that
    stands), and apart, what is refused of a record the side did not change."""
    blamed: list[tuple[git.Change, Finding]] = []
    theirs: list[tuple[git.Change, Finding]] = []
    for key, each in back.items():
        said = next((f for _, f in each if f is not None), None)
        if said is None:
            continue
        if key in stale:
            message = f"the line it joins changed it since: {said.message}"
            blamed += [(c, said._replace(message=message)) for c, _ in stale[key]]
        else:
            theirs += [(c, f) for c, f in each if f is not None]
    return blamed, theirs


def _brought_into(
    loader: Loader,
    mine: str,
    other: str,
    *,
    now: dt.datetime,
    judging: frozenset[str],
    line: str | None = None,
    only_stale: bool = False,
    brought: list[git.Change] | None = None,
) -> tuple[list[tuple[git.Change, Finding]], Stale]:
    """The commits of `mine` (not in `other`) that break the rules under the authority of `other`'s line,
    and apart, what they did to records `other`'s line changed since (`_changed_since`).
    `brought`: those commits, when the caller has them already."""
    tip = loader.state(loader.at([other])[other])
    joined = tip.get(model.REGISTRY)
    stale: Stale = {}
    if joined is None or not tip.exists:
        return [], stale
    brought = git.changes(loader.root, [mine, "--not", other]) if brought is None else brought
    # The claims `other`'s line made in commits judged now, not shared before. A claim shared
    # before keeps its task against a new commit of `mine`, however early that claim says it is.
    claimed = functools.cache(lambda: _claims_made(loader, other, mine, judging, line))
    lines = functools.cache(lambda: _Lines(tip, _fork(loader, mine, other)))
    loader.dates.update({c.sha: c.committed for c in brought})
    at = loader.at(sorted({c.sha for c in brought} | {p for c in brought for p in c.parents}))
    # Merges on the side too: a merge nested there is judged against what the driver makes of
    # its parents, under the joined line's authority, like any commit it brings.
    changed = [c for c in brought if len(c.parents) in (1, 2) and any(at[p] != at[c.sha] for p in c.parents)]
    found: list[tuple[git.Change, Finding]] = []
    judged: list[git.Change] = []
    merged: dict[str, Doc | None] = {}
    for c in changed:
        new = loader.state(at[c.sha])
        old, problem = (
            of_parents(loader, c.parents, new) if len(c.parents) == 2 else (loader.state(at[c.parents[0]]), None)
        )
        when = instant(c.committed)
        if problem or when is None or not old.exists:
            continue  # judged on its own: refused, or a store made from nothing
        judged.append(c)
        if len(c.parents) == 2:
            merged[c.sha] = old.get(model.REGISTRY)
        authority = history.overlay(old.get(model.REGISTRY) or {}, joined)
        actor = c.instances[0] if len(c.instances) == 1 else None
        since = floor(loader, c, old)
        # A merge on the side too: what it adds beyond the driver's merge of its parents is
        # brought by no other commit.
        overtakes = functools.partial(_overtakes, functools.partial(_new, loader.root, c.sha, judging, line), claimed)
        for key, said in _changed_since(
            old, new, lines(), actor, when=when, now=now, authority=authority, overtakes=overtakes
        ):
            stale.setdefault(key, []).extend([(c, f) for f in said] or [(c, None)])
        if only_stale:
            continue
        found += [(c, f) for f in _recreated(old, new, tip)]
        found += [
            (c, f)
            for f in review(
                old, new, actor, when=when, now=now, invariant=False, event=c.event, authority=authority, since=since
            )
        ]
    judged = dated_only(judged)
    if not judged or only_stale:
        return found, stale
    joins = authenticity.Line(joined, _fork_registry(loader, mine, other))
    also: dict[str, authenticity.Line] = {c.sha: joins for c in judged}
    signed = authenticity.review(loader.root, judged, acting(judged), registry_at(loader, at), also=also, merged=merged)
    by_sha: dict[str, git.Change] = {c.sha: c for c in judged}
    return found + [(by_sha[f.commit], f) for f in signed], stale


def _recreated(old: State, new: State, joined: State) -> list[Finding]:
    """Records a commit creates whose id the line it joins already holds, live or archived, or that
    answer a thread it archived: ids are
    unique (random, for tasks, messages and decisions), so a side line grown from before a record
    existed may not make that id again, whoever made it first: a merge would then settle each of
    its fields either way (a question rewritten under its answer), or keep a live copy of an
    archived one. An instance's entry is its name: only one with another key is refused. Two
    records one maker wrote by hand under one id (the specification's sequential ids) are two
    records too: settling their fields either way would rewrite the first (a decision in force, a
    message sent), so the second takes a new id on its own line before the merge."""
    found: list[Finding] = []
    for file, coll in model.COLLECTIONS.items():
        if old.blobs.get(file) == new.blobs.get(file) or not (new.usable(file) and joined.usable(file)):
            continue
        before = records.by_id(old[file], coll) if old.usable(file) else {}
        held = records.by_id(joined[file], coll)
        for rid, record in sorted(records.by_id(new[file], coll).items()):
            if rid in before:
                continue
            if not coll.id_key:  # a name registered on both lines, with one key: the same instance
                again = rid in held and held[rid].get("signing_key") != record.get("signing_key")
            elif rid in held:
                again = held[rid] != record
            else:
                again = joined.archives(coll.kind, rid) is not None
            if again:
                message = (
                    f"{rid} exists, made before, on the line this merge joins; a side line may not make it "
                    "again: give the side line's record a new id there, then merge"
                )
                found.append(Finding(file, (), "history", message))
            asked = record.get("in_reply_to") if coll.kind == "message" else None
            if isinstance(asked, str) and asked not in held and joined.archives("message", asked) is not None:
                # As on the line itself (`record_changes.created`): an archived thread is over.
                message = f"{rid} answers {asked}, which the line this merge joins archived: its thread is closed"
                found.append(Finding(file, (), "authorization", message + "; send a new message"))
    return found


class _Lines:
    """The joined line's tip and the fork, with each file's records by id read once for all the
    commits a merge brings (a busy file changes on both lines, so nearly every commit asks)."""

    def __init__(self, joined: State, fork: State) -> None:
        self.joined, self.fork = joined, fork
        self._records: dict[str, tuple[dict[str, Doc], dict[str, Doc]]] = {}

    def records(self, file: str, coll: model.Collection) -> tuple[dict[str, Doc], dict[str, Doc]]:
        """The file's records on the joined line and at the fork (none there when it had no such file)."""
        if file not in self._records:
            held = records.by_id(self.joined[file], coll)
            base = records.by_id(self.fork[file], coll) if file in self.fork.blobs else {}
            self._records[file] = held, base
        return self._records[file]


def _changed_since(
    old: State,
    new: State,
    lines: _Lines,
    actor: str | None,
    *,
    when: dt.datetime,
    now: dt.datetime,
    authority: Doc,
    overtakes: Callable[[Key], bool],
) -> list[tuple[Key, list[Finding]]]:
    """A commit's change of records the joined line has changed since the fork, judged again as a
    change of the joined line's version: the commit's parent and the commit itself, each merged
    with the joined line by the driver's own merge (from the fork), by the commit's actor. Lawful
    against an old parent is not enough: a former holder completing a task the human has released
    since, a proposer deciding a decision escalated since, would otherwise win through the
    driver's policy ("further along wins"). A record the joined line archived may not be changed,
    nor one it changed be archived. Two claims of one open task are the driver's to settle: it
    keeps the loser in `contested`, its own field, and so tells it; but a new claim does not take a
    task from one shared before (`_raced`)."""
    joined, fork = lines.joined, lines.fork
    found: list[tuple[Key, list[Finding]]] = []
    for file, coll in model.COLLECTIONS.items():
        if not coll.id_key or new.blobs.get(file) == old.blobs.get(file):
            continue
        if joined.blobs.get(file) == fork.blobs.get(file):
            continue  # the joined line left the file as it was at the fork
        if not all(s.usable(file) for s in (old, new, joined)) or (file in fork.blobs and not fork.usable(file)):
            continue
        before, after = (records.by_id(s[file], coll) for s in (old, new))
        held, base = lines.records(file, coll)
        moved = {r for r in held.keys() | base.keys() if held.get(r) != base.get(r)}  # by the joined line
        for rid in sorted((before.keys() - after.keys()) & moved):
            if rid in held:
                message = f"{rid} was changed since on the line this merge joins; archive it again from there"
                found.append(((file, rid), [Finding(file, (), "history", message)]))
                continue
            here, there = new.shard_of(coll.kind, rid), joined.shard_of(coll.kind, rid)
            if here is not None and there is not None and here != there:  # both lines archived it, apart
                first, second = sorted((here, there))
                message = f"{rid} would be archived twice, in {first} and in {second}; a record is archived once"
                found.append(((file, rid), [Finding(file, (), "history", message)]))
        stale = [r for r in sorted(after) if r in before and after[r] != before[r] and r in moved]
        for rid in [r for r in stale if r not in held and joined.archives(coll.kind, r) is not None]:
            message = f"{rid} was archived on the line this merge joins; an archived record never changes"
            found.append(((file, rid), [Finding(file, (), "history", message)]))
        stale = [r for r in stale if r in held]
        if not stale:
            continue
        start = fork[file] if file in fork.blobs else None
        parent = merge.merge_file(model.base(file), start, joined[file], old[file]).doc
        merged = records.by_id(merge.merge_file(model.base(file), start, joined[file], new[file]).doc, coll)
        was = records.by_id(parent, coll)
        stale = [
            r
            for r in stale
            if not _raced((before[r], after[r], held[r], merged.get(r)), actor, functools.partial(overtakes, (file, r)))
        ]
        driver_only = rulebook.KINDS[coll.kind].merge_only
        registry = joined[model.REGISTRY]
        for rid in (r for r in stale if r in merged and r in was):
            record = {k: v for k, v in merged[rid].items() if k not in driver_only}
            record.update({k: was[rid][k] for k in driver_only if k in was[rid]})
            judged = history.check(
                {model.REGISTRY: registry, file: parent},
                {model.REGISTRY: registry, file: records.put(parent, coll, record)},
                actor,
                when=when,
                now=now,
                files=[file],
                fresh=False,
                authority=authority,
            )
            found.append(((file, rid), judged))
    return found


def _raced(versions: tuple[Doc, Doc, Doc, Doc | None], actor: str | None, overtakes: Callable[[], bool]) -> bool:
    """A claim of an open task that another instance claimed on the other line: the driver's to
    settle (it keeps the loser in `contested`). Unless the claim is new and would take the task
    from a claim shared before (`overtakes`, asked only of such a claim): then it is judged as taking the task from its
    holder, whatever time it says, for an old parent lends an early one to anybody. `versions`:
    the task before and after the claim, on the other line, and as the merge makes it."""
    before, after, held, merged = versions
    claims = before.get("status") == "pending_assignment" and after.get("status") == "assigned"
    if not claims or after.get("assigned_to") != actor or held.get("assigned_to") in (None, actor):
        return False
    return not overtakes() or (merged is not None and merged.get("assigned_to") == held.get("assigned_to"))


def _new(root: Path, sha: str, judging: frozenset[str], line: str | None) -> bool:
    """Whether a commit was not shared before: judged now, or not on the store line (see `crossed`)."""
    return sha in judging or (line is not None and not git.is_ancestor(root, git.Sha(sha), git.Sha(line)))


def _overtakes(new: Callable[[], bool], claimed: Callable[[], frozenset[Key]], key: Key) -> bool:
    """Whether a claim of the task `key` in a commit not shared before (`new`) would take it from a
    claim the joined line shared before: one not among those its new commits made."""
    return new() and key not in claimed()


def _claims_made(
    loader: Loader, other: str, mine: str, judging: frozenset[str], line: str | None = None
) -> frozenset[Key]:
    """The tasks whose holder a commit of `other`'s line (not in `mine`) not shared before (see
    `crossed`) set itself: set to a value none of its parents had. A claim a merge only carried
    from a parent is that parent's, shared before or judged in its own turn."""
    off_line = {c.sha for c in git.changes(loader.root, [other, "--not", mine, line])} if line else set()
    made = [c for c in git.changes(loader.root, [other, "--not", mine]) if c.sha in judging or c.sha in off_line]
    if not made:
        return frozenset()
    at = loader.at(sorted({c.sha for c in made} | {p for c in made for p in c.parents}))
    coll = model.COLLECTIONS[model.TASKS]
    found = set()
    for c in made:
        holders = [_holders(loader.state(at[s]), coll) for s in (c.sha, *c.parents)]
        mine_now, parents = holders[0], holders[1:]
        found |= {(model.TASKS, r) for r, h in mine_now.items() if all(p.get(r) != h for p in parents)}
    return frozenset(found)


def _holders(state: State, coll: model.Collection) -> dict[str, object]:
    if not state.usable(model.TASKS):
        return {}
    return {r: t.get("assigned_to") for r, t in records.by_id(state[model.TASKS], coll).items()}


def _fork(loader: Loader, mine: str, other: str) -> State:
    """The state where the two lines forked (for criss-cross history, their bases merged, as git does)."""
    bases = git.merge_bases(loader.root, git.Sha(mine), git.Sha(other))
    return virtual_base(loader, bases) if bases else loader.state(EMPTY)


def _fork_registry(loader: Loader, mine: str, other: str) -> Doc | None:
    """The registry where the two lines forked, when they forked at one commit that has one."""
    bases = git.merge_bases(loader.root, git.Sha(mine), git.Sha(other))
    if len(bases) != 1:
        return None
    return loader.state(loader.at(bases)[bases[0]]).get(model.REGISTRY)


def _brought(f: Finding, c: git.Change) -> Finding:
    return f._replace(commit="", message=f"{c.sha[:12]} ({c.subject}), which this merge brings in: {f.message}")
