"""Keys from the command line: install --as, init with a human key, register, and `coord key`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from testing.forgery import new_key
from testing.repos import bare_remote
from testing.repos import git
from testing.repos import make_repo
from testing.signed import HUMAN
from testing.signed import Team
from tests.conftest import Coord

from gitcoord import model
from gitcoord import sshkeys


def registry(clone: Path) -> Any:
    return json.loads(git(clone, "show", f"main:coordination/{model.REGISTRY}"))


def public_key(clone: Path) -> str:
    return " ".join(Path(git(clone, "config", "user.signingkey") + ".pub").read_text().split()[:2])


def test_install_as_sets_up_identity_and_signing_and_is_idempotent(seed_repo: Path, coord: Coord) -> None:
    first = coord(seed_repo, "install", "--as", "instance-3")
    assert first.code == 0, first
    assert git(seed_repo, "config", "coord.instance") == "instance-3"
    assert git(seed_repo, "config", "gpg.format") == "ssh"
    assert git(seed_repo, "config", "commit.gpgsign") == "true"
    path = git(seed_repo, "config", "user.signingkey")
    assert f"signs its commits with {path} (created)" in first.out
    assert public_key(seed_repo) in first.out
    assert "next: `coord key publish`" in first.out, "the seed's instance-3 has no key yet, and none is required"
    again = coord(seed_repo, "install", "--as", "instance-3", "--json")
    data = json.loads(again.out)["data"]
    assert data["changed"] == []
    assert (data["instance"], data["key_path"], data["signing_key"]) == ("instance-3", path, public_key(seed_repo))
    assert coord(seed_repo, "install", "--as", "../x").code == 1


def test_init_as_the_human_requires_signatures_with_this_clone_key(repo: Path, coord: Coord) -> None:
    result = coord(repo, "init", "--as", HUMAN, "--branch", "main")
    assert result.code == 0, result
    settings = registry(repo)["settings"]
    assert settings == {"require_signatures": True, "human_key": public_key(repo)}
    assert "signatures are required" in result.out
    assert "signatures are not required" not in result.err
    assert "gpgsig" in git(repo, "cat-file", "commit", "HEAD"), "the first commit is signed too"
    assert coord(repo, "validate").code == 0


def test_init_without_a_human_key_says_how_to_require_signatures(repo: Path, coord: Coord) -> None:
    result = coord(repo, "init", "--json", "--branch", "main")
    assert result.code == 0
    envelope = json.loads(result.out)
    assert envelope["data"]["require_signatures"] is False
    assert "settings" not in registry(repo)
    [note] = envelope["notes"]  # with --json the notes are in the envelope; stderr stays quiet
    assert "signatures are not required in this store yet" in note
    assert "coord key require" in note
    assert result.err == ""


def test_init_with_a_human_key_from_a_file(tmp_path: Path, coord: Coord) -> None:
    human = make_repo(tmp_path / "human")
    assert coord(human, "install", "--as", HUMAN).code == 0
    agent = make_repo(tmp_path / "agent")
    pub = git(human, "config", "user.signingkey") + ".pub"
    result = coord(agent, "--as", "instance-2", "init", "--example", "--human-key", f"@{pub}", "--branch", "main")
    assert result.code == 0, result
    assert registry(agent)["settings"]["human_key"] == public_key(human)
    assert registry(agent)["instances"]["instance-1"]["role"] == "architecture-backend", "the seed, plus settings"
    assert coord(agent, "init", "--human-key", f"@{pub}").code == 1, "only a new store takes --human-key"
    other = make_repo(tmp_path / "other")
    refused = coord(other, "--as", HUMAN, "init", "--human-key", "@" + str(tmp_path / "nope.pub"), "--branch", "main")
    assert (refused.code, "cannot read the key" in refused.err) == (1, True)
    agent_pub = git(agent, "config", "user.signingkey") + ".pub"
    mismatch = coord(other, "--as", HUMAN, "init", "--human-key", f"@{agent_pub}", "--branch", "main")
    assert mismatch.code == 1
    assert "is not the key this clone signs with" in mismatch.err


@pytest.fixture
def team(signed_team: Team) -> Team:
    return signed_team


def test_a_key_git_config_names_for_everyone_serves_one_instance_only(team: Team, tmp_path: Path, coord: Coord) -> None:
    """A personal signing key in the global git config: instance-1 took it; instance-9 gets its own."""
    clone = tmp_path / "instance-9"
    git(team.base, "clone", "-q", str(team.remote), str(clone))
    personal = tmp_path / "id_ed25519"
    for suffix in ("", ".pub"):  # the person's own key, which instance-1's clone signs with too
        Path(f"{personal}{suffix}").write_bytes(
            Path(git(team.clones["instance-1"], "config", "user.signingkey") + suffix).read_bytes()
        )
    personal.chmod(0o600)
    taken = str(personal)
    git(clone, "config", "gpg.format", "ssh")
    git(clone, "config", "user.signingkey", taken)
    joined = coord(clone, "install", "--as", "instance-9")
    assert joined.code == 0, joined
    assert git(clone, "config", "user.signingkey") != taken
    assert public_key(clone) != public_key(team.clones["instance-1"])
    assert coord(clone, "register", "instance-9", "--role", "developer").code == 0


def test_self_registration_puts_the_clone_key_in_the_entry(team: Team) -> None:
    entries = registry(team.clones["instance-2"])["instances"]
    assert entries["instance-1"]["signing_key"] == public_key(team.clones["instance-1"])
    assert entries["instance-2"]["signing_key"] == public_key(team.clones["instance-2"])


def test_the_human_enrolls_another_instance_with_its_key(team: Team, tmp_path: Path, coord: Coord) -> None:
    newcomer = tmp_path / "instance-3"
    git(tmp_path, "clone", "-q", str(team.remote), str(newcomer))
    assert coord(newcomer, "install", "--as", "instance-3").code == 0
    pub = git(newcomer, "config", "user.signingkey") + ".pub"
    team.fresh("instance-1")
    by_instance = team.run("instance-1", "register", "instance-3", "--role", "qa", "--key", f"@{pub}")
    assert by_instance.code == 1
    assert "instance-1 may not set the signing key of instance-3" in by_instance.err
    team.fresh(HUMAN)
    team.ok(HUMAN, "register", "instance-3", "--role", "qa", "--key", f"@{pub}", "--sync")
    assert coord(newcomer, "checkin", "--sync").code == 0, "it signs as itself at once"


def test_key_set_an_instance_its_own_the_human_anyone(team: Team, tmp_path: Path, coord: Coord) -> None:
    spare = make_repo(tmp_path / "spare")
    assert coord(spare, "install", "--as", "spare").code == 0
    spare_key = public_key(spare)
    team.fresh("instance-1")
    refused = team.run("instance-1", "key", "set", "instance-2", spare_key)
    assert (refused.code, "an instance sets only its own" in refused.err) == (1, True)
    taken = team.run("instance-1", "key", "set", "instance-1", public_key(team.clones["instance-2"]))
    assert (taken.code, "already instance-2's" in taken.err) == (1, True)
    not_a_key = team.run("instance-1", "key", "set", "instance-1", "hello")
    assert (not_a_key.code, "is not an OpenSSH public key" in not_a_key.err) == (1, True)
    head = git(team.clones["instance-1"], "rev-parse", "main")
    same = team.run("instance-1", "key", "publish")
    assert (same.code, "already holds this key for instance-1; nothing to do" in same.out) == (0, True), same
    assert git(team.clones["instance-1"], "rev-parse", "main") == head, "nothing committed"
    again = team.run("instance-1", "key", "set", "instance-1", public_key(team.clones["instance-1"]))
    assert (again.code, "already holds this key" in again.err) == (1, True), "set names a key: the same is refused"
    team.fresh(HUMAN)
    set_ = team.ok(HUMAN, "key", "set", "instance-2", spare_key, "--sync")
    assert "human changes the signing key of instance-2" in set_
    assert registry(team.clones[HUMAN])["instances"]["instance-2"]["signing_key"] == spare_key
    # instance-2's clone still signs with its old key: it is refused before committing anything.
    team.ok("instance-2", "sync")
    head = git(team.clones["instance-2"], "rev-parse", "main")
    stale = team.run("instance-2", "checkin")
    assert stale.code == 1
    assert "a key the registry does not hold for instance-2" in stale.err
    assert git(team.clones["instance-2"], "rev-parse", "main") == head


def test_key_rotate_signs_the_change_with_the_old_key_then_uses_the_new(team: Team) -> None:
    clone = team.clones["instance-1"]
    team.fresh("instance-1")
    old = public_key(clone)
    rotated = team.run("instance-1", "key", "rotate", "--sync")
    assert rotated.code == 0, rotated
    new = public_key(clone)
    assert new != old
    assert registry(clone)["instances"]["instance-1"]["signing_key"] == new
    retired = Path(git(clone, "config", "user.signingkey")).with_name("instance-1.retired-0")
    assert retired.exists(), "the old key is kept"
    team.ok("instance-1", "checkin", "--sync")  # signed with the new key, through the gate
    root = git(clone, "rev-list", "--max-parents=0", "main")
    assert team.ok("instance-1", "check", "--range", f"{root}..main").startswith("ok: ")


def test_a_rotation_that_loses_the_race_is_made_again_with_no_merge(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Made again on the remote's new tip, signed with the old key that tip's registry holds, then adopted."""
    from gitcoord.commands import step

    team.fresh("instance-1")
    team.ok("instance-2", "checkin", "--sync")  # instance-1 has not seen it
    old = public_key(team.clones["instance-1"])
    monkeypatch.setattr(step, "_caught_up", lambda ws, out: (None, None))  # its push then meets what it had not seen
    rotated = team.run("instance-1", "key", "rotate", "--sync", "--json")
    assert rotated.code == 0, rotated
    assert json.loads(rotated.out)["data"]["sync"]["merged"] is False
    clone = team.clones["instance-1"]
    assert git(clone, "rev-list", "--merges", "--count", "origin/main") == "0"
    assert git(clone, "rev-parse", "main") == git(clone, "rev-parse", "origin/main")
    assert "\ngpgsig " in git(clone, "cat-file", "commit", "origin/main"), "signed: the gate took it by the old key"
    new = public_key(clone)
    assert new != old
    assert registry(clone)["instances"]["instance-1"]["signing_key"] == new
    monkeypatch.undo()
    assert team.run("instance-1", "checkin", "--sync").code == 0, "the new key signs from here on"


def test_a_rotation_kept_local_merges_with_the_others_work_through_the_gate(team: Team) -> None:
    """The key the rotation added is the brought line's own: the line it joins never retired it."""
    team.fresh("instance-1")
    team.ok("instance-1", "key", "rotate", "--no-sync")
    team.ok("instance-1", "checkin", "--no-sync")  # signed with the new key, which origin has not seen
    team.ok("instance-2", "msg", "send", "--to", "human", "--subject", "status", "--body", "fine", "--sync")
    assert "merged with origin" in team.ok("instance-1", "sync")
    clone = team.clones["instance-1"]
    root = git(clone, "rev-list", "--max-parents=0", "main")
    assert team.ok("instance-1", "check", "--range", f"{root}..main").startswith("ok: ")


def test_key_show_compares_this_clone_with_the_registry(team: Team) -> None:
    shown = json.loads(team.ok("instance-1", "key", "show", "--json"))["data"]
    assert shown["matches"] is True
    assert shown["require_signatures"] is True
    assert shown["signing_key"] == public_key(team.clones["instance-1"])
    text = team.ok("instance-1", "key", "show")
    assert "the registry holds the same key for instance-1" in text


def test_key_require_for_an_existing_store(tmp_path: Path, coord: Coord) -> None:
    """A store started without a human key: keys published, then the human turns signatures on."""
    remote = bare_remote(tmp_path / "remote.git")
    human = make_repo(tmp_path / "human")
    git(human, "remote", "add", "origin", str(remote))
    assert coord(human, "init", "--example", "--branch", "main").code == 0
    assert coord(human, "sync").code == 0
    assert coord(human, "install", "--as", HUMAN).code == 0
    for name in ("instance-1", "instance-2", "instance-3", "instance-4", "instance-5", "instance-6"):
        assert coord(human, "--as", name, "checkin").code == 0  # all active, none with a key
    by_instance = coord(human, "--as", "instance-1", "key", "require")
    assert (by_instance.code, "only the human coordinator" in by_instance.err) == (1, True)
    keyless = coord(human, "--as", HUMAN, "key", "require")
    assert (keyless.code, "the human coordinator (human) has no key" in keyless.err) == (1, True)
    # Before signatures are required, the human coordinator publishes the human key.
    assert coord(human, "--as", HUMAN, "key", "publish").code == 0
    refused = coord(human, "--as", HUMAN, "key", "require")
    assert refused.code == 1
    assert (
        "instance-1, instance-2, instance-3, instance-4, instance-5, instance-6 are active without a signing key"
        in refused.err
    )
    clones = _published(tmp_path, coord, remote, ("instance-1", "instance-2", "instance-3", "instance-4"))
    clones |= _published(tmp_path, coord, remote, ("instance-5", "instance-6"))
    assert coord(human, "sync").code == 0
    done = coord(human, "--as", HUMAN, "key", "require", "--sync")
    assert done.code == 0, done
    assert "confirm each fingerprint with its holder out of band: human SHA256:" in done.err, done
    assert f"instance-6 {_fingerprint(clones['instance-6'])}" in done.err, done
    assert registry(human)["settings"]["require_signatures"] is True
    unsigned = coord(human, "--as", "instance-1", "checkin")
    assert (unsigned.code, "a key the registry does not hold for instance-1" in unsigned.err) == (1, True)
    assert coord(clones["instance-1"], "checkin", "--sync").code == 0


def _published(
    tmp_path: Path, coord: Coord, remote: Path, names: tuple[str, ...], *, register: bool = False
) -> dict[str, Path]:
    """A clone for each of `names`, which installs as it and publishes its key (registering with it)."""
    clones = {}
    for name in names:
        clones[name] = tmp_path / name
        git(tmp_path, "clone", "-q", str(remote), str(clones[name]))
        assert coord(clones[name], "install", "--as", name).code == 0
        assert coord(clones[name], "sync").code == 0
        publish = ["register", name, "--role", "developer"] if register else ["key", "publish"]
        assert coord(clones[name], *publish, "--sync").code == 0
    return clones


def _fingerprint(clone: Path) -> str:
    return sshkeys.fingerprint(sshkeys.parse(public_key(clone)))


def _unsigned_store(tmp_path: Path, coord: Coord, *, gate: bool = False) -> tuple[Path, dict[str, Path]]:
    """A store started without signatures, the human's key published, instance-1 and -2 registered with theirs."""
    remote = bare_remote(tmp_path / "remote.git")
    if gate:
        assert coord(remote, "install", "--server").code == 0
    human = make_repo(tmp_path / "human")
    git(human, "remote", "add", "origin", str(remote))
    for step in (["init", "--branch", "main"], ["sync"], ["install", "--as", HUMAN], ["key", "publish", "--sync"]):
        assert coord(human, *step).code == 0
    return human, _published(tmp_path, coord, remote, ("instance-1", "instance-2"), register=True)


def _edit_registry(clone: Path, change: Callable[[dict[str, Any]], object]) -> None:
    doc = json.loads((clone / "coordination" / model.REGISTRY).read_text())
    change(doc)
    (clone / "coordination" / model.REGISTRY).write_text(json.dumps(doc, indent=2) + "\n")


@pytest.mark.parametrize("taken_out_first", [False, True], ids=["replaced", "taken out, then a first key"])
def test_key_require_does_not_bless_a_key_planted_before_signatures_counted(
    tmp_path: Path, coord: Coord, taken_out_first: bool
) -> None:
    """Unverified, a commit naming instance-1 could write any key into its entry; signed by the key
    it plants, it still proves nothing: a key that replaced another is proven by the one it replaced,
    however many commits earlier that one was taken out."""
    human, clones = _unsigned_store(tmp_path, coord)
    attacker = clones["instance-2"]
    planted, public = new_key(tmp_path, "planted")
    as_one = ["-c", "coord.instance=instance-1", "-c", f"user.signingkey={planted}"]
    if taken_out_first:
        _edit_registry(attacker, lambda d: d["instances"]["instance-1"].pop("signing_key"))
        git(attacker, *as_one, "commit", "-qam", "coord(key): instance-1 takes its key out")
    _edit_registry(attacker, lambda d: d["instances"]["instance-1"].update(signing_key=public))
    git(attacker, *as_one, "commit", "-qam", "coord(key): instance-1 publishes its key")
    assert coord(attacker, "sync").code == 0, "nothing verified yet: the rules let instance-1 set its own key"
    assert coord(human, "sync").code == 0
    refused = coord(human, "key", "require")
    assert refused.code == 1, refused
    said = refused.err.replace("\n", " ")
    assert "instance-1: " in said, said
    assert "signed neither by the key it replaced as instance-1 nor by the human coordinator's" in said, said
    assert "instance-2:" not in said, "its own key, signed by itself when it published it"
    assert registry(human)["settings"].get("require_signatures") is not True
    # The human asks instance-1 for its key and enrolls it: now its entry is proven.
    assert coord(human, "key", "set", "instance-1", public_key(clones["instance-1"])).code == 0
    done = coord(human, "key", "require")
    assert done.code == 0, done
    assert f"instance-1 {_fingerprint(clones['instance-1'])}" in done.err, done


@pytest.mark.parametrize("how", ["planted, taken out, put back", "moved from another entry"])
def test_key_require_proves_every_write_of_a_key_not_only_the_newest(tmp_path: Path, coord: Coord, how: str) -> None:
    """Every commit after which instance-1 holds the key must be proven, each found by comparing the
    registry's versions: a plant laundered by taking the key out and putting it back signed by itself,
    or a rotated-out (leaked) key moved back from a decoy entry (the count of its text unchanged,
    which a text search would pass by for the registration the key once really signed)."""
    human, clones = _unsigned_store(tmp_path, coord)
    attacker = clones["instance-2"]
    as_one = ["-c", "coord.instance=instance-1"]
    if how == "planted, taken out, put back":
        planted, public = new_key(tmp_path, "planted")
        signed = [*as_one, "-c", f"user.signingkey={planted}"]
        for change, subject in (
            (lambda d: d["instances"]["instance-1"].update(signing_key=public), "instance-1 sets its key"),
            (lambda d: d["instances"]["instance-1"].pop("signing_key"), "instance-1 takes its key out"),
            (lambda d: d["instances"]["instance-1"].update(signing_key=public), "instance-1 publishes its key"),
        ):
            _edit_registry(attacker, change)
            git(attacker, *signed, "commit", "-qam", f"coord(key): {subject}")
    else:
        leaked = public_key(clones["instance-1"])
        assert coord(clones["instance-1"], "key", "rotate", "--sync").code == 0
        assert coord(attacker, "sync").code == 0
        _edit_registry(
            attacker,
            lambda d: d["instances"].update({"instance-9": {**d["instances"]["instance-2"], "signing_key": leaked}}),
        )
        git(attacker, "-c", "coord.instance=instance-9", "commit", "-qam", "coord(registry): instance-9 registers")
        public = leaked

        def moved(d: dict[str, Any]) -> None:
            d["instances"]["instance-9"].pop("signing_key")
            d["instances"]["instance-1"]["signing_key"] = leaked

        _edit_registry(attacker, moved)
        git(attacker, "-c", f"coord.instance={HUMAN}", "commit", "-qam", "coord(key): the human moves a key")
    assert coord(attacker, "sync").code == 0, "nothing verified yet"
    assert coord(human, "sync").code == 0
    assert registry(human)["instances"]["instance-1"]["signing_key"] == public
    refused = coord(human, "key", "require")
    assert refused.code == 1, refused
    said = refused.err.replace("\n", " ")
    assert "instance-1: " in said, said
    assert "signed neither by the key it replaced as instance-1 nor by the human coordinator's" in said, said
    assert registry(human)["settings"].get("require_signatures") is not True


def test_key_require_does_not_bless_a_key_a_merge_settled_over_the_published_one(tmp_path: Path, coord: Coord) -> None:
    """instance-1 was enrolled with no key and published its own since. A side line from before
    that writes another key into its entry, and a merge settles the conflict the side's way: the
    merge replaced instance-1's key, and nothing that key signed proves it."""
    remote = bare_remote(tmp_path / "remote.git")
    assert coord(remote, "install", "--server").code == 0
    human = make_repo(tmp_path / "human")
    git(human, "remote", "add", "origin", str(remote))
    for step in (["init", "--branch", "main"], ["sync"], ["--as", HUMAN, "register", "instance-1", "--role", "dev"]):
        assert coord(human, *step).code == 0
    assert coord(human, "sync").code == 0
    before = git(human, "rev-parse", "HEAD")
    clones = _published(tmp_path, coord, remote, ("instance-1",))
    clones |= _published(tmp_path, coord, remote, ("instance-2",), register=True)
    attacker, side = clones["instance-2"], tmp_path / "side"
    git(attacker, "fetch", "-q", "origin")
    git(attacker, "worktree", "add", "-q", "--detach", str(side), before)
    planted, public = new_key(tmp_path, "planted")
    _edit_registry(side, lambda d: d["instances"]["instance-1"].update(signing_key=public))
    signed = ["-c", "core.hooksPath=/dev/null", "-c", "gpg.format=ssh", "-c", "commit.gpgsign=true"]
    message = "coord(key): instance-1 publishes its key\n\nCoord-Instance: instance-1"
    git(side, *signed, "-c", f"user.signingkey={planted}", "commit", "-qam", message)
    subprocess.run(["git", *signed, "merge", "-q", "--no-ff", "--no-commit", "origin/main"], cwd=side, check=False)
    [conflict] = json.loads(coord(side, "resolve", "--json").out)["data"]
    mine = conflict["values"].index(public) + 1
    assert coord(side, "resolve", "instance-1", "signing_key", "--pick", str(mine)).code == 0
    git(side, "add", "-A")
    own = git(attacker, "config", "user.signingkey")
    git(side, *signed, "-c", f"user.signingkey={own}", "commit", "-qm", "coord: merge\n\nCoord-Instance: instance-2")
    git(side, "push", "-q", "--no-verify", "origin", "HEAD:main")  # unsigned yet: the gate has no say
    assert coord(human, "sync").code == 0
    assert coord(human, "install", "--as", HUMAN).code == 0
    assert coord(human, "key", "publish", "--sync").code == 0
    refused = coord(human, "key", "require")
    assert refused.code == 1, refused
    said = refused.err.replace("\n", " ")
    assert "instance-1: " in said, said
    assert "signed neither by the key it replaced as instance-1" in said, said
    assert registry(human)["settings"].get("require_signatures") is not True


def test_the_gate_lets_no_one_but_the_human_key_turn_signatures_on_or_replace_it(tmp_path: Path, coord: Coord) -> None:
    """Before signatures are required nothing is verified, but the published human key is: taking
    its place, or turning signatures on with a key of one's own, would lock the human out for good."""
    human, clones = _unsigned_store(tmp_path, coord, gate=True)
    attacker = clones["instance-2"]
    planted, public = new_key(tmp_path, "planted")
    as_human = ["-c", f"coord.instance={HUMAN}", "-c", f"user.signingkey={planted}"]
    before = git(attacker, "rev-parse", "origin/main")
    for change in (
        lambda d: d["settings"].update(human_key=public, require_signatures=True),
        lambda d: d["settings"].update(human_key=public),
        lambda d: d["settings"].update(human_coordinator="instance-2"),
    ):
        git(attacker, "reset", "-q", "--hard", before)
        _edit_registry(attacker, change)
        git(attacker, *as_human, "commit", "-qam", "coord(key): the human's key", "--no-verify")
        pushed = subprocess.run(
            ["git", "push", "--no-verify", "origin", "HEAD:main"],
            cwd=attacker,
            capture_output=True,
            text=True,
            check=False,
        )
        assert pushed.returncode != 0, pushed.stderr
        assert "[signature]" in pushed.stderr, pushed.stderr
    # The human turns them on, in a commit of its own signed with the key it leaves in force.
    assert coord(human, "key", "require", "--sync").code == 0
    assert registry(human)["settings"]["require_signatures"] is True


@pytest.mark.parametrize("joined", ["pushed beside", "merged in"])
def test_a_side_line_from_before_the_human_key_cannot_publish_another(
    tmp_path: Path, coord: Coord, joined: str
) -> None:
    """A line grown from before the human published a key, publishing one of its own, replaces the
    published key of the line it joins: that key must sign it, on a branch beside or merged in."""
    _, clones = _unsigned_store(tmp_path, coord, gate=True)
    attacker = clones["instance-2"]
    published = git(attacker, "log", "--format=%H", "-1", "-Shuman_key", "origin/main", "--", "coordination")
    side = tmp_path / "side"
    git(attacker, "worktree", "add", "-q", "--detach", str(side), f"{published}~1")
    planted, public = new_key(tmp_path, "planted")
    signed = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={planted}", "-c", "commit.gpgsign=true"]
    _edit_registry(side, lambda d: d.setdefault("settings", {}).update(human_key=public))
    message = f"coord(key): {HUMAN} publishes its key\n\nCoord-Instance: {HUMAN}"
    git(side, *signed, "-c", "core.hooksPath=/dev/null", "commit", "-qam", message)
    target = "HEAD:refs/heads/side"
    if joined == "merged in":
        merged = subprocess.run(
            ["git", "-c", "core.hooksPath=/dev/null", "merge", "-q", "--no-ff", "--no-commit", "origin/main"],
            cwd=side,
            capture_output=True,
            text=True,
            check=False,
        )
        assert merged.returncode in (0, 1), merged.stderr
        [conflict] = json.loads(coord(side, "resolve", "--json").out)["data"]
        mine = next(n for n, v in enumerate(conflict["values"], 1) if v.get("human_key") == public)
        assert coord(side, "resolve", "$", "settings", "--pick", str(mine)).code == 0
        assert public in (side / "coordination" / model.REGISTRY).read_text()
        git(side, "add", "-A")
        git(
            side,
            *signed,
            "-c",
            "core.hooksPath=/dev/null",
            "commit",
            "-qm",
            f"coord(merge): join\n\nCoord-Instance: {HUMAN}",
        )
        target = "HEAD:main"
    pushed = subprocess.run(
        ["git", "push", "--no-verify", "origin", target], cwd=side, capture_output=True, text=True, check=False
    )
    assert pushed.returncode != 0, pushed.stderr
    assert "[signature]" in pushed.stderr, pushed.stderr


def _before_the_human_key(
    tmp_path: Path, coord: Coord, *, trust: bool, as_human: bool = True
) -> tuple[Path, Path, Path]:
    """A store started without signatures or a human key, the human's clone set up to sign as the
    human (its key not published yet; not `as_human`: not yet), instance-2 registered; with `trust`,
    the gate told the human's key."""
    remote = bare_remote(tmp_path / "remote.git")
    human = make_repo(tmp_path / "human")
    git(human, "remote", "add", "origin", str(remote))
    for step in (["init", "--branch", "main"], ["sync"], *([["install", "--as", HUMAN]] if as_human else [])):
        assert coord(human, *step).code == 0
    gate = ["install", "--server", *(["--trust", public_key(human)] if trust else [])]
    assert coord(remote, *gate).code == 0
    attacker = _published(tmp_path, coord, remote, ("instance-2",), register=True)["instance-2"]
    return remote, human, attacker


def _publish_as_human(
    tmp_path: Path, clone: Path, *, to: str = "HEAD:main", **renamed: str
) -> subprocess.CompletedProcess[str]:
    """instance-2 publishes a human key of its own, naming the human and signing with that key, and
    pushes it `to` a ref (`renamed`: with other settings in the same commit, e.g. another human coordinator)."""
    planted, public = new_key(tmp_path, "planted")
    _edit_registry(clone, lambda d: d.setdefault("settings", {}).update(human_key=public, **renamed))
    signed = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={planted}", "-c", "commit.gpgsign=true"]
    message = f"coord(key): {HUMAN} publishes its key\n\nCoord-Instance: {HUMAN}"
    git(clone, *signed, "commit", "-q", "--no-verify", "-am", message)
    return subprocess.run(
        ["git", "push", "--no-verify", "origin", to], cwd=clone, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("renamed", [{}, {"human_coordinator": "chief"}], ids=["as the human", "renaming the human"])
def test_the_humans_clone_believes_no_first_human_key_but_its_own(
    tmp_path: Path, coord: Coord, renamed: dict[str, str]
) -> None:
    """Before signatures are required anyone can act as the human, and whoever publishes the first
    human key could turn signatures on with it. The human's clone holds the human's key: it refuses
    another, naming the commit, and keeps its last good state; so it does when the same commit names
    another human coordinator (the clone is the human's by the name the store gave before)."""
    _, human, attacker = _before_the_human_key(tmp_path, coord, trust=False)
    assert _publish_as_human(tmp_path, attacker, **renamed).returncode == 0, "a gate told no key cannot tell"
    bad = git(attacker, "rev-parse", "HEAD")
    refused = coord(human, "sync")
    assert refused.code == 1, refused
    assert bad[:12] in refused.err, refused.err
    assert "this clone's own key" in refused.err, refused.err
    assert "human_key" not in registry(human).get("settings", {})
    assert coord(attacker, "sync").code == 0, "a clone told no key believes the first history it sees"


def test_the_humans_clone_set_up_after_another_key_was_published_judges_it_again(tmp_path: Path, coord: Coord) -> None:
    """The human's clone synced the store before it held the human's key, and took a first human key
    someone else published then; set up to sign as the human, it judges the branch again with its
    key, and its sync refuses that commit, naming it."""
    _, human, attacker = _before_the_human_key(tmp_path, coord, trust=False, as_human=False)
    assert _publish_as_human(tmp_path, attacker).returncode == 0
    bad = git(attacker, "rev-parse", "HEAD")
    assert coord(human, "sync").code == 0, "no human key here yet: nothing to compare it with"
    assert coord(human, "install", "--as", HUMAN).code == 0
    refused = coord(human, "sync")
    assert refused.code == 1, refused
    assert bad[:12] in refused.err, refused.err
    assert "this clone's own key" in refused.err, refused.err


def test_a_gate_told_the_human_key_takes_no_other_first_human_key(tmp_path: Path, coord: Coord) -> None:
    _, human, attacker = _before_the_human_key(tmp_path, coord, trust=True)
    pushed = _publish_as_human(tmp_path, attacker)
    assert pushed.returncode != 0, pushed.stderr
    assert "[trust]" in pushed.stderr, pushed.stderr
    # Nor another human coordinator named before the key is published.
    git(attacker, "reset", "-q", "--hard", "origin/main")
    _edit_registry(attacker, lambda d: d.setdefault("settings", {}).update(human_coordinator="chief"))
    git(attacker, "commit", "-q", "--no-verify", "-am", f"coord(key): renamed\n\nCoord-Instance: {HUMAN}")
    renamed = subprocess.run(
        ["git", "push", "--no-verify", "origin", "HEAD:main"], cwd=attacker, capture_output=True, text=True, check=False
    )
    assert renamed.returncode != 0, renamed.stderr
    assert "names another human coordinator before a human key was published" in renamed.stderr, renamed.stderr
    assert "coord install --server --trust KEY" in pushed.stderr, pushed.stderr
    # The human's own key it takes, and then signatures on.
    assert coord(human, "key", "publish", "--sync").code == 0
    assert coord(human, "key", "require", "--sync").code == 0
    assert registry(human)["settings"]["require_signatures"] is True


def test_a_gate_told_the_human_key_lets_only_its_holder_rename_the_human_as_it_is_published(
    tmp_path: Path, coord: Coord
) -> None:
    """A public key is public: anyone may publish the human's, but whoever names another human
    coordinator in that commit leaves the human's clone acting as someone who is not the coordinator."""
    _, human, attacker = _before_the_human_key(tmp_path, coord, trust=True)

    def publish(clone: Path, *signing: str) -> subprocess.CompletedProcess[str]:
        _edit_registry(
            clone, lambda d: d.setdefault("settings", {}).update(human_key=public_key(human), human_coordinator="chief")
        )
        message = f"coord(key): {HUMAN} publishes its key\n\nCoord-Instance: {HUMAN}"
        git(clone, *signing, "commit", "-q", "--no-verify", "-am", message)
        return subprocess.run(
            ["git", "push", "--no-verify", "origin", "HEAD:main"],
            cwd=clone,
            capture_output=True,
            text=True,
            check=False,
        )

    forged = publish(attacker)  # signed with instance-2's own key
    assert forged.returncode != 0, forged.stderr
    assert "[trust]" in forged.stderr, forged.stderr
    assert "only its holder renames the human" in forged.stderr, forged.stderr
    assert coord(human, "sync").code == 0
    git(human, "checkout", "-q", "main")
    git(human, "merge", "-q", "--ff-only", "origin/main")
    assert publish(human).returncode == 0, "the key's holder signed it"


def test_a_range_check_told_the_human_key_refuses_another_first_human_key(tmp_path: Path, coord: Coord) -> None:
    """CI's check (`coord check --range`, with the repository variable COORD_HUMAN_KEY) and any
    clone told the key judge a first human key as the gate told it does."""
    _, human, attacker = _before_the_human_key(tmp_path, coord, trust=False)
    before = git(attacker, "rev-parse", "HEAD")
    assert _publish_as_human(tmp_path, attacker).returncode == 0
    judged = ["check", "--range", f"{before}..HEAD"]
    assert coord(attacker, *judged).code == 0, "told no key, the range keeps the rules"
    refused = coord(attacker, *judged, "--trust", public_key(human))
    assert refused.code == 1, refused
    assert "[trust]" in refused.out + refused.err, refused
    git(attacker, "config", "coord.trust", public_key(human))
    assert coord(attacker, *judged).code == 1, "a clone told the key judges by it"


def test_a_gate_is_not_told_a_key_when_the_store_it_guards_names_another(tmp_path: Path, coord: Coord) -> None:
    """A gate judges what is pushed from the moment it is told the key; a human key published
    before then is refused at once, so that the branch is repaired before the gate takes it on trust."""
    remote, human, attacker = _before_the_human_key(tmp_path, coord, trust=False)
    assert _publish_as_human(tmp_path, attacker).returncode == 0
    told = coord(remote, "install", "--server", "--trust", public_key(human))
    assert told.code == 1, told
    assert "names the human key" in told.err, told.err
    assert "nothing was changed" in told.err, told.err
    assert subprocess.run(["git", "config", "coord.trust"], cwd=remote, check=False).returncode == 1


@pytest.mark.parametrize(
    ("ref", "said"),
    [("refs/tags/v0.1", "which refs/tags/v0.1 holds"), ("refs/heads/wip", "the store on wip names the human key")],
)
def test_a_gate_is_not_told_a_key_when_a_ref_beside_the_store_holds_another(
    tmp_path: Path, coord: Coord, ref: str, said: str
) -> None:
    """The gate takes a commit a branch or a tag holds as judged; one that took a human key of its
    own before the gate was told could later move the store's line onto it. So telling is refused
    while any ref holds such a commit, and the ref is named."""
    remote, human, attacker = _before_the_human_key(tmp_path, coord, trust=False)
    assert _publish_as_human(tmp_path, attacker, to=f"HEAD:{ref}").returncode == 0
    told = coord(remote, "install", "--server", "--trust", public_key(human))
    assert told.code == 1, told
    assert said in told.err, told.err
    assert subprocess.run(["git", "config", "coord.trust"], cwd=remote, check=False).returncode == 1
    git(remote, "update-ref", "-d", ref)
    assert coord(remote, "install", "--server", "--trust", public_key(human)).code == 0


def test_doctor_says_whether_this_clone_signs_as_the_registry_wants(team: Team) -> None:
    report = team.run("instance-1", "doctor", "--json")
    [signing] = [c for c in json.loads(report.out)["data"]["checks"] if c["name"] == "signing"]
    assert signing["ok"] is True
    assert "the key the registry holds" in signing["detail"]
    wrong = team.run(HUMAN, "--as", "instance-1", "doctor")
    assert wrong.code == 1
    assert "which the registry does not hold for instance-1" in wrong.out


def test_sync_refuses_a_merge_this_clone_could_not_sign(team: Team) -> None:
    team.fresh("instance-2")
    team.ok("instance-2", "checkin", "--no-sync")
    team.ok("instance-1", "checkin", "--sync")
    clone = team.clones["instance-2"]
    git(clone, "config", "commit.gpgsign", "false")
    head = git(clone, "rev-parse", "main")
    refused = team.run("instance-2", "sync")
    assert refused.code == 1
    assert "this clone does not sign its commits" in refused.err
    assert git(clone, "rev-parse", "main") == head, "nothing changed here"
    git(clone, "config", "commit.gpgsign", "true")
    assert "merged with origin" in team.ok("instance-2", "sync")


def test_the_humans_clone_believes_no_store_made_with_another_human_key(
    tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever first starts a store `--as human` holds the human's power in it: the human's own
    clone, which signs with the human's key, refuses a store whose root names another."""
    remote = bare_remote(tmp_path / "remote.git")
    other = make_repo(tmp_path / "other")
    git(other, "remote", "add", "origin", str(remote))
    monkeypatch.setenv("COORD_KEYS_DIR", str(tmp_path / "other-keys"))
    for step in (["init", "--as", HUMAN, "--branch", "main"], ["sync"]):
        assert coord(other, *step).code == 0
    root = git(other, "rev-list", "--max-parents=0", "HEAD").split()[0]
    monkeypatch.setenv("COORD_KEYS_DIR", str(tmp_path / "human-keys"))
    human = tmp_path / "human"
    git(tmp_path, "clone", "-q", str(remote), str(human))
    coord(human, "install", "--as", HUMAN)
    refused = coord(human, "sync")
    assert refused.code == 1, refused
    assert root[:12] in refused.err, refused.err
    assert "a store someone else made" in refused.err, refused.err


def test_a_new_clone_of_the_human_after_a_rotation_believes_the_store_the_human_made(
    tmp_path: Path, coord: Coord
) -> None:
    """The root names the human key the human had then; rotated since, and a step signed with the
    new key above it: that store is the human's, for a new clone of the human's too."""
    remote = bare_remote(tmp_path / "remote.git")
    first = make_repo(tmp_path / "first")
    git(first, "remote", "add", "origin", str(remote))
    rotated = (["key", "rotate", "--sync"], ["task", "add", "A step signed with the new key", "--sync"])
    for step in (["init", "--as", HUMAN, "--branch", "main"], ["sync"], *rotated):
        assert coord(first, *step).code == 0, step
    again = tmp_path / "again"
    git(tmp_path, "clone", "-q", str(remote), str(again))
    assert coord(again, "install", "--as", HUMAN).code == 0
    assert public_key(again) == public_key(first), "the rotated key, in the keys folder"
    synced = coord(again, "sync")
    assert synced.code == 0, synced


def test_a_newcomer_told_the_humans_new_key_believes_the_store_right_after_the_rotation(
    tmp_path: Path, coord: Coord
) -> None:
    """The rotation is signed with the old key, as the rules want; `coord key rotate` then signs a
    first commit with the new one, so a newcomer told only the key the human holds now (the one it
    hands out) believes the store the human made, without waiting for its next step."""
    remote = bare_remote(tmp_path / "remote.git")
    first = make_repo(tmp_path / "first")
    git(first, "remote", "add", "origin", str(remote))
    for step in (["init", "--as", HUMAN, "--branch", "main"], ["sync"], ["key", "rotate", "--sync"]):
        assert coord(first, *step).code == 0, step
    confirmed = git(remote, "log", "-1", "--format=%s", "main")
    assert confirmed.startswith(f"coord(key): {HUMAN} signs with the human key SHA256:"), confirmed
    newcomer = tmp_path / "newcomer"
    git(tmp_path, "clone", "-q", str(remote), str(newcomer))
    joined = coord(newcomer, "install", "--as", "instance-1", "--trust", public_key(first))
    assert joined.code == 0, joined
    assert coord(newcomer, "sync").code == 0


@pytest.mark.parametrize(
    "becomes",
    [
        [["install", "--as", HUMAN]],
        [["init", "--as", HUMAN]],  # "safe to run again": the store is there, and read before the clone was the human's
        [["install"], ["status"]],  # a first look as no one; then git config makes the clone the human's
    ],
    ids=["install --as", "init --as", "a look first, then git config"],
)
def test_the_humans_clone_believes_no_store_handed_over_to_its_public_key(
    tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch, becomes: list[list[str]]
) -> None:
    """A public key is public: whoever started the store as the human can set the human key to the
    human's and keep what it registered meanwhile. The human's clone judges the store again once it
    is the human's, however it became so, and refuses a root its key never vouched for."""
    keys = tmp_path / "human-keys"
    keys.mkdir(mode=0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / HUMAN)], check=True)
    real = (keys / f"{HUMAN}.pub").read_text().split()[:2]
    remote = bare_remote(tmp_path / "remote.git")
    other = make_repo(tmp_path / "other")
    git(other, "remote", "add", "origin", str(remote))
    monkeypatch.setenv("COORD_KEYS_DIR", str(tmp_path / "other-keys"))
    for step in (
        ["init", "--as", HUMAN],
        ["sync"],
        ["key", "set", HUMAN, " ".join(real), "--sync"],
    ):
        assert coord(other, *step).code == 0, step
    monkeypatch.setenv("COORD_KEYS_DIR", str(keys))
    human = tmp_path / "human"
    git(tmp_path, "clone", "-q", str(remote), str(human))
    for step in becomes:
        coord(human, *step)
    if "--as" not in becomes[0]:
        for key, value in (("gpg.format", "ssh"), ("user.signingkey", str(keys / HUMAN)), ("coord.instance", HUMAN)):
            git(human, "config", key, value)
    refused = coord(human, "sync")
    assert refused.code == 1, refused
    assert "a store someone else made" in refused.err, refused.err


def test_the_humans_clone_believes_no_store_whose_root_named_the_human_otherwise(
    tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The root names the coordinator "boss", with the maker's key; a later commit, signed by that
    key, renames the coordinator to the human and hands the human key over. The human's clone is
    the human's by the tip's name: the root is as foreign as one naming the human from the start."""
    keys = tmp_path / "human-keys"
    keys.mkdir(mode=0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / HUMAN)], check=True)
    real = " ".join((keys / f"{HUMAN}.pub").read_text().split()[:2])
    remote = bare_remote(tmp_path / "remote.git")
    other = make_repo(tmp_path / "other")
    git(other, "remote", "add", "origin", str(remote))
    monkeypatch.setenv("COORD_KEYS_DIR", str(tmp_path / "other-keys"))
    assert coord(other, "init", "--as", HUMAN).code == 0
    made = git(other, "config", "user.signingkey")
    signed = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={made}"]
    work = tmp_path / "work"
    git(other, "worktree", "add", "-q", "--detach", str(work), "coord")

    def commit(change: Callable[[dict[str, Any]], object], message: str, parents: list[str]) -> str:
        _edit_registry(work, change)
        git(work, "add", "-A")
        tree = git(work, "write-tree")
        return git(work, *signed, "commit-tree", "-S", tree, *(a for p in parents for a in ("-p", p)), "-m", message)

    root = commit(
        lambda d: d["settings"].update(human_coordinator="boss"), "coord(init): start\n\nCoord-Instance: boss", []
    )
    renamed = commit(
        lambda d: d["settings"].update(human_coordinator=HUMAN, human_key=real),
        "coord(settings): the human coordinator is human\n\nCoord-Instance: boss",
        [root],
    )
    git(other, "push", "-q", "--no-verify", "origin", f"{renamed}:refs/heads/coord")
    monkeypatch.setenv("COORD_KEYS_DIR", str(keys))
    human = tmp_path / "human"
    git(tmp_path, "clone", "-q", str(remote), str(human))
    coord(human, "install", "--as", HUMAN)
    refused = coord(human, "sync")
    assert refused.code == 1, refused
    assert "a store someone else made" in refused.err, refused.err
    assert "for boss" in refused.err, refused.err
