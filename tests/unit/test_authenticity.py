"""Who acted, judged from the parent state and git's verdict: no git here, the verdicts are given."""

from __future__ import annotations

from typing import Any

import pytest

from gitcoord import authenticity
from gitcoord import sshkeys
from gitcoord.authenticity import Acting
from gitcoord.signing import Verdict

K1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDR5/0xXp28IODIZIr7dT96dtPfgNTqhC0/P8EtvRHZG"
K2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDhKmMEcdwygsVO0/t8VurtGiaOVjNTX2yBBAFNrOgAJ"
KH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOOe+QbT3YakHkdm+eUx9wEMBVUHvxR+FbEhOIqPAmrE"
K9 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJYr4cJj6tkO9Za4mOb2b2EHtvIrdeLNN+giQqAj1l/A"


def _entry(key: str | None) -> dict[str, Any]:
    return {"role": "dev", "status": "active", **({"signing_key": key} if key else {})}


def registry(*, required: bool = True, **keys: str | None) -> dict[str, Any]:
    return {
        "instances": {name.replace("_", "-"): _entry(key) for name, key in keys.items()},
        "settings": {"require_signatures": required, "human_key": KH},
    }


def good(key: str, principal: str) -> Verdict:
    return Verdict("G", principal, sshkeys.fingerprint(key))


def judge(parents: list[Any], new: Any, actor: str | None, verdict: Verdict | None) -> list[tuple[str, str]]:
    who = Acting(actor, (actor,) if actor else ())
    return authenticity.judge(authenticity.expected(parents, new), who, verdict)


BEFORE = registry(instance_1=K1, instance_2=K2)


def test_a_good_signature_by_the_acting_instance_key_passes() -> None:
    assert judge([BEFORE], BEFORE, "instance-1", good(K1, "instance-1")) == []
    assert judge([BEFORE], BEFORE, "human", good(KH, "human")) == []


@pytest.mark.parametrize(
    ("actor", "verdict", "says"),
    [
        ("instance-1", Verdict("N", "", ""), "not signed"),
        ("instance-1", None, "not signed"),
        ("instance-1", Verdict("B", "", ""), "signature is bad"),
        ("instance-1", good(K2, "instance-2"), "signed with instance-2's key, but acts as instance-1"),
        ("human", good(K1, "instance-1"), "signed with instance-1's key, but acts as human"),
        ("instance-1", Verdict("U", "", sshkeys.fingerprint(K9)), "a key the registry held for no one"),
        ("instance-1", Verdict("E", "", ""), "%G? is E"),
        ("instance-3", Verdict("U", "", sshkeys.fingerprint(K9)), "the registry holds no key for instance-3"),
        (None, None, "names no acting instance"),
    ],
)
def test_what_is_refused_when_signatures_are_required(actor: str | None, verdict: Verdict | None, says: str) -> None:
    [(rule, message)] = judge([BEFORE], BEFORE, actor, verdict)
    assert rule == "signature"
    assert says in message


def test_nothing_is_asked_where_the_parent_state_does_not_require_it() -> None:
    unsigned = registry(required=False, instance_1=K1)
    assert judge([unsigned], unsigned, "instance-1", Verdict("N", "", "")) == []
    assert judge([None], unsigned, None, None) == [], "a new store: no parent state"
    assert judge([], unsigned, None, None) == [], "a root commit"


def test_a_commit_never_authorizes_the_key_that_signs_it() -> None:
    rotated = registry(instance_1=K9, instance_2=K2)
    [(rule, _)] = judge([BEFORE], rotated, "instance-1", Verdict("U", "", sshkeys.fingerprint(K9)))
    assert rule == "signature"
    assert judge([BEFORE], rotated, "instance-1", good(K1, "instance-1")) == [], "rotated with the old key"


def test_a_self_registration_is_signed_by_the_key_it_registers() -> None:
    joined = registry(instance_1=K1, instance_2=K2, instance_9=K9)
    assert judge([BEFORE], joined, "instance-9", good(K9, "instance-9")) == []
    # The new key vouches for the new instance only.
    problems = dict(judge([BEFORE], joined, "instance-1", good(K9, "instance-9")))
    assert "signed with instance-9's key, but acts as instance-1" in problems["signature"]
    assert "only instance-9 itself" in problems["authorization"]
    # The human enrolls it, signing with the human key; another instance may not pick its key.
    assert judge([BEFORE], joined, "human", good(KH, "human")) == []
    assert (
        "only instance-9 itself" in dict(judge([BEFORE], joined, "instance-1", good(K1, "instance-1")))["authorization"]
    )
    # Not for an entry that existed: that is an instance changing its key, with the old one.
    keyless, keyed = registry(instance_1=K1, instance_9=None), registry(instance_1=K1, instance_9=K9)
    [(rule, _)] = judge([keyless], keyed, "instance-9", Verdict("U", "", sshkeys.fingerprint(K9)))
    assert rule == "signature"


def test_signed_with_the_registered_key_for_another_then_acting_as_it_is_both_bad() -> None:
    joined = registry(instance_1=K1, instance_2=K2, instance_9=K9)
    rules = [rule for rule, _ in judge([BEFORE], joined, "instance-1", good(K9, "instance-9"))]
    assert sorted(rules) == ["authorization", "signature"]


def test_a_merge_is_signed_with_a_key_its_first_parent_holds() -> None:
    ours = registry(instance_1=K1)
    theirs = registry(instance_1=K9)
    assert judge([ours, theirs], ours, "instance-1", good(K1, "instance-1")) == []
    # The merger's line is the first parent: a key only the other side holds (say, one rotated
    # away on this line) does not sign for it.
    [(rule, message)] = judge([ours, theirs], ours, "instance-1", good(K9, "instance-1"))
    assert rule == "signature"
    assert sshkeys.fingerprint(K9) in message
    assert "does not hold here" in message
    merged = registry(instance_1=K1, instance_3=K2)
    # No bootstrap in a merge: what the merger adds needs a key a parent holds.
    [(rule, _)] = judge([ours, theirs], merged, "instance-3", good(K2, "instance-3"))
    assert rule == "signature"
    half = registry(required=False, instance_1=K1)
    [(rule, _)] = judge([half, theirs], half, "instance-1", Verdict("N", "", ""))
    assert rule == "signature", "either parent requiring signatures requires them"


def test_two_coord_instance_trailers() -> None:
    want = authenticity.expected([registry(required=False)], None)
    [(rule, message)] = authenticity.judge(want, Acting(None, ("instance-1", "instance-2")), None)
    assert rule == "trailer"
    assert "2 Coord-Instance trailers (instance-1, instance-2)" in message


def test_one_key_for_two_principals_names_both() -> None:
    shared = registry(instance_1=K1, instance_3=K1)
    assert judge([shared], shared, "instance-3", good(K1, "instance-1")) == [], "git names only the first"
    assert authenticity.keys_of(shared) == {"instance-1": {K1}, "instance-3": {K1}, "human": {KH}}


def test_a_joined_line_drops_the_keys_it_retired_since_the_fork_and_no_other() -> None:
    def keys(parent: Any, line: authenticity.Line) -> frozenset[str]:
        return authenticity.expected([parent], parent, also=line).keys["instance-1"]

    fork = registry(instance_1=K1)
    rotated_here = registry(instance_1=K9)  # this line's own rotation, made with K1
    assert keys(rotated_here, authenticity.Line(fork, fork)) == {K9}, "the joined line never retired K9"
    rotated_there = registry(instance_1=K2)
    assert keys(fork, authenticity.Line(rotated_there, fork)) == frozenset(), "K1 was retired over there"
    assert keys(rotated_here, authenticity.Line(fork)) == frozenset(), "no fork known: what the tip lacks is out"


def test_a_key_the_joined_line_took_away_signs_nothing_through_a_merge() -> None:
    """The human revoked a leaked key by taking it out of the entry: a side line from before still holds it."""
    fork = registry(instance_1=K1)
    revoked = registry(instance_1=None)
    for line in (authenticity.Line(revoked, fork), authenticity.Line(revoked)):
        assert authenticity.expected([fork], fork, also=line).keys["instance-1"] == frozenset()
    unknown_there = registry(instance_3=K9)  # a name the joined line never held: registered on the side
    assert authenticity.expected([unknown_there], unknown_there, also=authenticity.Line(fork, fork)).keys[
        "instance-3"
    ] == {K9}


def test_a_line_grown_from_before_an_instance_existed_lends_no_key_for_it() -> None:
    fork = registry()  # instance-1 not registered yet
    theirs = registry(instance_1=K9)  # the side line registered "instance-1" with a key of its own
    joined = authenticity.Line(registry(instance_1=K1), fork)
    assert authenticity.expected([theirs], theirs, also=joined).keys["instance-1"] == frozenset()
    registering = authenticity.expected([fork], theirs, also=joined)
    assert "instance-1" not in registering.registers, "the joined line holds that name with another key"
    assert authenticity.expected([fork], theirs).registers == {"instance-1"}, "alone, a self-registration"


def test_a_line_grown_from_before_an_instance_existed_cannot_register_it_with_a_key_taken_away() -> None:
    """The human took instance-1's leaked key out of its entry: a branch from before instance-1 was
    registered may not register it again with that key, signed by it (one commit per branch, else)."""
    fork = registry()
    revoked = authenticity.Line(registry(instance_1=None), fork)
    leaked = registry(instance_1=K1)
    registering = authenticity.expected([fork], leaked, also=revoked)
    assert "instance-1" not in registering.registers
    assert registering.barred == {"instance-1"}
    unknown = Verdict("U", "", sshkeys.fingerprint(K1))  # git's word for a key no allowed signer holds
    problems = authenticity.judge(registering, Acting("instance-1", ("instance-1",)), unknown)
    assert [rule for rule, _ in problems] == [authenticity.RULE]
    assert "the store's line holds instance-1 already" in problems[0][1]
    same = authenticity.Line(registry(instance_1=K1), fork)  # the line holds it with this very key
    assert authenticity.expected([fork], leaked, also=same).registers == {"instance-1"}
