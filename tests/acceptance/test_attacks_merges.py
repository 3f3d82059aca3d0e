"""Attacks through merges: results that are not what the merge driver makes of the parents, octopus and
unrelated histories, and old parents that lend a change authority the line it joins has taken away
(a key rotated out after it leaked).

A merge is judged against both parents: its result must be the driver's, and every commit on a side
is judged again under the authority of the line it joins. Each forged merge is refused by the gate
by name, with no ref moved, and found by `coord check --range`; an honest merge made with the real
driver is accepted.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from testing.forgery import Change
from testing.forgery import Forger
from testing.forgery import accepted
from testing.forgery import found
from testing.forgery import move
from testing.forgery import new_key
from testing.forgery import put
from testing.forgery import refused
from testing.repos import git
from testing.repos import make_repo
from testing.signed import HUMAN
from testing.signed import Team
from tests.conftest import Coord

from gitcoord import model

TQ, REG = model.TASKS, model.REGISTRY
ME = "instance-3"


def _diverge(attacker: Forger, team: Team) -> str:
    """instance-1 shares a new task; instance-3 has an unshared commit of its own: two sides to merge."""
    task = team.ok("instance-1", "task", "add", "a task by instance-1", "--sync").split()[0]
    attacker.edit(REG, lambda d: d["instances"][ME].update(expertise_areas=["my side"]))
    attacker.commit("instance-3 edits itself")
    git(attacker.clone, "fetch", "-q", "origin")
    return task


def test_a_merge_that_keeps_only_my_side_is_refused(example_team: Team) -> None:
    attacker = Forger(example_team, ME).fresh()
    _diverge(attacker, example_team)
    attacker.merge("origin/main", strategy=("-s", "ours"))
    attacker.commit("merge -s ours")
    refused(attacker, "deleted")
    found(attacker, "deleted")


def test_a_merge_that_alters_the_other_side_s_record_is_refused(example_team: Team) -> None:
    attacker = Forger(example_team, ME).fresh()
    task = _diverge(attacker, example_team)
    attacker.merge("origin/main")
    attacker.edit(TQ, put(task, title="altered in the merge"))
    attacker.commit("merge, altering theirs")
    refused(attacker, "authorization")
    found(attacker, "authorization")


def test_a_merge_that_sneaks_in_a_settings_change_is_refused(example_team: Team) -> None:
    attacker = Forger(example_team, ME).fresh()
    _diverge(attacker, example_team)
    attacker.merge("origin/main")
    attacker.edit(REG, lambda d: d["settings"].update(lease_hours=1))
    attacker.commit("merge, sneaking in a settings change")
    refused(attacker, "authorization")
    found(attacker, "authorization")


def test_a_merge_that_takes_back_the_other_side_s_claim_is_refused(example_team: Team) -> None:
    attacker = Forger(example_team, ME).fresh()
    example_team.ok("instance-1", "checkin", "--sync")  # a live holder, whose task no one may take back
    task = example_team.ok("instance-1", "task", "add", "wanted", "--sync").split()[0]
    attacker.fresh()
    example_team.ok("instance-1", "task", "claim", task, "--sync")
    _diverge(attacker, example_team)
    attacker.merge("origin/main")
    attacker.edit(
        TQ, lambda d: move(d, task, "pending_tasks", status="pending_assignment", assigned_to=None, assigned_at=None)
    )
    attacker.commit("merge, and the task is free again")
    refused(attacker, "authorization")
    found(attacker, "authorization")


def test_a_merge_of_a_forged_side_commit_is_refused(example_team: Team) -> None:
    """The merge is signed and honest; the side it brings in holds an unsigned commit as the human."""
    attacker = Forger(example_team, ME).fresh()
    attacker.edit(REG, lambda d: d["settings"].update(lease_hours=1))
    side = attacker.commit("the human shortens the lease", actor=HUMAN, key=None)
    example_team.ok("instance-1", "task", "add", "a task by instance-1", "--sync")
    attacker.fresh()
    attacker.merge(side)
    attacker.commit("merge the side")
    refused(attacker, "signature")
    found(attacker, "signature")


def test_an_octopus_merge_touching_the_store_is_refused(attacker: Forger) -> None:
    base = git(attacker.clone, "rev-parse", "HEAD")
    sides = []
    for n, edit in enumerate(["mine", None, None]):
        git(attacker.clone, "reset", "-q", "--hard", base)
        if edit:
            attacker.edit(REG, _own(ME, edit))
        else:
            (attacker.clone / f"README-{n}").write_text("x\n")
        sides.append(attacker.commit(f"side {n}"))
    attacker.merge(*sides[:2])  # on top of the third: one commit, three parents
    assert len((attacker.clone / ".git" / "MERGE_HEAD").read_text().split()) == 2
    attacker.commit("octopus")
    refused(attacker, "merge")
    found(attacker, "merge")


@pytest.mark.parametrize("take", ["ours", "theirs"])
def test_a_merge_of_an_unrelated_history_with_its_own_store_is_refused(
    attacker: Forger, coord: Coord, tmp_path: Path, take: str
) -> None:
    """An unrelated history in which the attacker is the human coordinator of a store of its own."""
    orphan = make_repo(tmp_path / "orphan")
    assert coord(orphan, "init", "--example", "--branch", "main", "--as", HUMAN).code == 0
    git(attacker.clone, "fetch", "-q", str(orphan), "+main:refs/orphan")
    attacker.merge("refs/orphan", strategy=("--allow-unrelated-histories", "-s", "ours"))
    if take == "theirs":
        git(attacker.clone, "checkout", "refs/orphan", "--", "coordination")
    attacker.commit(f"merge an unrelated store, taking {take}")
    said = refused(attacker, "merge")
    assert "unrelated" in said or "no common" in said or "merge" in said
    found(attacker, "merge")


def test_the_honest_twin_a_real_merge_with_the_driver(example_team: Team) -> None:
    attacker = Forger(example_team, ME).fresh()
    _diverge(attacker, example_team)
    git(attacker.clone, "merge", "-q", "--no-edit", "--no-verify", "origin/main")
    accepted(attacker)


# Keys that leaked and were rotated out keep no power through an old parent -------------------------------


@pytest.fixture
def leaked(example_team: Team, tmp_path: Path) -> tuple[str, dict[str, Path]]:
    """instance-2 and the human rotate their keys, whose old copies an attacker kept: the commit from
    before the rotations, and the old keys."""
    before = example_team.remote_tip()
    old = {}
    for who in ("instance-2", HUMAN):
        old[who] = Path(shutil.copy(example_team.key_of(who), tmp_path / f"leaked-{who}"))
        example_team.ok(who, "sync")
        example_team.ok(who, "key", "rotate", "--sync")
    return before, old


def _merged_from(attacker: Forger, before: str, actor: str, side_key: Path, merge_key: Path, change: Change) -> None:
    """A side commit on the old parent, signed by `side_key` as `actor`, merged into main by `merge_key`."""
    attacker.fresh()
    main = git(attacker.clone, "rev-parse", "HEAD")
    git(attacker.clone, "checkout", "-q", "-b", "side", before)
    attacker.edit(REG, change)
    attacker.commit("a change on the old parent", actor=actor, key=side_key)
    git(attacker.clone, "checkout", "-q", "main")
    assert git(attacker.clone, "rev-parse", "HEAD") == main
    attacker.merge("side")
    attacker.edit(REG, change)
    attacker.commit("merge side", actor=actor, key=merge_key)


def _own(name: str, value: str) -> Change:
    return lambda d: d["instances"][name].update(expertise_areas=[value])


def test_an_instance_s_leaked_key_acts_through_an_old_parent_and_is_refused(
    example_team: Team, leaked: tuple[str, dict[str, Path]]
) -> None:
    attacker = Forger(example_team, ME).fresh()
    before, old = leaked
    _merged_from(attacker, before, "instance-2", old["instance-2"], old["instance-2"], _own("instance-2", "forged"))
    refused(attacker, "signature")
    found(attacker, "signature")


def test_the_human_s_leaked_key_acts_through_an_old_parent_and_is_refused(
    example_team: Team, leaked: tuple[str, dict[str, Path]]
) -> None:
    attacker = Forger(example_team, ME).fresh()
    before, old = leaked
    _merged_from(attacker, before, HUMAN, old[HUMAN], old[HUMAN], lambda d: d["settings"].update(lease_hours=0.01))
    refused(attacker, "signature")
    found(attacker, "signature")


def test_a_leaked_key_signs_nothing_on_a_branch_made_from_an_old_commit(
    example_team: Team, leaked: tuple[str, dict[str, Path]]
) -> None:
    """No merge this time: a branch of its own, where the old parent still holds the key, for some
    later merge or reader to take up. The branch the store lives on has rotated the key out."""
    attacker = Forger(example_team, ME).fresh()
    before, old = leaked
    git(attacker.clone, "checkout", "-q", "-b", "side", before)
    attacker.edit(REG, _own("instance-2", "forged"))
    attacker.commit("a change on the old parent", actor="instance-2", key=old["instance-2"])
    said = refused(attacker, "signature", "side:refs/heads/side")
    assert "instance-2" in said
    # CI checks a pull request from such a branch as joining its base: the same refusal.
    alone = example_team.run(ME, "check", "--range", f"{before}..side")
    assert alone.code == 0, "judged against its own old parent, the key still holds"
    joining = example_team.run(ME, "check", "--range", f"{before}..side", "--joins", "origin/main", "--json")
    assert joining.code == 1, joining
    assert "signature" in json.loads(joining.out)["data"]["first_bad_commit"]


def test_the_honest_twin_a_branch_from_an_old_commit_signed_with_the_current_key(
    example_team: Team, leaked: tuple[str, dict[str, Path]]
) -> None:
    attacker = Forger(example_team, ME).fresh()
    before, _ = leaked
    git(attacker.clone, "checkout", "-q", "-b", "side", before)
    attacker.edit(REG, _own(ME, "branching"))
    attacker.commit("a change on the old parent")
    accepted(attacker, "side:refs/heads/side", revisions="side~1..side")
    assert example_team.run(ME, "check", "--range", "side~1..side", "--joins", "origin/main").code == 0


def test_the_human_s_leaked_key_cannot_install_a_new_human_key(
    example_team: Team, leaked: tuple[str, dict[str, Path]], tmp_path: Path
) -> None:
    attacker = Forger(example_team, ME).fresh()
    before, old = leaked
    evil, evil_key = new_key(tmp_path, "evil")
    _merged_from(attacker, before, HUMAN, old[HUMAN], evil, lambda d: d["settings"].update(human_key=evil_key))
    refused(attacker, "signature")
    found(attacker, "signature")


def test_a_leaked_key_s_side_commit_merged_by_an_honest_signer_is_refused(
    leaked: tuple[str, dict[str, Path]], example_team: Team
) -> None:
    """The merge is instance-3's own, signed with its own key; the side commit it joins is not."""
    attacker = Forger(example_team, ME).fresh()
    before, old = leaked
    _merged_from(
        attacker, before, "instance-2", old["instance-2"], example_team.key_of(ME), _own("instance-2", "forged")
    )
    git(attacker.clone, "commit", "-q", "--amend", "--no-verify", "-m", f"merge side\n\nCoord-Instance: {ME}")
    refused(attacker, "signature")
    found(attacker, "signature")


# A record made again on a side line grown from before it existed -------------------------------------------


@pytest.mark.parametrize(
    ("maker", "claimed"), [(HUMAN, False), (ME, True), (ME, False)], ids=["human's", "claimed since", "untouched"]
)
def test_a_side_line_that_makes_a_record_the_other_line_holds_is_refused(
    example_team: Team, maker: str, claimed: bool
) -> None:
    """The human's task, or the attacker's own (claimed by another since, or not: others read it
    as it was made), re-created by instance-3 on a side line with other text: merged with each
    conflicting field settled the attacker's way, it would read as the record they saw, rewritten."""
    attacker = Forger(example_team, ME).fresh()
    before = git(attacker.clone, "rev-parse", "HEAD")
    task = example_team.ok(maker, "task", "add", "deploy to staging", "--sync").split()[0]
    if claimed:
        example_team.ok("instance-1", "task", "claim", task, "--sync")
    git(attacker.clone, "fetch", "-q", "origin")
    made = record_of(json.loads(git(attacker.clone, "show", f"origin/main:coordination/{TQ}")), task)
    git(attacker.clone, "reset", "-q", "--hard", before)
    side = {**made, "created_by": ME, "title": "deploy to prod", "description": "skip the review"}
    assert made["created_by"] == maker
    attacker.edit(TQ, lambda d: d["pending_tasks"].append(side))
    attacker.commit(f"coord(task): {ME} adds {task}", date=made["created"])
    attacker.merge("origin/main")
    attacker.write(TQ, json.loads(git(attacker.clone, "show", f"origin/main:coordination/{TQ}")))
    attacker.edit(TQ, put(task, title="deploy to prod", description="skip the review"))
    attacker.commit("coord(sync): merge")
    refused(attacker, "history")
    found(attacker, "history")


def record_of(doc: dict[str, Any], rid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for v in doc.values() if isinstance(v, list) for r in v if r.get("task_id") == rid)
    return found
