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
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from gitcoord import archive_wait
from gitcoord import authenticity
from gitcoord import git
from gitcoord import history
from gitcoord import model
from gitcoord.crossing import crossed
from gitcoord.crossing import sides
from gitcoord.expected import of_parents
from gitcoord.findings import Finding
from gitcoord.judge import acting
from gitcoord.judge import dated_only
from gitcoord.judge import judge_commit
from gitcoord.judge import registry_at
from gitcoord.model import Doc
from gitcoord.range_loader import Blobs
from gitcoord.range_loader import Loader
from gitcoord.range_loader import State
from gitcoord.range_loader import instant


class Published(NamedTuple):
    """A commit that sets who the human coordinator is (a key, a name) where its parents' stores held no
    human key: before signatures count, anyone can. Only a key told out of band can tell (`trust`)."""

    commit: str
    key: str | None  # the human key it leaves (None: none, a rename alone)
    was: tuple[str, ...]  # the human coordinator its parents named
    name: str  # the human coordinator it leaves


class Verdict(NamedTuple):
    commits: int
    findings: list[Finding]
    subjects: dict[str, str]  # commit -> its subject line
    touched: frozenset[str] = frozenset()  # the commits that changed the store
    roots: frozenset[str] = frozenset()  # the commits that made a store from nothing: roots of trust
    published: tuple[Published, ...] = ()  # who the human is, changed where the store held no human key


def check_range(
    root: Path, revisions: Sequence[str], *, now: dt.datetime, joins: Doc | None = None, line: str | None = None
) -> Verdict:
    """Judge every commit of `revisions` (oldest first) against its parents' states, and its signature.

    `joins`: the registry of the store's own line, which commits kept beside it (another branch, a
    tag) answer to as well: a key that line has rotated out no longer signs there, from an old parent.
    `line`: that line's tip before these commits, where known: a commit it does not hold was not
    shared there, whatever other ref holds it (`crossing.crossed`)."""
    commits = git.changes(root, revisions)
    loader = Loader(root)
    loader.dates.update({c.sha: c.committed for c in commits})
    judging = frozenset(c.sha for c in commits)
    findings: list[Finding] = []
    touched: list[git.Change] = []
    roots: set[str] = set()
    published: list[Published] = []
    # A part at a time, oldest first: what is held is a part's trees, not a year's.
    for start in range(0, len(commits), PART):
        part = commits[start : start + PART]
        found, changed, made, firsts = _check_part(loader, part, now=now, joins=joins, judging=judging, line=line)
        findings += found
        touched += changed
        roots |= made
        published += firsts
    # Oldest commit first, and within one who acted before what they did: a forged record is
    # first of all a commit its signer had no right to make.
    order: dict[str, int] = {c.sha: n for n, c in enumerate(commits)}
    findings.sort(key=lambda f: (order.get(f.commit, len(order)), not f.about_the_commit))
    subjects: dict[str, str] = {c.sha: c.subject for c in commits}
    touched_shas = frozenset(c.sha for c in touched)
    return Verdict(len(commits), findings, subjects, touched_shas, frozenset(roots), tuple(published))


PART = 2_000  # commits judged together: their trees are read in a few git calls, and then let go


def _check_part(
    loader: Loader,
    commits: Sequence[git.Change],
    *,
    now: dt.datetime,
    joins: Doc | None,
    judging: frozenset[str],
    line: str | None,
) -> tuple[list[Finding], list[git.Change], frozenset[str], list[Published]]:
    """`check_range` over consecutive commits of the range: the findings, the commits that
    changed the store, the roots of trust, the first human keys published."""
    root = loader.root
    wanted = sorted({c.sha for c in commits} | {p for c in commits for p in c.parents})
    at = loader.at(wanted)
    beside = _beside_store(loader, commits, at)
    touched = [c for c in commits if not c.parents or any(at[p] != at[c.sha] for p in c.parents) or c.sha in beside]
    findings: list[Finding] = []
    # For each merge, the registry the driver makes of its parents, which its signature answers to.
    # Only that is kept of what a merge is judged against: a year of merges would fill the memory.
    merged: dict[str, Doc | None] = {}
    for c in touched:
        base = of_parents(loader, c.parents, loader.state(at[c.sha])) if len(c.parents) == 2 else None
        findings += [f._replace(commit=c.sha) for f in judge_commit(loader, c, at, now=now, base=base)]
        if base is not None:
            merged[c.sha] = base[0].get(model.REGISTRY)
            findings += [f._replace(commit=c.sha) for f in crossed(loader, c, now=now, judging=judging, line=line)]
        if c.parents:  # the archive's wait, on the line: the parent the store's line held
            on_line = sides(loader.root, c, line)[1] if len(c.parents) == 2 else c.parents[0]
            findings += [f._replace(commit=c.sha) for f in archive_wait.late(loader, c, at, on_line)]
        if c.sha in beside:
            old = base[0] if base is not None else loader.state(at[c.parents[0]])
            actor = c.instances[0] if len(c.instances) == 1 else None
            when = instant(c.committed) or now
            found = history.beside_store(old, actor, beside[c.sha], when=when)
            findings += [f._replace(commit=c.sha) for f in found]
    dated = dated_only(touched)
    # Only a commit made on a store answers to that line (one with no store before it makes a root, judged as such).
    beside_line: dict[str, authenticity.Line] | None = None
    if joins is not None:
        on_store = [c for c in dated if any(loader.registry(p, at[p]) is not None for p in c.parents)]
        beside_line = {c.sha: authenticity.Line(joins) for c in on_store}
    registries = registry_at(loader, at)
    findings += authenticity.review(root, dated, acting(dated), registries, merged=merged, also=beside_line)
    firsts = [event for c in touched if (event := _first_human(c, registries))]
    return findings, touched, _roots(loader, touched, at), firsts


def _first_human(c: git.Change, registry_at: Callable[[str], Doc | None]) -> Published | None:
    """What `c` makes of who the human is, where none of its parents' stores held a human key and it
    changes the key or the name (not a root: a store made from nothing is judged as a root of trust)."""
    parents = [model.settings_of(r) for r in map(registry_at, c.parents) if r is not None]
    new = registry_at(c.sha)
    if not parents or new is None or any(p.human_key for p in parents):
        return None
    now = model.settings_of(new)
    if all((p.human_key, p.human_coordinator) == (now.human_key, now.human_coordinator) for p in parents):
        return None
    return Published(c.sha, now.human_key, tuple(p.human_coordinator for p in parents), now.human_coordinator)


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
