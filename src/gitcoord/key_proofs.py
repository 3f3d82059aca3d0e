"""Whether each key a registry holds is proven: what `coord key require` waits for.

While signatures are not required, anyone can write any key into any entry; once they are, keys
are identities. So every commit that wrote a key must be signed, as its holder, by the key it
replaced (a rotation) or by the key itself (a first key), or by the human coordinator's key.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from gitcoord import git
from gitcoord import model
from gitcoord import signing
from gitcoord import sshkeys
from gitcoord import trust
from gitcoord import workspace
from gitcoord.errors import FatalError


def proven(ws: workspace.Workspace, registry: model.Doc) -> list[str]:
    """Each key the registry holds, with its fingerprint, once proven; else FatalError naming the rest.

    While signatures were not required, anyone could write any key into any entry (a commit naming
    another instance was not verified), and from the moment they are, keys are identities. So the
    commit that wrote each key must be signed, as its holder, by the key the holder had before (a
    rotation) or by the key itself (a first key: its holder has it), or by the human coordinator's
    key, which is the one this clone signs with."""
    human = model.settings_of(registry).human_coordinator
    held = {name: key for name in [human, *sorted(registry["instances"])] if (key := key_of(registry, name))}
    mine = signing.current(ws.root)
    if held.get(human) is not None and (mine is None or sshkeys.parse(mine.public) != sshkeys.parse(held[human])):
        raise FatalError(
            f"the registry's key for {human} ({sshkeys.fingerprint(sshkeys.parse(held[human]))}) is not the key this "
            "clone signs with: publish yours (`coord key publish`) from the clone that holds it, then require"
        )
    tip = git.rev_parse(ws.root, ws.ref)
    problems = [
        f"{name}: {why}" for name, key in held.items() if tip and (why := _unproven(ws, tip, name, key, (human, mine)))
    ]
    if problems:
        raise FatalError(
            "signatures would make these keys identities, and no signature proves them:\n  "
            + "\n  ".join(problems)
            + f"\nAsk each holder for its key out of band and enroll it (`coord key set NAME KEY`, as {human}), "
            "then require again."
        )
    return [
        "confirm each fingerprint with its holder out of band: "
        + ", ".join(f"{name} {sshkeys.fingerprint(sshkeys.parse(key))}" for name, key in held.items())
    ]


def _unproven(
    ws: workspace.Workspace, tip: git.Sha, name: str, key: str, human: tuple[str, signing.Key | None]
) -> str | None:
    """Why a commit that wrote `name`'s `key` does not prove it (None: they all do). Every write
    counts, not only the newest: a key planted over another, taken out, then put back signed by
    itself would otherwise be proven by its own return. `human`: the human coordinator, and the
    key this clone signs with, which the registry's human key is."""
    path = f"{model.COORD_DIR}/{model.REGISTRY}"
    coordinator, mine = human
    judged = 0
    for commit in _writers(ws.root, tip, name, key, path):
        [change] = git.changes(ws.root, [commit, "-n1"])
        registries = trust.registries_at(ws.root, [commit, *change.parents])
        wrote, had = registries[commit], [registries[p] for p in change.parents]
        if wrote is None or key_of(wrote, name) != key:
            continue  # the key written or taken out elsewhere in the file
        if any(r is not None and key_of(r, name) == key for r in had):
            previous = _overridden(ws, change, name, key, had)
            if previous is None:
                continue  # a merge that took it from a parent, as the driver would
        else:
            previous = _last_held(ws.root, change, name, path)
        judged += 1
        allowed = {name: [previous or key], **({coordinator: [mine.public]} if name != coordinator and mine else {})}
        verdict = signing.verify(ws.root, [commit], allowed).get(commit)
        if verdict is not None and verdict.status == "G" and change.instances == (verdict.principal,):
            continue
        by = "the key it replaced" if previous else "that key"
        return (
            f"{commit[:12]} ({', '.join(change.instances) or 'naming no one'}) wrote it, signed neither by {by} "
            f"as {name} nor by the human coordinator's"
        )
    return None if judged else "no commit here wrote it (a shallow clone: `git fetch --unshallow`)"


_PART = 500  # registry versions read at a time, newest first: the search usually stops in the first part


def _writers(root: Path, tip: git.Sha, name: str, key: str, path: str) -> Iterator[git.Sha]:
    """The commits of `tip`'s history, newest first, after which `name` holds `key` where a parent's
    registry had it hold another (or none): each place the key came to `name`, compared record by
    record. A key moved from another entry, or from any field, leaves the count of its text as it
    was, so a search of the text (`git log -S`) would pass that commit by for an older one."""
    history = git.path_history(root, tip, path)
    for start in range(0, len(history), _PART):
        part = history[start : start + _PART]
        held = _held_at(root, name, path, [c for c, _ in part] + [p for _, ps in part for p in ps])
        for commit, parents in part:
            if held[commit] == key and (not parents or any(held[p] != key for p in parents)):
                yield commit


def _held_at(root: Path, name: str, path: str, commits: list[git.Sha]) -> dict[str, str | None]:
    """The key `name` holds in each commit's registry (None: none, or a registry that does not
    parse), each version of the file read and parsed once."""
    from gitcoord import validation

    blobs = dict(zip(commits, git.object_ids(root, [f"{c}:{path}" for c in commits]), strict=True))
    distinct = sorted({b for b in blobs.values() if b is not None})
    keys: dict[str | None, str | None] = {None: None}
    for blob, data in zip(distinct, git.read_blobs(root, distinct), strict=True):
        doc, _ = validation.parse_findings(model.REGISTRY, data)
        keys[blob] = key_of(doc, name) if doc is not None else None
    return {c: keys[b] for c, b in blobs.items()}


def _overridden(
    ws: workspace.Workspace, change: git.Change, name: str, key: str, had: list[model.Doc | None]
) -> str | None:
    """The key a merge that kept one parent's `key` for `name` set aside: another parent's, where
    that line had set it since they forked (so the driver would not have kept `key`). Settling
    that conflict one's own way replaces a key, as much as a commit that writes one over it."""
    for registry in had:
        other = key_of(registry, name) if registry is not None else None
        if other is None or other == key:
            continue
        bases = git.merge_bases(ws.root, *(git.Sha(p) for p in change.parents))
        at_fork = trust.registries_at(ws.root, bases)
        if not bases or any(r is None or key_of(r, name) != other for r in at_fork.values()):
            return other
    return None


def _last_held(root: Path, change: git.Change, name: str, path: str) -> str | None:
    """The key `name` held last before `change`, anywhere in its history: not only in its parent,
    where one commit earlier could have taken the key out to make the next look like a first key.
    Each version of the registry is compared, not its text searched: a key can sit on any line."""
    for parent in change.parents:
        history = [parent, *(c for c, _ in git.path_history(root, parent, path))]
        for start in range(0, len(history), _PART):
            part = history[start : start + _PART]
            held = _held_at(root, name, path, part)
            found = next((held[c] for c in part if held[c]), None)
            if found:
                return found
    return None


def key_of(registry: model.Doc, me: str | None) -> str | None:
    """The key the registry holds for `me`: the human coordinator's is settings.human_key."""
    rules = model.settings_of(registry)
    return rules.human_key if me == rules.human_coordinator else registry["instances"].get(me, {}).get("signing_key")
