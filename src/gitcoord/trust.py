"""Where trust starts: the store's roots and the first human key, against a key told out of band.

The rules judge each commit against its parent, so whatever a history starts from it takes on
trust: a store made from nothing (whoever makes it holds every key in it), and, in a store
started without signatures, the first human key published (before signatures are required
anyone can act as the human, so whoever publishes first could turn them on and lock the human
out). A clone or a gate that was told the human's public key (`coord install --trust`) believes
neither unless it is that key; the human's own clone holds that key and believes no other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from gitcoord import git
from gitcoord import model
from gitcoord import sshkeys
from gitcoord.findings import Finding
from gitcoord.model import Doc

if TYPE_CHECKING:
    from gitcoord import replay

TRUST = "coord.trust"  # the human coordinator's public key, as this clone was told it (`coord install --trust`)


def untrusted(
    root: Path, trusted: str, verdict: replay.Verdict, tip: git.Sha, *, told: bool = True, human: str | None = None
) -> list[Finding]:
    """What in the judged range does not start from `trusted`: each first human key published that
    is another, or a human coordinator renamed before a key was (`human`: only where the parents named
    that one); and, for a key `told` out of band, each root of trust (a commit that made the store
    from nothing; for a shallow join, the tip) that names another, or names it without its holder
    having signed, as the human coordinator, a commit of the history since (a signature covers its
    parents: they vouched for all of it). Without a key told, the first history a clone sees is
    trusted from its root; with one, a store someone made up is not."""
    whose = f"the key this clone trusts ({sshkeys.fingerprint(trusted)}, `git config {TRUST}`)"
    if not told:
        whose = f"this clone's own key ({sshkeys.fingerprint(trusted)}), which signs as the human coordinator"
    found = [
        Finding(model.REGISTRY, ("settings",), "trust", _published(p, whose), commit=p.commit)
        for p in verdict.published
        if (human is None or human in p.was) and parsed(p.key) != trusted
    ]
    found += _renamed(root, trusted, [p for p in verdict.published if parsed(p.key) == trusted], whose)
    if told and verdict.roots:
        found = _unvouched(root, trusted, verdict, tip, whose) + found
    return found


def foreign_roots(root: Path, mine: str, verdict: replay.Verdict, human: str, tip: git.Sha) -> list[Finding]:
    """For the human coordinator's own clone, which signs with `mine`: each root of trust in the
    judged range that makes `human` the human coordinator with another human key. Whoever made that
    store holds the human's power in it, even after handing the human key over (a public key is
    public), through the instances it registered; a root naming no human key (a store started
    unsigned) or this clone's own is the human's to take, and so is one this clone's key vouched
    for, signing a commit above it as the human (after a rotation, the human's next step)."""
    roots = [git.Sha(c) for c in verdict.subjects if c in verdict.roots]
    if not roots:
        return []
    registries = registries_at(root, [*roots, tip])
    found = []
    for commit in roots:
        registry = registries[commit]
        key = human_key(registry)
        # This clone is the human's by the root's name for the human, or the tip's: a root naming
        # another, renamed to this clone's later, is as foreign as one naming it from the start.
        named = {model.settings_of(r).human_coordinator for r in (registry, registries[tip]) if r is not None}
        if registry is None or human not in named or key in (None, mine):
            continue
        if _vouched(root, tip, registries[tip], mine, [commit]):
            continue  # this clone's key signed, as the human, a commit above it: the store is the human's
        message = (
            f"the store starts here, and its registry names the human key {sshkeys.fingerprint(key)} for "
            f"{model.settings_of(registry).human_coordinator}, "
            f"not this clone's own key ({sshkeys.fingerprint(mine)}), which signs as the human coordinator: a store "
            "someone else made, who holds the human's power in it"
        )
        found.append(Finding(model.REGISTRY, ("settings",), "trust", message, commit=commit))
    return found


def _published(p: replay.Published, whose: str) -> str:
    if p.key is None:
        did = "names another human coordinator before a human key was published"
    else:
        shown = sshkeys.fingerprint(k) if (k := parsed(p.key)) else "a key that does not parse"
        did = f"publishes {shown} as the human coordinator's key, where the store held none, and it is not {whose}"
    return (
        f"the commit {did}: before signatures are required anyone can act as the human, so who the human is "
        "is believed only from the key the human gave out of band (the human coordinator repairs the shared branch)"
    )


def _renamed(root: Path, trusted: str, published: list[replay.Published], whose: str) -> list[Finding]:
    """Each commit that publishes the trusted key and, in the same commit, names another human
    coordinator, unless the key's holder signed it: a public key is public, so anyone can publish it,
    but whoever renames the human beside it leaves the human's own clone acting as someone else."""
    from gitcoord import signing

    renamed = [p for p in published if p.name not in p.was]
    verdicts = {p.commit: signing.verify(root, [p.commit], {p.name: [trusted]}).get(p.commit) for p in renamed}
    message = (
        "the commit publishes {whose} and names {name} the human coordinator in place of {was}, and that key did "
        "not sign it: anyone can publish a public key, but only its holder renames the human (the human "
        "coordinator repairs the shared branch)"
    )
    return [
        Finding(
            model.REGISTRY,
            ("settings", "human_coordinator"),
            "trust",
            message.format(whose=whose, name=p.name, was=" or ".join(p.was)),
            commit=p.commit,
        )
        for p in renamed
        if (v := verdicts[p.commit]) is None or v.status != "G"
    ]


def _unvouched(root: Path, trusted: str, verdict: replay.Verdict, tip: git.Sha, whose: str) -> list[Finding]:
    roots = [git.Sha(c) for c in verdict.subjects if c in verdict.roots]
    registries = registries_at(root, [*roots, tip])
    # Naming the key proves nothing (a public key is public): its holder must have signed.
    if _vouched(root, tip, registries[tip], trusted, roots):
        return []
    found = []
    for commit in roots:
        key = human_key(registries[commit])
        if key == trusted:
            said = f"its registry names {whose}, as anyone can (a public key is public), but that key signs"
        else:
            other = f"the human key {sshkeys.fingerprint(key)}" if key else "no human key"
            said = f"its registry names {other}, not {whose}, which signs"
        message = (
            f"the store starts here, and {said} no commit above it as the human coordinator: a store someone else "
            "made, or one whose human rotated to that key and has signed nothing with it since (any coord step of "
            "theirs now signs with it, and vouches for the store)"
        )
        found.append(Finding(model.REGISTRY, (), "trust", message, commit=commit))
    return found


def registries_at(root: Path, commits: list[git.Sha]) -> dict[str, Doc | None]:
    """Each commit's registry as the range check reads it: strictly parsed and bounded (None where
    it does not parse), so that a hostile one cannot crash the look that judges it."""
    from gitcoord.range_loader import Loader

    loader = Loader(root)
    at = loader.at(commits)
    return {c: loader.state(at[c]).get(model.REGISTRY) for c in commits}


def _vouched(root: Path, tip: git.Sha, registry: Doc | None, key: str, roots: list[git.Sha]) -> bool:
    """Whether `key` signed, as the human coordinator, a commit of `tip`'s history that holds every
    root in its own: a signature vouches for the history below it, not for a side grown beside it."""
    if registry is None:
        return False
    human = model.settings_of(registry).human_coordinator
    acting = [c.sha for c in reversed(git.changes(root, [tip])) if c.instances == (human,)]
    return any(all(r == g or git.is_ancestor(root, r, g) for r in roots) for g in _signed(root, acting, human, key))


CHECKPOINT_SEARCH = 1000  # first-parent commits looked through for the human's signature before all of them


def checkpoint(root: Path, tip: git.Sha, key: str) -> git.Sha | None:
    """The newest commit of `tip`'s first-parent line that `key` signed as the human coordinator.
    Its signature vouches for the history below it, which the human's clone judged before signing:
    a clone told that key judges, on its first look, only what came since (a year of history would
    otherwise take hours)."""
    registry = registries_at(root, [tip])[tip]
    if registry is None:
        return None
    human = model.settings_of(registry).human_coordinator
    for limit in (f"-n{CHECKPOINT_SEARCH}", f"--skip={CHECKPOINT_SEARCH}"):
        listed = git.changes(root, [tip, "--first-parent", limit])
        acting = {c.sha: c for c in reversed(listed) if c.instances == (human,)}
        found = next((s for s in _signed(root, list(acting), human, key) if _the_human_key(root, acting[s], key)), None)
        if found is not None or len(listed) < CHECKPOINT_SEARCH:
            return found
    return None


def _the_human_key(root: Path, commit: git.Change, key: str) -> bool:
    """Whether `key` is the human key both of `commit`'s parent (where this clone has it) and of
    `commit` itself: a key the human rotated out signs nothing as the human since (a leaked one, say),
    and what it signs is not vouched for, nor is a commit that hands the store to another key."""
    parents = [p for p in commit.parents[:1] if git.rev_parse(root, p)]
    registries = registries_at(root, [commit.sha, *parents])
    return all(human_key(r) == parsed(key) for r in registries.values())


def _signed(root: Path, commits: list[git.Sha], human: str, key: str) -> Iterator[git.Sha]:
    """Those of `commits` (newest first) that `key` signed as `human`, checked a few at a time:
    git runs ssh-keygen once for each, and the caller mostly wants the newest."""
    from gitcoord import signing

    start, size = 0, 16
    while start < len(commits):
        batch = commits[start : start + size]
        verdicts = signing.verify(root, batch, {human: [key]})
        yield from (sha for sha in batch if verdicts.get(sha) is not None and verdicts[sha].status == "G")
        start, size = start + size, size * 4


def human_key(registry: Doc | None) -> str | None:
    """The registry's human key, parsed (None: none, or one that does not parse)."""
    return parsed(model.settings_of(registry).human_key) if registry is not None else None


def parsed(key: str | None) -> str | None:
    """`key` in the form the registry compares (type and base64), or None where it is no key."""
    try:
        return sshkeys.parse(key) if key else None
    except sshkeys.NotAKey:
        return None
