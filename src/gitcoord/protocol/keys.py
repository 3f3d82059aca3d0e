"""Signing keys as protocol steps: register with a key, set or rotate one, require signatures.

Who may change a key: an instance only its own (signed with the key it had, or for a new
entry, with the key it registers); the human coordinator anyone's, and the human key.
"""

from __future__ import annotations

from gitcoord import model
from gitcoord import records
from gitcoord import sshkeys
from gitcoord.events import Event
from gitcoord.model import Record
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import Edit
from gitcoord.protocol import Refused
from gitcoord.protocol import instance
from gitcoord.protocol import instances
from gitcoord.protocol import settings
from gitcoord.records import State


def parse(text: str) -> str:
    try:
        return sshkeys.parse(text)
    except sshkeys.NotAKey as e:
        raise Refused(str(e)) from None


def register(state: State, ctx: Context, name: str, *, role: str, expertise: list[str], key: str | None) -> Change:
    """Register `name`, with `key` as its signing key if one is given."""
    change = instances.register(state, ctx, name, role=role, expertise=expertise)
    if key is None:
        return change
    key = parse(key)
    _may_set(state, ctx, name)
    _unique(state, name, key)
    registry = change.docs[model.REGISTRY]
    entry = {**registry["instances"][name], "signing_key": key}
    docs = {**change.docs, model.REGISTRY: {**registry, "instances": {**registry["instances"], name: entry}}}
    record = {**(change.record or {}), "signing_key": key}
    return change._replace(docs=docs, record=record)


def set_key(state: State, ctx: Context, name: str, key: str) -> Change:
    """Give `name` (an instance, or the human coordinator) the signing key `key`."""
    me = _may_set(state, ctx, name)
    key = parse(key)
    edit = Edit(state, ctx)
    human = settings(state).human_coordinator
    registry = edit.state[model.REGISTRY]
    if name == human:  # the human coordinator's key is the settings' human_key, registered or not
        old = settings(state).human_key
        edit.docs[model.REGISTRY] = {**registry, "settings": {**registry.get("settings", {}), "human_key": key}}
        record: Record = {"instance": name, "human_key": key}
    else:
        entry = dict(instance(edit, name))
        old = entry.get("signing_key")
        entry["signing_key"] = key
        edit.put("instance", entry, name)
        record = {"instance": name, **entry}
    if old == key:
        raise Refused(f"the registry already holds this key for {name}; nothing to do")
    _unique(state, name, key)
    edit.touch_registry(ctx.stamp)
    verb = "changes" if old else "sets"
    summary = f"{me} {verb} the signing key of {name}: {sshkeys.fingerprint(key)}"
    return edit.done(Event("key.set", me, name, summary), record)


def confirm(state: State, ctx: Context) -> Change:
    """The human coordinator's first commit signed with the key it rotated to. The rotation was
    signed with the old key, as the rules want; a clone told only the new key out of band believes
    the store once that key has signed, as the human, a commit above its root (`trust`)."""
    me = ctx.me()
    rules = settings(state)
    if me != rules.human_coordinator or not rules.human_key:
        raise Refused(f"only the human coordinator ({rules.human_coordinator}) confirms the human key")
    edit = Edit(state, ctx)
    edit.touch_registry(ctx.stamp)
    summary = f"{me} signs with the human key {sshkeys.fingerprint(rules.human_key)}"
    return edit.done(Event("key.confirm", me, None, summary), None)


def require(state: State, ctx: Context) -> Change:
    """Turn on required signatures: from the next commit on, each is signed by its acting instance."""
    me = ctx.me()
    rules = settings(state)
    if me != rules.human_coordinator:
        raise Refused(f"only the human coordinator ({rules.human_coordinator}) turns on required signatures")
    if rules.require_signatures:
        raise Refused("signatures are already required; nothing to do")
    if not rules.human_key:
        raise Refused(
            f"the human coordinator ({me}) has no key in the registry, so no human action could be verified: "
            f"publish it first (`coord install --as {me}`, then `coord key publish`)"
        )
    entries = records.registry(state)["instances"]
    keyless = sorted(n for n, e in entries.items() if not e.get("signing_key"))
    active = [n for n in keyless if entries[n]["status"] == "active"]
    if active:
        raise Refused(
            f"{', '.join(active)} {'is' if len(active) == 1 else 'are'} active without a signing key, and could not "
            "act once signatures are required: each publishes its own (`coord install --as NAME`, then "
            "`coord key publish` in its clone), or the human coordinator enrolls it (`coord key set NAME KEY`)"
        )
    edit = Edit(state, ctx)
    registry = edit.state[model.REGISTRY]
    edit.docs[model.REGISTRY] = {**registry, "settings": {**registry.get("settings", {}), "require_signatures": True}}
    edit.touch_registry(ctx.stamp)
    notes = (
        [f"{', '.join(keyless)} have no key yet: they cannot act until the human coordinator enrolls one"]
        if keyless
        else []
    )
    return edit.done(
        Event("key.require", me, None, f"{me} requires every coordination commit to be signed"),
        {"require_signatures": True},
        *notes,
    )


def _may_set(state: State, ctx: Context, name: str) -> str:
    me = ctx.me()
    human = settings(state).human_coordinator
    if me not in (name, human):
        raise Refused(
            f"{me} may not set the signing key of {name}: an instance sets only its own, "
            f"the human coordinator ({human}) anyone's"
        )
    return me


def _unique(state: State, name: str, key: str) -> None:
    """One key, one signer: a shared key would make the signature say nothing about who acted."""
    registry = state[model.REGISTRY]
    holders = {n for n, e in registry["instances"].items() if e.get("signing_key") == key}
    if model.settings_of(registry).human_key == key:
        holders.add(model.settings_of(registry).human_coordinator)
    others = sorted(holders - {name})
    if others:
        raise Refused(f"this key is already {others[0]}'s; each instance signs with a key of its own")
