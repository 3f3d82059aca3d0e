"""Who acted: a coordination commit is signed by the key its parent state holds for its acting instance.

The acting instance is the one Coord-Instance trailer of the commit's trailer block, as git
parses it. When the parent state requires signatures (`settings.require_signatures`), the
commit must carry a good signature by a key the parent state holds for that instance: its
registry entry's `signing_key`, or `settings.human_key` for the human coordinator. The keys
come from the parent state only, so a commit can never authorize the key that signs it; for
a merge, from the state the merge driver makes of its parents, so that neither parent can
lend a key the other line has replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from gitcoord import events
from gitcoord import git
from gitcoord import model
from gitcoord import signing
from gitcoord import sshkeys
from gitcoord.errors import FatalError
from gitcoord.findings import Finding
from gitcoord.model import Doc

RULE = "signature"
Keys = dict[str, frozenset[str]]  # principal -> the public keys that may sign for it


class Acting(NamedTuple):
    instance: str | None  # None when the commit names none, or more than one
    named: tuple[str, ...]  # every Coord-Instance value in the trailer block


def acting(root: Path, commits: Sequence[str]) -> dict[str, Acting]:
    """The acting instance of each commit, from git's own parse of its trailer block."""
    found = git.trailer_values(root, commits, events.INSTANCE)
    return {sha: Acting(names[0] if len(names) == 1 else None, tuple(names)) for sha, names in found.items()}


class Line(NamedTuple):
    """The line a commit joins through a merge: its registry at the tip, and where the commit's
    own line forked from it (None when not known: then every key the tip lacks counts as retired)."""

    tip: Doc | None
    fork: Doc | None = None


class Expected(NamedTuple):
    """What the parent state asks of a commit's signature."""

    required: bool
    keys: Keys
    human: str
    registers: frozenset[str]  # instances this commit creates with a key (the bootstrap case)
    rekeys: tuple[str, ...] = ()  # whose keys a commit turning signatures on changes too (it may not)
    barred: frozenset[str] = frozenset()  # names a side line registers that the line it joins holds already


def requires(registry: Doc | None) -> bool:
    return registry is not None and model.settings_of(registry).require_signatures


def keys_of(registry: Doc | None) -> Keys:
    """Who may sign, with which keys, in a state: each instance's key, and the human coordinator's."""
    if registry is None:
        return {}
    found: dict[str, set[str]] = {}
    settings = model.settings_of(registry)
    for name, entry in registry["instances"].items():
        # The human coordinator signs with settings.human_key and nothing else: an entry that
        # took the human's name (the rulebook refuses one) lends it no key.
        if entry.get("signing_key") and name != settings.human_coordinator:
            found.setdefault(name, set()).add(entry["signing_key"])
    if settings.human_key:
        found.setdefault(settings.human_coordinator, set()).add(settings.human_key)
    return {name: frozenset(keys) for name, keys in found.items()}


def expected(
    parents: Sequence[Doc | None], new: Doc | None, *, also: Line | None = None, merged: Doc | None = None
) -> Expected:
    """The signature a commit with these parent registries, making registry `new`, must carry.

    A merge commit is judged against `merged`, what the merge driver makes of its parents, and
    its keys are that state's: a merge whose first parent is an old commit cannot borrow a key
    the other parent has since rotated out (without `merged`, the first parent's). `also` is the
    line a commit joins through a merge: a key that line has retired since the fork (a rotation,
    a new human key, a key taken away) no longer counts, and what it requires, it requires. A key
    the commit's own line added since (its own rotation, made with a key both lines held) still signs.
    """
    first = merged if merged is not None and len(parents) > 1 else parents[0] if parents else None
    unsigned = not any(requires(r) for r in [first, *parents]) and (also is None or not requires(also.tip))
    # (A store made from nothing, its parent a code commit, is a root of trust: judged as one.)
    if first is not None and new is not None and unsigned:
        if requires(new):
            return _turning_on(first, new)
        if _rehumaned(first, new):
            return _by_the_human_key(first)
        if also is not None and _rehumaned(also.tip, new) and _human(first) != _human(new):
            # A side line grown from before the human published a key, publishing one of its own:
            # it replaces the key of the line it joins, so that key must sign it.
            return _by_the_human_key(also.tip)
    keys: dict[str, set[str]] = {name: set(held) for name, held in keys_of(first).items()}
    if also is not None:
        current, before = keys_of(also.tip), keys_of(also.fork) if also.fork is not None else None
        known = set((also.tip or {}).get("instances", {}))
        for name in list(keys):
            if name not in current and name in known:
                keys[name] = set()  # the joined line holds the name with no key: revoked there, it signs nothing
            elif name in current:
                if before is None or name not in before:
                    # The fork did not know the name: no key of its own line's making can count here.
                    keys[name] &= current[name]
                else:
                    keys[name] -= before[name] - current[name]
    human = model.settings_of(first).human_coordinator if first is not None else model.DEFAULT_HUMAN
    registers: set[str] = set()
    barred: set[str] = set()
    if len(parents) == 1 and new is not None:
        # The one exception to "keys come from the parent state": a self-registration. The
        # commit that creates an instance's entry may be signed by the key it registers,
        # acting as that new instance, which proves it holds the key. The key counts for
        # that instance only, so it cannot vouch for anyone else in the same commit.
        before = parents[0]["instances"] if parents[0] is not None else {}
        for name, entry in new["instances"].items():
            if name in before or not entry.get("signing_key") or name == human:
                continue
            if _taken(also, name, entry):
                barred.add(name)
            else:
                registers.add(name)
                keys.setdefault(name, set()).add(entry["signing_key"])
    return Expected(
        any(requires(r) for r in parents) or (also is not None and requires(also.tip)),
        {name: frozenset(held) for name, held in keys.items()},
        human,
        frozenset(registers),
        barred=frozenset(barred),
    )


def _turning_on(before: Doc | None, new: Doc) -> Expected:
    """The commit that turns signatures on: nothing was verified before it, so anyone could
    claim to be the human there. It must be signed by the human key it leaves in force, acting as
    the human coordinator, and change no key itself: a key and the rule that makes it count come
    in commits of their own (which `coord key require` checks were proven before it turns them on)."""
    human = model.settings_of(new).human_coordinator
    old, now = keys_of(before), keys_of(new)
    rekeys = tuple(sorted(n for n in {*old, *now} if old.get(n, frozenset()) != now.get(n, frozenset())))
    return Expected(True, {human: now.get(human, frozenset())}, human, frozenset(), rekeys)


def _rehumaned(before: Doc | None, new: Doc) -> bool:
    """Whether a commit replaces or drops a published human key, or names another human
    coordinator where one has a key: proven by that key even before signatures are required,
    or anyone could take the human's place in the window before `coord key require`."""
    return bool(model.settings_of(before or {}).human_key) and _human(new) != _human(before)


def _human(registry: Doc | None) -> tuple[str | None, str]:
    """Who the human coordinator is in a state, and the key they sign with."""
    settings = model.settings_of(registry or {})
    return settings.human_key, settings.human_coordinator


def _by_the_human_key(before: Doc | None) -> Expected:
    human = model.settings_of(before or {}).human_coordinator
    return Expected(True, {human: keys_of(before).get(human, frozenset())}, human, frozenset())


def _taken(also: Line | None, name: str, entry: Doc) -> bool:
    """Whether the line a commit joins knows `name` already, with another key or with none (its key
    taken away there, as a leaked key is revoked): a side line may not register it again."""
    if also is None or name not in (also.tip or {}).get("instances", {}):
        return False
    return entry["signing_key"] not in keys_of(also.tip).get(name, frozenset())


def judge(want: Expected, who: Acting, verdict: signing.Verdict | None) -> list[tuple[str, str]]:
    """What is wrong with one commit's acting instance and signature, given git's verdict: (rule, message)."""
    problems = []
    if len(who.named) > 1:
        named = ", ".join(who.named)
        problems.append(
            ("trailer", f"the commit has {len(who.named)} Coord-Instance trailers ({named}); it acts as one")
        )
    if not want.required:
        return problems
    if want.rekeys:
        message = (
            f"the commit turns signatures on and changes the keys of {', '.join(want.rekeys)} too: publish keys "
            "first, then turn signatures on in a commit of its own (`coord key require`), signed by the human key"
        )
        problems.append((RULE, message))
    actor = who.instance
    # A new entry's key is given by the new instance itself (the bootstrap) or by the human coordinator.
    chosen_by_another = set() if actor == want.human else want.registers - {actor}
    for name in sorted(chosen_by_another):
        message = (
            f"{actor or 'a commit naming no instance'} registered {name} with a signing key; only {name} itself "
            f"(signing with that key) or the human coordinator ({want.human}) gives {name} its key"
        )
        problems.append(("authorization", message))
    if actor is None:
        if not who.named:
            message = (
                "the commit names no acting instance, and this store requires signatures: a coordination "
                "commit carries one Coord-Instance trailer (coord writes it; the prepare-commit-msg hook adds it)"
            )
            problems.append((RULE, message))
        return problems
    held = want.keys.get(actor, frozenset())
    signers = _owners(want.keys, verdict.fingerprint) if verdict else set()
    if verdict is None or verdict.status == "N":
        problems.append(
            (RULE, f"the commit is not signed, but this store requires signatures: {_how(actor, held, want)}")
        )
    elif verdict.status == "B":
        problems.append((RULE, "the commit's signature is bad: the commit was changed after it was signed"))
    elif verdict.status == "G" and signers and actor not in signers:
        signer = ", ".join(sorted(signers))
        problems.append(
            (RULE, f"the commit is signed with {signer}'s key, but acts as {actor} (its Coord-Instance trailer)")
        )
    elif verdict.status == "G" and actor not in signers:
        # A key some other state held: an older one of the actor's, or one from a merge's other side.
        message = f"the commit is signed with a key ({verdict.fingerprint}) the registry does not hold here: "
        problems.append((RULE, message + _how(actor, held, want)))
    elif verdict.status == "U":
        message = (
            f"the commit is signed with a key the registry held for no one before it ({verdict.fingerprint}): "
            + _how(actor, held, want)
        )
        problems.append((RULE, message))
    elif verdict.status != "G":
        message = f"git cannot check the commit's signature (%G? is {verdict.status}): {_how(actor, held, want)}"
        problems.append((RULE, message))
    return problems


def _owners(keys: Keys, fingerprint: str) -> set[str]:
    return {name for name, held in keys.items() for k in held if sshkeys.fingerprint(k) == fingerprint}


def _how(actor: str, held: frozenset[str], want: Expected) -> str:
    if held:
        shown = ", ".join(sorted(sshkeys.fingerprint(k) for k in held))
        return f"{actor} signs with the key the registry holds for it ({shown}); `coord key show` in its clone"
    if actor in want.barred:
        return (
            f"the store's line holds {actor} already, with another key or with none (taken away there): a branch grown "
            f"from before it may not register {actor} again; the human coordinator enrolls its key on the line "
            f"(`coord key set {actor} KEY`)"
        )
    if actor == want.human:
        return (
            f"the registry holds no key for the human coordinator ({actor}); settings.human_key "
            "is set with `coord init --human-key`, or before signatures are required, `coord key publish`"
        )
    return (
        f"the registry holds no key for {actor}: it registers itself with its key (`coord install --as {actor}`, "
        f"then `coord register {actor} --role ROLE`), or the human coordinator enrolls it (`coord key set {actor} KEY`)"
    )


def can_sign(root: Path, parents: Sequence[Doc], new: Doc, actor: str | None) -> None:
    """Refuse, before anything is committed, a commit this clone cannot sign as `coord check` will want it."""
    # A merge this clone makes adds nothing to what the driver made of its parents: `new`.
    want = expected(parents, new, merged=new if len(parents) > 1 else None)
    if not want.required:
        return
    if actor is None:
        raise FatalError("this store requires signed commits by a named instance: " + events.IDENTITY_HELP)
    key = signing.current(root)
    if key is None or not git.config_bool(root, "commit.gpgsign"):
        raise FatalError(
            f"this store requires every coordination commit to be signed, and this clone does not sign its "
            f"commits: `coord install --as {actor}` sets it up; nothing was committed"
        )
    held = want.keys.get(actor, frozenset())
    if key.public not in held:
        raise FatalError(
            f"this clone signs with {key.fingerprint} ({key.path or key.origin}), a key the registry does not hold "
            f"for {actor}, so `coord check` and the server would refuse the commit; nothing was committed. "
            + _how(actor, held, want)
        )


def review(
    root: Path,
    commits: Sequence[git.Change],
    who: Mapping[str, Acting],
    registry_at: Callable[[str], Doc | None],
    *,
    also: Mapping[str, Line] | None = None,
    merged: Mapping[str, Doc | None] | None = None,
) -> list[Finding]:
    """The signature and trailer findings of `commits` (those that change coordination files).

    `also`: for a commit a merge brings in, the line it joins; `merged`: for a
    merge commit, the registry the driver makes of its parents (see `expected`).
    git verifies the commits in one call per distinct set of allowed signers."""
    others, bases = also or {}, merged or {}
    wants = {
        c.sha: expected(
            [registry_at(p) for p in c.parents], registry_at(c.sha), also=others.get(c.sha), merged=bases.get(c.sha)
        )
        for c in commits
    }
    batches: dict[tuple[tuple[str, frozenset[str]], ...], list[str]] = {}
    for sha, want in wants.items():
        if want.required and who[sha].instance is not None:
            batches.setdefault(tuple(sorted(want.keys.items())), []).append(sha)
    verdicts: dict[str, signing.Verdict] = {}
    for keys, shas in batches.items():
        verdicts.update(signing.verify(root, shas, dict(keys)))
    return [
        Finding(model.REGISTRY, (), rule, message, commit=c.sha)
        for c in commits
        for rule, message in judge(wants[c.sha], who[c.sha], verdicts.get(c.sha))
    ]
