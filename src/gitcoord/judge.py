"""One commit judged against its parents' state: its date, and the change it makes under the
authority its parent's line gives (`review`). Signatures are verified for a whole range at once
(`authenticity.review`), with the registry each commit answers to (`registry_at`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence

from gitcoord import authenticity
from gitcoord import git
from gitcoord import history
from gitcoord import invariants
from gitcoord import model
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord import validation
from gitcoord.expected import of_parents
from gitcoord.findings import Finding
from gitcoord.model import Doc
from gitcoord.range_loader import EMPTY
from gitcoord.range_loader import Blobs
from gitcoord.range_loader import Loader
from gitcoord.range_loader import Standing
from gitcoord.range_loader import State
from gitcoord.range_loader import instant


def judge_commit(
    loader: Loader,
    c: git.Change,
    at: dict[str, Blobs],
    *,
    now: dt.datetime,
    base: tuple[State, Finding | None] | None = None,
) -> list[Finding]:
    """What is wrong with one commit; `base`, for a merge, is what `expected.of_parents` makes of its parents."""
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
        old, problem = base or of_parents(loader, c.parents, new)
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
    since = floor(loader, c, old)
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


def floor(loader: Loader, c: git.Change, old: State) -> dt.datetime | None:
    """The earliest moment a commit may write: never before the latest time the state it changes
    records, which no unjudged commit can move (an empty commit dated in the past, put in as the
    parent, lowers only the parent's date), nor before its parent's date where that is not ahead of
    its own. An empty commit dated in the future is not judged, so it must not raise the floor
    for every commit after it: past it, the state's own latest time holds. (The times a state holds
    lie at most a skew past the checker's clock when they were written: `times.future`.)"""
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
    problems = invariants.check(new, files=live, archives=new.archives) if invariant else []
    judged = [f for f in usable if f not in unjudged]
    problems += history.check(
        old, new, actor, when=when, now=now, files=judged, fresh=fresh, event=event, authority=authority, since=since
    )
    for file in sorted({f.file for f in problems}):
        raw = new.loader.raw(new.blobs.get(file)) or b""
        found += validation.locate_findings(file, raw, [f for f in problems if f.file == file])
    return found


def dated_only(commits: Sequence[git.Change]) -> list[git.Change]:
    """The commits whose signatures git can verify. For a commit dated outside any calendar (refused for
    that on its own) git hands ssh-keygen a time it cannot read, and dies of a broken pipe now and then."""
    return [c for c in commits if instant(c.committed) is not None]


def registry_at(loader: Loader, at: dict[str, Blobs]) -> Callable[[str], Doc | None]:
    return lambda sha: loader.registry(sha, at[sha])


def acting(commits: Sequence[git.Change]) -> dict[str, authenticity.Acting]:
    return {c.sha: authenticity.Acting(c.instances[0] if len(c.instances) == 1 else None, c.instances) for c in commits}
