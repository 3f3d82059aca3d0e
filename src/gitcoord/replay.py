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
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from gitcoord import authenticity
from gitcoord import git
from gitcoord import history
from gitcoord import invariants
from gitcoord import merge
from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord import validation
from gitcoord.findings import Finding
from gitcoord.model import Doc
from gitcoord.range_loader import EMPTY
from gitcoord.range_loader import Blobs
from gitcoord.range_loader import Loader
from gitcoord.range_loader import Standing
from gitcoord.range_loader import State
from gitcoord.range_loader import instant


class Verdict(NamedTuple):
    commits: int
    findings: list[Finding]
    subjects: dict[str, str]  # commit -> its subject line
    touched: frozenset[str] = frozenset()  # the commits that changed the store
    roots: frozenset[str] = frozenset()  # the commits that made a store from nothing: roots of trust


def check_range(root: Path, revisions: Sequence[str], *, now: dt.datetime, joins: Doc | None = None) -> Verdict:
    """Judge every commit of `revisions` (oldest first) against its parents' states, and its signature.

    `joins`: the registry of the store's own line, which commits kept beside it (another branch, a
    tag) answer to as well: a key that line has rotated out no longer signs there, from an old parent."""
    commits = git.changes(root, revisions)
    loader = Loader(root)
    loader.dates.update({c.sha: c.committed for c in commits})
    wanted = sorted({c.sha for c in commits} | {p for c in commits for p in c.parents})
    at = loader.at(wanted)
    beside = _beside_store(loader, commits, at)
    touched = [c for c in commits if not c.parents or any(at[p] != at[c.sha] for p in c.parents) or c.sha in beside]
    findings: list[Finding] = []
    # For each merge, the registry the driver makes of its parents, which its signature answers to.
    # Only that is kept of what a merge is judged against: a year of merges would fill the memory.
    merged: dict[str, Doc | None] = {}
    for c in touched:
        base = _expected(loader, c.parents, loader.state(at[c.sha])) if len(c.parents) == 2 else None
        findings += [f._replace(commit=c.sha) for f in judge_commit(loader, c, at, now=now, base=base)]
        if base is not None:
            merged[c.sha] = base[0].get(model.REGISTRY)
            findings += [f._replace(commit=c.sha) for f in _crossed(loader, c, now=now)]
        if c.sha in beside:
            old = base[0] if base is not None else loader.state(at[c.parents[0]])
            actor = c.instances[0] if len(c.instances) == 1 else None
            when = instant(c.committed) or now
            found = history.beside_store(old, actor, beside[c.sha], when=when)
            findings += [f._replace(commit=c.sha) for f in found]
    dated = _dated_only(touched)
    # Only a commit made on a store answers to that line (one with no store before it makes a root, judged as such).
    beside_line: dict[str, authenticity.Line] | None = None
    if joins is not None:
        on_store = [c for c in dated if any(loader.registry(p, at[p]) is not None for p in c.parents)]
        beside_line = {c.sha: authenticity.Line(joins) for c in on_store}
    findings += authenticity.review(
        root, dated, _acting(dated), _registry_at(loader, at), merged=merged, also=beside_line
    )
    # Oldest commit first, and within one who acted before what they did: a forged record is
    # first of all a commit its signer had no right to make.
    order: dict[str, int] = {c.sha: n for n, c in enumerate(commits)}
    findings.sort(key=lambda f: (order.get(f.commit, len(order)), f.rule not in ("signature", "trailer")))
    subjects: dict[str, str] = {c.sha: c.subject for c in commits}
    return Verdict(len(commits), findings, subjects, frozenset(c.sha for c in touched), _roots(loader, touched, at))


def _roots(loader: Loader, commits: Sequence[git.Change], at: dict[str, Blobs]) -> frozenset[str]:
    """The commits that make a registry where no parent had one, nor ever had: each a root of trust
    (a merge too: one with a code-only commit can bring a whole store)."""
    found = set()
    for c in commits:
        if model.REGISTRY not in at[c.sha]:
            continue
        parents: list[tuple[str | None, State]] = [(p, loader.state(at[p])) for p in c.parents]
        if all(model.REGISTRY not in s.blobs and loader.standing(p, s).fresh for p, s in parents):
            found.add(c.sha)
    return frozenset(found)


def _beside_store(loader: Loader, commits: Sequence[git.Change], at: dict[str, Blobs]) -> dict[str, list[str]]:
    """The top-level paths beside coordination/ that each commit changes on a store's own branch
    (a parent state that names it in `settings.store_branch`); a merge changes those it takes
    from none of its parents on that branch."""
    owners = {c.sha: [p for p in c.parents if _own_branch(loader.state(at[p]))] for c in commits}
    on_own = [c for c in commits if owners[c.sha]]
    bases = {c.sha: git.merge_base(loader.root, *owners[c.sha]) for c in on_own if len(owners[c.sha]) == 2}
    wanted = {c.sha for c in on_own} | {p for c in on_own for p in owners[c.sha]} | {b for b in bases.values() if b}
    shas = sorted(wanted)
    tops = _with_foreign(
        loader.root, dict(zip(shas, git.top_entries(loader.root, [git.Sha(s) for s in shas]), strict=True))
    )
    found: dict[str, list[str]] = {}
    for c in on_own:
        # Only the parents on the store's branch count: a merge with a code-only commit does not
        # bring that commit's hooks in unjudged.
        mine, theirs = tops[c.sha] or {}, [tops[p] or {} for p in owners[c.sha]]
        names = {*mine, *(n for t in theirs for n in t)} - {model.COORD_DIR}
        if len(theirs) == 2:  # a merge on the branch: what a clean merge of the two gives is unchanged
            at_base = bases[c.sha]
            base = (tops.get(at_base) if at_base else None) or {}
            changed = sorted(n for n in names if mine.get(n) != _clean(base.get(n), *(t.get(n) for t in theirs)))
        else:
            changed = sorted(n for n in names if theirs[0].get(n) != mine.get(n))
        if changed:
            found[c.sha] = changed
    return found


Tops = dict[str, dict[str, git.Sha] | None]  # commit -> its top-level entries (None: not here)


def _with_foreign(root: Path, tops: Tops) -> Tops:
    """Each commit's top-level entries, with what lies in coordination/ beside the store's own files
    (attributes, prompts, data: none of it judged as the store is) by its path: on the store's own
    branch that is the human's alone, as what lies beside coordination/ is."""
    trees: dict[str, dict[str, git.Sha] | None] = {}  # tree -> its entries (None: not a tree)
    pending = {(t[model.COORD_DIR], "") for t in tops.values() if t and model.COORD_DIR in t}
    while pending:  # read, a level at a time, coordination/ and the archive's folders
        wanted = sorted({tree for tree, _ in pending} - trees.keys())
        trees.update(zip(wanted, git.top_entries(root, [git.Sha(t) for t in wanted]), strict=True))
        pending = {
            (entry, f"{prefix}{name}/")
            for tree, prefix in pending
            for name, entry in (trees[tree] or {}).items()
            if _folder(prefix + name) and entry not in trees
        }

    def foreign(tree: str, prefix: str) -> dict[str, git.Sha]:
        found: dict[str, git.Sha] = {}
        for name, entry in (trees.get(tree) or {}).items():
            path = prefix + name
            if model.is_store_file(path):
                continue
            if _folder(path) and trees.get(entry) is not None:
                found.update(foreign(entry, path + "/"))
            else:
                found[f"{model.COORD_DIR}/{path}"] = entry
        return found

    return {
        sha: t and {**t, **(foreign(t[model.COORD_DIR], "") if model.COORD_DIR in t else {})} for sha, t in tops.items()
    }


def _folder(path: str) -> bool:
    """archive/ and its archive/YYYY/MM/DD/ folders, which hold the shards."""
    parts = path.split("/")
    return parts[0] == model.ARCHIVE and len(parts) <= 4 and all(p.isdigit() for p in parts[1:])


_CONFLICT = git.Sha("")  # no entry a merge could take unjudged: both sides changed it


def _clean(base: git.Sha | None, ours: git.Sha | None, theirs: git.Sha | None) -> git.Sha | None:
    """The entry a three-way merge takes without a person: a side that changed it, over one that did
    not. A merge that takes an old version back (its other parent an ancestor) changes it."""
    if theirs in (ours, base):
        return ours
    if ours == base:
        return theirs
    return _CONFLICT


def _own_branch(state: State) -> bool:
    registry = state.get(model.REGISTRY)
    return registry is not None and model.settings_of(registry).store_branch is not None


def _dated_only(commits: Sequence[git.Change]) -> list[git.Change]:
    """The commits whose signatures git can verify. For a commit dated outside any calendar (refused for
    that on its own) git hands ssh-keygen a time it cannot read, and dies of a broken pipe now and then."""
    return [c for c in commits if instant(c.committed) is not None]


def _registry_at(loader: Loader, at: dict[str, Blobs]) -> Callable[[str], Doc | None]:
    return lambda sha: loader.registry(sha, at[sha])


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
    mine, other = merge.parents[1], merge.parents[0]
    crossings = _brought_into(loader, mine, other, now=now) + _brought_into(loader, other, mine, now=now)
    return [_brought(f, c) for c, f in crossings]


def void(root: Path, mine: str, other: str, *, now: dt.datetime) -> list[tuple[git.Change, Finding]]:
    """What a merge of `mine` into `other` would bring that the line of `other` refuses (see
    `_crossed`): each commit of `mine` made void since, with why. A sync asks before it merges."""
    return _brought_into(Loader(root), mine, other, now=now)


def _brought_into(loader: Loader, mine: str, other: str, *, now: dt.datetime) -> list[tuple[git.Change, Finding]]:
    """The commits of `mine` (not in `other`) that break the rules under the authority of `other`'s line."""
    tip = loader.state(loader.at([other])[other])
    joined = tip.get(model.REGISTRY)
    if joined is None or not tip.exists:
        return []
    brought = git.changes(loader.root, [mine, "--not", other])
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
            _expected(loader, c.parents, new) if len(c.parents) == 2 else (loader.state(at[c.parents[0]]), None)
        )
        when = instant(c.committed)
        if problem or when is None or not old.exists:
            continue  # judged on its own: refused, or a store made from nothing
        judged.append(c)
        if len(c.parents) == 2:
            merged[c.sha] = old.get(model.REGISTRY)
        authority = history.overlay(old.get(model.REGISTRY) or {}, joined)
        actor = c.instances[0] if len(c.instances) == 1 else None
        since = _floor(loader, c, old)
        found += [(c, f) for f in _recreated(old, new, tip)]
        found += [
            (c, f)
            for f in review(
                old, new, actor, when=when, now=now, invariant=False, event=c.event, authority=authority, since=since
            )
        ]
    judged = _dated_only(judged)
    if not judged:
        return found
    line = authenticity.Line(joined, _fork_registry(loader, mine, other))
    also: dict[str, authenticity.Line] = {c.sha: line for c in judged}
    signed = authenticity.review(
        loader.root, judged, _acting(judged), _registry_at(loader, at), also=also, merged=merged
    )
    by_sha: dict[str, git.Change] = {c.sha: c for c in judged}
    return found + [(by_sha[f.commit], f) for f in signed]


def _recreated(old: State, new: State, joined: State) -> list[Finding]:
    """Records a commit creates whose id the line it joins already holds: ids are unique, so a
    side line grown from before a record existed may not make that id again (a merge would then
    settle each of its fields either way, and mix a record nobody made)."""
    found: list[Finding] = []
    for file, coll in model.COLLECTIONS.items():
        if old.blobs.get(file) == new.blobs.get(file) or not (new.usable(file) and joined.usable(file)):
            continue
        before = records.by_id(old[file], coll) if old.usable(file) else {}
        held = records.by_id(joined[file], coll)
        made = records.by_id(new[file], coll)
        # Who made it: its actor fields (an instance's own key, for the registry's entries).
        fields = ("signing_key",) if not coll.id_key else sorted(rulebook.KINDS[coll.kind].actors)
        for rid in sorted(made.keys() - before.keys()):
            if rid in held and any(held[rid].get(f) != made[rid].get(f) for f in fields):
                message = f"{rid} exists, made by another, on the line this merge joins; a side line may not make it"
                found.append(Finding(file, (), "history", message))
    return found


def _fork_registry(loader: Loader, mine: str, other: str) -> Doc | None:
    """The registry where the two lines forked, when they forked at one commit that has one."""
    bases = git.merge_bases(loader.root, git.Sha(mine), git.Sha(other))
    if len(bases) != 1:
        return None
    return loader.state(loader.at(bases)[bases[0]]).get(model.REGISTRY)


def _brought(f: Finding, c: git.Change) -> Finding:
    return f._replace(commit="", message=f"{c.sha[:12]} ({c.subject}), which this merge brings in: {f.message}")


def judge_commit(
    loader: Loader,
    c: git.Change,
    at: dict[str, Blobs],
    *,
    now: dt.datetime,
    base: tuple[State, Finding | None] | None = None,
) -> list[Finding]:
    """What is wrong with one commit; `base`, for a merge, is what `_expected` makes of its parents."""
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
        old, problem = base or _expected(loader, c.parents, new)
        if problem:
            return [*findings, problem]
    else:
        old = loader.state(at[c.parents[0]]) if c.parents else loader.state(EMPTY)
    standing = _standing(loader, c, at, old)
    if not standing.fresh and model.REGISTRY not in old.blobs and model.REGISTRY in new.blobs:
        message = (
            "the store left this branch (coord migrate) and does not come back to it: a store made here again "
            "would govern itself from its first commit on; coordinate on the branch it moved to"
        )
        findings.append(Finding(model.REGISTRY, (), "recreated", message))
    since = _floor(loader, c, old)
    if since is not None and when < since - rulebook.SKEW:
        message = (
            f"the commit is dated {timestamps.format(when)}, before the state it changes ({timestamps.format(since)})"
        )
        findings.append(Finding(model.REGISTRY, (), "time", message))
    return findings + review(
        old,
        new,
        actor,
        when=when,
        now=now,
        fresh=standing.fresh,
        event=c.event,
        authority=standing.authority,
        since=since,
    )


def _standing(loader: Loader, c: git.Change, at: dict[str, Blobs], old: State) -> Standing:
    """The authority over a commit's change of `old`: for a merge, the strongest any parent has, so
    that a merge with a code-only commit cannot make a store where one left a new root of trust."""
    if len(c.parents) < 2 or model.REGISTRY in old.blobs:
        return loader.standing(c.parents[0] if c.parents else None, old)
    held = [loader.standing(p, loader.state(at[p])) for p in c.parents]
    return next((s for s in held if not s.fresh), held[0])


def _floor(loader: Loader, c: git.Change, old: State) -> dt.datetime | None:
    """The earliest moment a commit may write: never before the latest time the state it changes
    records, which no unjudged commit can move (an empty commit dated in the past, put in as the
    parent, lowers only the parent's date), nor before its parent's date where that is not ahead of
    its own. An empty commit dated in the future is not judged, so it must not raise the floor
    for every commit after it: past it, the state's own latest time holds."""
    dated = loader.committed(c.parents[0]) if len(c.parents) == 1 else None
    own = instant(c.committed)
    if dated is not None and own is not None and dated > own + rulebook.SKEW:
        dated = None
    moments = [m for m in (dated, old.latest()) if m is not None]
    return max(moments, default=None)


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

    def _latest(self, file: str) -> dt.datetime | None:
        return history.latest(file, self.docs[file]) if file in self.docs else super()._latest(file)


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
