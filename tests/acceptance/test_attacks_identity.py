"""Attacks on who acts: impersonation, keys, self-promotion and the registry's and settings' fields.

instance-3 is the attacker: registered, holding its own key, and editing the store by hand past
every client hook. Each forged commit is refused by the server's gate, which names the rule and
moves no ref, and found by `coord check --range` in the attacker's own clone; each family has an
honest twin, the same kind of change made by who may make it, which both accept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from testing.forgery import OWN
from testing.forgery import Forger
from testing.forgery import accepted
from testing.forgery import found
from testing.forgery import new_key
from testing.forgery import new_task
from testing.forgery import refused
from testing.forgery import register
from testing.repos import git
from testing.signed import HUMAN
from testing.signed import Team

from gitcoord import model

REG = model.REGISTRY
ME, VICTIM = "instance-3", "instance-1"
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
TOMORROW = (NOW + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instance(name: str, **fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["instances"][name].update(fields)


def _settings(**fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["settings"].update(fields)


# Impersonation: the label (trailer) and the signature must agree, and name one registered actor --------------

# (id, acting as, how it is signed, the message if not the usual one, rule)
IMPERSONATIONS = [
    ("trailer-of-another", VICTIM, OWN, None, "signature"),
    ("trailer-of-the-human", HUMAN, OWN, None, "signature"),
    ("no-trailer", "", OWN, None, "signature"),
    ("unsigned-as-itself", ME, None, None, "signature"),
    ("two-trailers", ME, OWN, f"x\n\nCoord-Instance: {ME}\nCoord-Instance: {VICTIM}\n", "trailer"),
    ("trailer-in-the-body", VICTIM, OWN, f"x\n\nCoord-Instance: {VICTIM}\n\nnot a trailer paragraph\n", "signature"),
    ("lower-case-trailer-key", VICTIM, OWN, f"x\n\ncoord-instance: {VICTIM}\n", "signature"),
    # Beyond the scripts: an instance the example lists but that holds no key yet, and a name no one has.
    ("trailer-of-a-keyless-instance", "instance-4", OWN, None, "signature"),
    ("trailer-of-no-one", "instance-99", OWN, None, "signature"),
]


@pytest.mark.parametrize(
    ("actor", "key", "message", "rule"), [c[1:] for c in IMPERSONATIONS], ids=[c[0] for c in IMPERSONATIONS]
)
def test_a_commit_that_is_not_what_its_signature_says_is_refused(
    attacker: Forger, actor: str, key: Path | None, message: str | None, rule: str
) -> None:
    attacker.edit(REG, _instance(VICTIM, expertise_areas=["forged"]))
    attacker.commit("an edit of instance-1's entry", actor=actor, key=key, message=message)
    refused(attacker, rule)
    found(attacker, rule)


def test_a_key_no_one_registered_signs_for_no_one(attacker: Forger, tmp_path: Path) -> None:
    stranger, _ = new_key(tmp_path, "stranger")
    attacker.edit(REG, _instance(ME, expertise_areas=["mine"]))
    attacker.commit("my own entry, signed by a key I just made", key=stranger)
    refused(attacker, "signature")
    found(attacker, "signature")


def test_impersonation_in_a_merge_commit_is_refused(example_team: Team) -> None:
    """The same forgery carried by a merge: its own label and signature are checked like any commit's."""
    attacker = Forger(example_team, ME).fresh()
    example_team.ok(VICTIM, "checkin", "--sync")
    attacker.edit(REG, _instance(ME, expertise_areas=["mine"]))
    attacker.commit("my own entry")
    git(attacker.clone, "fetch", "-q", "origin")
    attacker.merge("origin/main")
    attacker.commit("merge, acting as instance-1", actor=VICTIM)
    refused(attacker, "signature")
    found(attacker, "signature")


@pytest.mark.parametrize("ref", ["refs/heads/elsewhere", "refs/tags/innocent", "refs/coord/main"])
def test_impersonation_pushed_to_another_ref_is_refused(attacker: Forger, ref: str) -> None:
    attacker.edit(REG, _settings(require_signatures=False))
    attacker.commit("the human turns signatures off", actor=HUMAN, key=None)
    refused(attacker, "signature", f"HEAD:{ref}")


def test_the_honest_twin_each_signs_as_itself(example_team: Team) -> None:
    attacker = Forger(example_team, ME).fresh()
    attacker.edit(REG, _instance(ME, expertise_areas=["python"]))
    attacker.commit("instance-3 lists its expertise")
    accepted(attacker)
    human = Forger(example_team, HUMAN).fresh()
    human.edit(REG, _settings(lease_hours=12))
    human.commit("the human shortens the lease")
    accepted(human)


# Takeovers of the registry and the settings ---------------------------------------------------------------

# (id, change, rule): each made by instance-3, signed by itself, as itself.
REGISTRY_TAKEOVERS = [
    ("another-s-role", _instance(VICTIM, role="intern"), "authorization"),
    ("another-s-status", _instance(VICTIM, status="offline"), "authorization"),
    ("another-s-current-task", _instance(VICTIM, current_task="task_002"), "authorization"),
    ("another-s-consultation", _instance(VICTIM, available_for_consultation=False), "authorization"),
    ("another-s-last-update", _instance(VICTIM, last_update=NOW.strftime("%Y-%m-%dT%H:%M:%SZ")), "authorization"),
    (
        "another-s-key",
        lambda d: d["instances"][VICTIM].update(signing_key=d["instances"][ME]["signing_key"]),
        "authorization",
    ),
    (
        "my-key-is-another-s",
        lambda d: d["instances"][ME].update(signing_key=d["instances"][VICTIM]["signing_key"]),
        "duplicate-id",
    ),
    ("another-s-entry-deleted", lambda d: d["instances"].pop(VICTIM), "deleted"),
    ("require-signatures-off", _settings(require_signatures=False), "authorization"),
    ("human-coordinator-is-me", _settings(human_coordinator=ME), "authorization"),
    ("human-key-dropped", lambda d: d["settings"].pop("human_key"), "authorization"),
    ("lease-hours", _settings(lease_hours=0.01), "authorization"),
    ("archive-after-days", _settings(archive_after_days=0), "authorization"),
    ("protocol-version", lambda d: d.update(coordination_protocol_version="2.0"), "authorization"),
    ("last-registry-update-tomorrow", lambda d: d.update(last_registry_update=TOMORROW), "time"),
]


@pytest.mark.parametrize(
    ("change", "rule"), [c[1:] for c in REGISTRY_TAKEOVERS], ids=[c[0] for c in REGISTRY_TAKEOVERS]
)
def test_a_registry_or_settings_takeover_is_refused(
    attacker: Forger, change: Callable[[dict[str, Any]], None], rule: str
) -> None:
    attacker.edit(REG, change)
    attacker.commit("a registry change")
    refused(attacker, rule)
    found(attacker, rule)


@pytest.mark.parametrize(
    ("name", "rule"), [("ghost", "authorization"), (HUMAN, "authorization")], ids=["another-instance", "the-human"]
)
def test_registering_someone_else_with_a_key_i_chose_is_refused(attacker: Forger, name: str, rule: str) -> None:
    attacker.edit(REG, lambda d: register(name, signing_key=d["instances"][ME]["signing_key"])(d))
    attacker.commit(f"register {name}")
    refused(attacker, rule)
    found(attacker, rule)


# Keys: a key vouches only for what the parent state says it does ------------------------------------------


def test_an_instance_cannot_vouch_for_its_new_key_with_the_new_key(attacker: Forger, tmp_path: Path) -> None:
    path, key = new_key(tmp_path, "k2")
    attacker.edit(REG, _instance(ME, signing_key=key))
    attacker.commit("instance-3 sets its key and signs with it", key=path)
    refused(attacker, "signature")
    found(attacker, "signature")


def test_the_human_key_cannot_be_swapped_under_the_new_key(attacker: Forger, tmp_path: Path) -> None:
    path, key = new_key(tmp_path, "k2")
    attacker.edit(REG, _settings(human_key=key))
    attacker.commit("human sets human_key and signs with it", actor=HUMAN, key=path)
    refused(attacker, "signature")
    found(attacker, "signature")


def test_a_new_key_vouches_only_for_its_own_new_instance(attacker: Forger, tmp_path: Path) -> None:
    path, key = new_key(tmp_path, "newbie")
    attacker.edit(REG, register("newbie", signing_key=key))
    attacker.commit("register newbie, acting as instance-3, signed by newbie's key", key=path)
    refused(attacker, "signature")
    found(attacker, "signature")


@pytest.mark.parametrize("also", ["adds-a-task", "registers-another", "edits-another"])
def test_a_self_registration_does_nothing_else(attacker: Forger, tmp_path: Path, also: str) -> None:
    path, key = new_key(tmp_path, "newbie")
    attacker.edit(REG, register("newbie", signing_key=key))
    if also == "adds-a-task":
        attacker.edit(model.TASKS, lambda d: d["pending_tasks"].append(new_task("task_nb", "newbie")))
    elif also == "registers-another":
        attacker.edit(REG, lambda d: register("newbie2", signing_key=d["instances"][VICTIM]["signing_key"])(d))
    else:
        attacker.edit(REG, _instance(VICTIM, expertise_areas=["newbie says"]))
    attacker.commit("newbie registers itself, and more", actor="newbie", key=path)
    refused(attacker, "authorization")
    found(attacker, "authorization")


def test_the_honest_twins_a_self_registration_and_a_key_rotation(example_team: Team, tmp_path: Path) -> None:
    attacker = Forger(example_team, ME).fresh()
    path, key = new_key(tmp_path, "newbie")
    attacker.edit(REG, register("newbie", signing_key=key))
    attacker.commit("newbie registers itself", actor="newbie", key=path)
    accepted(attacker)
    example_team.ok(ME, "sync")
    example_team.ok(ME, "key", "rotate", "--sync")
    root = git(example_team.remote, "rev-list", "--max-parents=0", "main")
    assert example_team.ok(HUMAN, "sync") is not None
    assert example_team.ok(HUMAN, "check", "--range", f"{root}..origin/main").startswith("ok: ")


def test_an_outsider_cannot_become_the_human(example_team: Team, tmp_path: Path) -> None:
    """An outsider's clone registers an entry named like the human coordinator with its own key, acting as
    the human; then, as that "human", swaps the human's key and turns signatures off."""
    outsider = Forger(example_team, ME).fresh()
    path, key = new_key(tmp_path, "evil")
    outsider.edit(REG, register(HUMAN, signing_key=key, role="coordinator"))
    outsider.commit("human registers", actor=HUMAN, key=path)
    said = refused(outsider, "authorization")
    assert "the human coordinator's name" in said
    found(outsider, "signature")
    outsider.edit(REG, _settings(human_key=key, require_signatures=False))
    outsider.commit("human takes over", actor=HUMAN, key=path)
    refused(outsider, "signature")
    found(outsider, "signature")


def test_an_outsider_with_coord_s_own_commands_cannot_become_the_human(
    example_team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = git(example_team.remote, "rev-parse", "main")
    outsider = tmp_path / "outsider"
    git(tmp_path, "clone", "-q", str(example_team.remote), str(outsider))
    monkeypatch.setenv("COORD_KEYS_DIR", str(tmp_path / "outsider-keys"))  # another machine: its own "human" key
    installed = example_team.coord(outsider, "install", "--as", HUMAN)
    assert installed.code == 1, "judged as the human with another key, no commit of the store is good"
    assert "the registry holds another key for human" in installed.out, installed
    registered = example_team.coord(outsider, "register", HUMAN, "--role", "coordinator", "--sync")
    assert registered.code != 0, registered
    swapped = example_team.coord(outsider, "key", "set", HUMAN, f"@{tmp_path}/outsider-keys/{HUMAN}.pub", "--sync")
    assert swapped.code != 0, swapped
    assert git(example_team.remote, "rev-parse", "main") == before
