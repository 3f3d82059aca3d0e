"""What each side of a merge brings, judged again under the authority of the line it joins.

Each commit was judged against its own parent; but any old commit can be a parent, so a side
branch grown from the past could carry a key since rotated, an unsigned commit from before
signatures were required, a record made again under an id the joined line holds, or a reclaim of
a holder who has checked in since. Such a commit cannot come in through a merge; and a sync asks
first which of its own commits the shared line would refuse (`void`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gitcoord import authenticity
from gitcoord import git
from gitcoord import history
from gitcoord import model
from gitcoord import records
from gitcoord.expected import of_parents
from gitcoord.findings import Finding
from gitcoord.judge import acting
from gitcoord.judge import dated_only
from gitcoord.judge import floor
from gitcoord.judge import registry_at
from gitcoord.judge import review
from gitcoord.model import Doc
from gitcoord.range_loader import Loader
from gitcoord.range_loader import State
from gitcoord.range_loader import instant


def crossed(loader: Loader, merge: git.Change, *, now: dt.datetime) -> list[Finding]:
    """What each side of `merge` brings that the line it joins refuses: judged again with that
    line's settings, keys and latest presence (`history.overlay`)."""
    mine, other = merge.parents[1], merge.parents[0]
    crossings = _brought_into(loader, mine, other, now=now) + _brought_into(loader, other, mine, now=now)
    return [_brought(f, c) for c, f in crossings]


def void(root: Path, mine: str, other: str, *, now: dt.datetime) -> list[tuple[git.Change, Finding]]:
    """What a merge of `mine` into `other` would bring that the line of `other` refuses (see
    `crossed`): each commit of `mine` made void since, with why. A sync asks before it merges."""
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
        found += [(c, f) for f in _recreated(old, new, tip)]
        found += [
            (c, f)
            for f in review(
                old, new, actor, when=when, now=now, invariant=False, event=c.event, authority=authority, since=since
            )
        ]
    judged = dated_only(judged)
    if not judged:
        return found
    line = authenticity.Line(joined, _fork_registry(loader, mine, other))
    also: dict[str, authenticity.Line] = {c.sha: line for c in judged}
    signed = authenticity.review(loader.root, judged, acting(judged), registry_at(loader, at), also=also, merged=merged)
    by_sha: dict[str, git.Change] = {c.sha: c for c in judged}
    return found + [(by_sha[f.commit], f) for f in signed]


def _recreated(old: State, new: State, joined: State) -> list[Finding]:
    """Records a commit creates whose id the line it joins already holds, live or archived: ids are
    unique (random, for tasks, messages and decisions), so a side line grown from before a record
    existed may not make that id again, whoever made it first: a merge would then settle each of
    its fields either way (a question rewritten under its answer), or keep a live copy of an
    archived one. An instance's entry is its name: only one with another key is refused."""
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
            else:
                again = (rid in held and held[rid] != record) or (rid not in held and joined.archives(coll.kind, rid))
            if again:
                message = f"{rid} exists, made before, on the line this merge joins; a side line may not make it again"
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
