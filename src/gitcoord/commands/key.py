"""`coord key`: the key this clone signs with, and the keys the registry holds.

Each command that changes the registry is an ordinary protocol step (protocol/keys.py), one
signed commit: publish my key, set someone's key (the human coordinator, or an instance its
own), rotate mine, require signatures.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from gitcoord import key_proofs
from gitcoord import model
from gitcoord import signing
from gitcoord import sshkeys
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
    if registry is not None and key_proofs.key_of(registry, me) == mine.public:  # as `coord install` says it: no error
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
    registry = _registry(ws)
    if registry is not None and model.settings_of(registry).human_coordinator == me:
        _confirm(cwd, me, sync, out)
    return code


def _confirm(cwd: Path, me: str, sync: bool | None, out: Output) -> None:
    """A first commit signed with the human's new key: a newcomer told only that key trusts the
    store from the moment it has signed one (the rotation itself was signed with the old)."""
    quiet = Output(as_json=True)  # the rotation's result is what the command shows
    step.run(keys.confirm, cwd=cwd, as_instance=me, out=quiet, sync=sync)
    out.note("signed a commit with the new key as the human coordinator: a clone told only that key trusts the store")


def _adopt(ws: workspace.Workspace, me: str, path: Path, out: Output) -> None:
    mine = signing.adopt(ws.root, me, path)
    out.note(f"this clone now signs with {mine} (the old key is kept beside it, renamed .retired-N)")


def require(*, cwd: Path, as_instance: str | None, sync: bool | None, out: Output) -> int:
    """Turn signatures on once every key in the registry is proven (see `key_proofs.proven`); the
    fingerprints are printed for the human to confirm with each holder out of band."""
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    shown: list[str] = []  # filled by the build, which runs again on the new tip when the tip moved

    def build(state: State, ctx: Context) -> Change:
        change = keys.require(state, ctx)
        shown[:] = key_proofs.proven(ws, state[model.REGISTRY])
        return change

    return step.run(build, cwd=cwd, as_instance=as_instance, out=out, sync=sync, notes=shown)


def registered_hint(ws: workspace.Workspace, public: str) -> str | None:
    """What the instance of this clone does next with its key, judging by the shared branch (None: nothing)."""
    me = ws.identity
    registry = _registry(ws)
    if registry is None:
        return None
    rules = model.settings_of(registry)
    entry = registry["instances"].get(me)
    held = key_proofs.key_of(registry, me)
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
