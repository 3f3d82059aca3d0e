"""`coord key`: the key this clone signs with, and the keys the registry holds.

Each command that changes the registry is an ordinary protocol step (protocol/keys.py), one
signed commit: publish my key, set someone's key (the human coordinator, or an instance its
own), rotate mine, require signatures.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from gitcoord import git
from gitcoord import model
from gitcoord import signing
from gitcoord import sshkeys
from gitcoord import trust
from gitcoord import workspace
from gitcoord.commands import step
from gitcoord.errors import FatalError
from gitcoord.errors import NotShared
from gitcoord.output import Output
from gitcoord.output import safe
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import keys
from gitcoord.records import State


def read_key(text: str) -> str:
    """A key given on the command line: the key itself, or @FILE for a file that holds it (a .pub file)."""
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise FatalError(f"cannot read the key from {path}: {e}") from None
    return keys.parse(text)


def show(*, cwd: Path, as_instance: str | None, out: Output) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    mine = signing.current(ws.root)
    registry = None
    with contextlib.suppress(FatalError):
        registry = workspace.snapshot(ws, strict=False)[model.REGISTRY]
    rules = model.settings_of(registry) if registry else model.Settings()
    who = ws.identity
    if registry is None or who is None:
        held = None
    elif who == rules.human_coordinator:
        held = rules.human_key
    else:
        held = registry["instances"].get(who, {}).get("signing_key")
    data = {
        "instance": who,
        "signing_key": mine.public if mine else None,
        "fingerprint": mine.fingerprint if mine else None,
        "path": str(mine.path) if mine and mine.path else None,
        "registered_key": held,
        "matches": bool(mine and held == mine.public),
        "require_signatures": rules.require_signatures,
    }
    lines = [
        f"this clone signs as {safe(who or '(no identity)')} with {mine.path or 'a literal key'} ({mine.origin})"
        if mine
        else "this clone does not sign its commits: `coord install --as INSTANCE` sets it up",
    ]
    if mine:
        lines += [f"  {mine.public}", f"  {mine.fingerprint}"]
    if who and registry is not None:
        if held is None:
            lines.append(f"the registry holds no key for {safe(who)}")
        else:
            state = "the same key" if mine and held == mine.public else "a DIFFERENT key"
            lines.append(f"the registry holds {state} for {safe(who)}: {sshkeys.fingerprint(held)}")
    lines.append(f"signatures {'are' if rules.require_signatures else 'are not'} required in this store")
    out.emit(data, lines)
    return 0


def publish(*, cwd: Path, as_instance: str | None, sync: bool | None, out: Output) -> int:
    """Put this clone's public key in my registry entry (the human coordinator's: settings.human_key)."""
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    me = ws.require_identity()
    mine = signing.current(ws.root)
    if mine is None:
        raise FatalError(f"this clone has no signing key to publish: `coord install --as {me}` makes one")
    registry = _registry(ws)
    if registry is not None and _held(registry, me) == mine.public:  # as `coord install` says it: no error
        record = {"instance": me, "signing_key": mine.public}
        unchanged = {"event": "key.set", "instance": me, "subject": None, "commit": None, "staged": False}
        out.emit(
            {**unchanged, "shared": False, "record": record},
            [f"the registry already holds this key for {safe(me)}; nothing to do"],
        )
        return 0
    return step.run(
        lambda s, c: keys.set_key(s, c, me, mine.public), cwd=cwd, as_instance=as_instance, out=out, sync=sync
    )


def set_key(*, cwd: Path, as_instance: str | None, instance: str, key: str, sync: bool | None, out: Output) -> int:
    public = read_key(key)
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    mine = signing.current(ws.root)
    if instance == ws.identity and mine is not None and mine.public != public:
        # From this commit on the registry wants the new key from me: this clone must switch to it.
        out.note(
            f"this clone still signs with {mine.fingerprint}; its next coordination commit must be signed "
            "with the new key (`git config user.signingkey PATH-OF-ITS-PRIVATE-KEY`); `coord key rotate` does both"
        )
    return step.run(
        lambda s, c: keys.set_key(s, c, instance, public), cwd=cwd, as_instance=as_instance, out=out, sync=sync
    )


def rotate(*, cwd: Path, as_instance: str | None, sync: bool | None, out: Output) -> int:
    """A new key for me: published in a commit signed with my old key, then this clone signs with the new one.

    Shared like any step before the clone switches keys: a push that lost the race makes the
    step again on the remote's tip, signed with the old key that tip's registry still holds."""
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    me = ws.require_identity()
    if signing.current(ws.root) is None:
        raise FatalError(f"this clone has no signing key to rotate: `coord install --as {me}` makes one")
    path, public = signing.new_key(ws.root, me)
    try:
        code = step.run(lambda s, c: keys.set_key(s, c, me, public), cwd=cwd, as_instance=me, out=out, sync=sync)
    except NotShared:
        _adopt(ws, me, path, out)  # committed here all the same: this clone's next commit needs the new key
        raise
    except BaseException:
        for made in (path, Path(f"{path}.pub")):
            made.unlink(missing_ok=True)
        raise
    _adopt(ws, me, path, out)
    return code


def _adopt(ws: workspace.Workspace, me: str, path: Path, out: Output) -> None:
    mine = signing.adopt(ws.root, me, path)
    out.note(f"this clone now signs with {mine} (the old key is kept beside it, renamed .retired-N)")


def require(*, cwd: Path, as_instance: str | None, sync: bool | None, out: Output) -> int:
    """Turn signatures on once every key in the registry is proven (see `_proven`); the
    fingerprints are printed for the human to confirm with each holder out of band."""
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    shown: list[str] = []  # filled by the build, which runs again on the new tip when the tip moved

    def build(state: State, ctx: Context) -> Change:
        change = keys.require(state, ctx)
        shown[:] = _proven(ws, state[model.REGISTRY])
        return change

    return step.run(build, cwd=cwd, as_instance=as_instance, out=out, sync=sync, notes=shown)


def _proven(ws: workspace.Workspace, registry: model.Doc) -> list[str]:
    """Each key the registry holds, with its fingerprint, once proven; else FatalError naming the rest.

    While signatures were not required, anyone could write any key into any entry (a commit naming
    another instance was not verified), and from the moment they are, keys are identities. So the
    commit that wrote each key must be signed, as its holder, by the key the holder had before (a
    rotation) or by the key itself (a first key: its holder has it), or by the human coordinator's
    key, which is the one this clone signs with."""
    human = model.settings_of(registry).human_coordinator
    held = {name: key for name in [human, *sorted(registry["instances"])] if (key := _held(registry, name))}
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
        if wrote is None or _held(wrote, name) != key:
            continue  # the key written or taken out elsewhere in the file
        if any(r is not None and _held(r, name) == key for r in had):
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
        keys[blob] = _held(doc, name) if doc is not None else None
    return {c: keys[b] for c, b in blobs.items()}


def _overridden(
    ws: workspace.Workspace, change: git.Change, name: str, key: str, had: list[model.Doc | None]
) -> str | None:
    """The key a merge that kept one parent's `key` for `name` set aside: another parent's, where
    that line had set it since they forked (so the driver would not have kept `key`). Settling
    that conflict one's own way replaces a key, as much as a commit that writes one over it."""
    for registry in had:
        other = _held(registry, name) if registry is not None else None
        if other is None or other == key:
            continue
        bases = git.merge_bases(ws.root, *(git.Sha(p) for p in change.parents))
        at_fork = trust.registries_at(ws.root, bases)
        if not bases or any(r is None or _held(r, name) != other for r in at_fork.values()):
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


def registered_hint(ws: workspace.Workspace, public: str) -> str | None:
    """What the instance of this clone does next with its key, judging by the shared branch (None: nothing)."""
    me = ws.identity
    registry = _registry(ws)
    if registry is None:
        return None
    rules = model.settings_of(registry)
    entry = registry["instances"].get(me)
    held = _held(registry, me)
    if held == public:
        return f"the registry holds this key for {me}"
    if me != rules.human_coordinator and entry is None:
        return f"next: `coord register {me} --role ROLE` registers {me} with this key"
    if held is None and not rules.require_signatures:
        return f"next: `coord key publish` puts it in {me}'s registry entry"
    return (
        f"next: the human coordinator enrolls it: coord key set {me} '{public}'"
        if held is None
        else f"the registry holds another key for {me}; `coord key show` compares them"
    )


def _registry(ws: workspace.Workspace) -> model.Doc | None:
    """The registry at this clone's tip of the shared branch; None when it cannot be read."""
    try:
        return workspace.snapshot(ws, strict=False)[model.REGISTRY]
    except FatalError:
        return None


def _held(registry: model.Doc, me: str | None) -> str | None:
    """The key the registry holds for `me`: the human coordinator's is settings.human_key."""
    rules = model.settings_of(registry)
    return rules.human_key if me == rules.human_coordinator else registry["instances"].get(me, {}).get("signing_key")


def register(
    *,
    cwd: Path,
    as_instance: str | None,
    instance: str,
    role: str,
    expertise: list[str],
    key: str | None,
    sync: bool | None,
    out: Output,
) -> int:
    """`coord register`: with `key` (a key or @FILE), or, registering myself, the key this clone signs with."""
    public = read_key(key) if key else None
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    if public is None and instance == ws.identity:
        mine = signing.current(ws.root)  # self-registration: the commit is signed by the key it registers
        public = mine.public if mine else None
    return step.run(
        lambda s, c: keys.register(s, c, instance, role=role, expertise=expertise, key=public),
        cwd=cwd,
        as_instance=as_instance,
        out=out,
        sync=sync,
    )
