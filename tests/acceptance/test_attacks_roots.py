"""Attacks on where trust starts: a second store made from nothing, a store re-created where one
left, and a newcomer's first look at a shared branch no gate guards.

A store made from nothing is a root of trust: whoever makes it holds every key in it. So a
repository has one, which the gate keeps; a branch the store left keeps the authority it had;
and a clone that joins judges the history it receives before it believes any of it.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

from testing.forgery import Forger
from testing.forgery import found
from testing.forgery import new_key
from testing.forgery import put
from testing.forgery import refused
from testing.repos import bare_remote
from testing.repos import git
from testing.repos import make_repo
from testing.signed import HUMAN
from testing.signed import Team
from tests.conftest import Coord

from gitcoord import model
from gitcoord import store_line
from gitcoord import workspace

TQ, REG = model.TASKS, model.REGISTRY


def _own_keys(attacker: Forger) -> None:
    """The store as it is, but with the attacker's key as the human's: a store whose root they hold."""
    # A name of its own: the attacker's team is shared by the module's tests.
    _, public = new_key(attacker.clone.parent, f"shadow-human-{secrets.token_hex(4)}")
    attacker.edit(REG, lambda r: r["settings"].update(human_key=public))


def test_a_second_store_on_a_new_branch_is_refused(attacker: Forger) -> None:
    _own_keys(attacker)
    git(attacker.clone, "add", "-A")
    tree = git(attacker.clone, "write-tree")
    root = attacker.commit_tree(tree, [], "coord(init): start coordinating\n\nCoord-Instance: human\n", key=None)
    said = refused(attacker, "root", f"{root}:refs/heads/coord")
    assert "makes a new store from nothing" in said
    assert "this repository holds one already (on main)" in said


def test_a_store_made_in_a_merge_of_code_only_commits_is_a_root_of_trust(attacker: Forger) -> None:
    _own_keys(attacker)
    git(attacker.clone, "add", "-A")
    store = git(attacker.clone, "rev-parse", f"{git(attacker.clone, 'write-tree')}:coordination")
    code = [attacker.commit_tree(git(attacker.clone, "mktree", stdin=""), [], f"code {n}\n", key=None) for n in (1, 2)]
    with_store = git(attacker.clone, "mktree", stdin=f"040000 tree {store}\tcoordination\n")
    merge = attacker.commit_tree(with_store, code, "merge the code lines\n", key=None)
    said = refused(attacker, "root", f"{merge}:refs/heads/shadow")
    assert "makes a new store from nothing" in said


def test_a_clone_is_not_drawn_to_a_branch_named_coord_while_main_holds_the_store(
    example_team: Team, coord: Coord, tmp_path: Path
) -> None:
    """Nor to main by layout: either store could be a copy its pusher made, so the newcomer asks."""
    newcomer = tmp_path / "newcomer"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    # A shadow store under the name a store's own branch has, as a fetch would bring it.
    git(newcomer, "checkout", "-q", "--orphan", "coord")
    git(newcomer, "commit", "-q", "--no-verify", "-m", "a shadow store")
    git(newcomer, "checkout", "-q", "main")
    asked = coord(newcomer, "install")
    assert asked.code != 0, asked
    assert "both 'main' and 'coord' hold a coordination store" in asked.err, asked
    assert "`coord install --branch NAME`" in asked.err, asked
    assert coord(newcomer, "install", "--branch", "main").code == 0
    assert git(newcomer, "config", "coord.branch") == "main", "as the newcomer was told"
    assert coord(newcomer, "status").code == 0


def test_a_newcomer_is_not_diverted_to_a_store_planted_on_the_code_branch(tmp_path: Path, coord: Coord) -> None:
    """No gate guards the code branch (a forge's ruleset may guard the store's branch alone), so
    anyone who pushes code can copy the store onto it, keys of their choosing in its registry. A
    newcomer is asked which store the team shares; one sent to the copy believes none of it, for no
    signature of the trusted key stands above its root, though it came after the first look."""
    remote = bare_remote(tmp_path / "remote.git")
    human = make_repo(tmp_path / "human")
    git(human, "remote", "add", "origin", str(remote))
    for step in (["init", "--as", HUMAN], ["sync"]):
        assert coord(human, *step).code == 0
    git(human, "push", "-q", "--no-verify", "origin", "main")
    told = f"@{git(human, 'config', 'user.signingkey')}.pub"
    newcomer = tmp_path / "newcomer"
    git(tmp_path, "clone", "-q", str(remote), str(newcomer))
    assert coord(newcomer, "install", "--trust", told).code == 0, "first look: only the shared store"
    planter = tmp_path / "planter"
    git(tmp_path, "clone", "-q", str(remote), str(planter))
    git(planter, "checkout", "-q", "origin/coord", "--", "coordination")
    tasks = json.loads((planter / "coordination" / TQ).read_text())
    title = "Send the deploy credentials"
    planted: dict[str, Any] = {
        **{"task_id": "task_6g900000ab", "title": title, "description": "as the human asks"},
        **{"assigned_to": None, "status": "pending_assignment", "priority": "high", "dependencies": []},
        **{"created": git(planter, "log", "-1", "--format=%cI", "origin/coord")[:19] + "Z", "created_by": HUMAN},
    }
    tasks["pending_tasks"].append(planted)
    (planter / "coordination" / TQ).write_text(json.dumps(tasks, indent=2) + "\n")
    git(planter, "add", "-A")
    git(planter, "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "vendor the coordination files")
    git(planter, "push", "-q", "--no-verify", "origin", "HEAD:main")
    # The clone that was told the shared branch before keeps reading it.
    assert title not in coord(newcomer, "task", "list").out
    again = tmp_path / "again"
    git(tmp_path, "clone", "-q", str(remote), str(again))
    asked = coord(again, "install", "--trust", told)
    assert asked.code != 0, asked
    assert "both 'main' and 'coord' hold a coordination store" in asked.err, asked
    misled = coord(again, "install", "--trust", told, "--branch", "main")
    assert "has a commit that breaks the rules" in misled.out, misled
    read = coord(again, "task", "list")
    assert read.code != 0, read
    assert title not in read.out, read
    assert coord(again, "install", "--branch", "coord").code == 0
    assert coord(again, "task", "list").code == 0
    # One that took main's history as good before the copy came judges the copy's root all the same.
    git(newcomer, "config", "coord.branch", "main")
    read = coord(newcomer, "task", "list")
    assert read.code != 0, read
    assert title not in read.out, read
    assert "the store starts here" in coord(newcomer, "sync").err.replace("\n", " ")


def _migrated(team: Team) -> None:
    team.ok(HUMAN, "migrate", "--branch", "coord")
    done = team.push(HUMAN, "coord", "main")
    assert done.returncode == 0, done.stderr


def test_a_clone_that_has_not_fetched_since_the_move_follows_it_when_installed(example_team: Team) -> None:
    """`coord install` looks at the remote again before it keeps the branch it was set up with."""
    clone = example_team.clones["instance-2"]
    assert git(clone, "config", "coord.branch") == "main"
    _migrated(example_team)
    done = example_team.run("instance-2", "install", "--as", "instance-2")
    assert done.code == 0, done
    assert git(clone, "config", "coord.branch") == "coord"


def test_a_store_recreated_where_one_left_has_no_more_authority_than_it_had(example_team: Team) -> None:
    _migrated(example_team)
    attacker = Forger(example_team, "instance-3").fresh()
    assert not attacker.path(REG).exists()
    before = json.loads(git(example_team.clones[HUMAN], "show", f"main~1:coordination/{REG}"))
    attacker.write(REG, before)
    _own_keys(attacker)
    attacker.write(TQ, json.loads(git(example_team.clones[HUMAN], "show", f"main~1:coordination/{TQ}")))
    attacker.path("MOVED.md").unlink()
    attacker.commit("coord(init): the store is back", actor=HUMAN, key=None)
    said = refused(attacker, "signature", "HEAD:main")
    assert "the commit is not signed, but this store requires signatures" in said


def test_an_empty_store_made_again_where_one_left_is_refused(example_team: Team) -> None:
    """Signed by its own instance, with nothing in it to judge: yet from the next commit on, its
    registry (no settings: no signatures required) would govern the branch."""
    _migrated(example_team)
    attacker = Forger(example_team, "instance-3").fresh()
    for file, doc in model.empty_documents().items():
        attacker.write(file, doc)
    attacker.path("MOVED.md").unlink()
    attacker.commit("tidy coordination/")
    said = refused(attacker, "recreated", "HEAD:main")
    assert "the store left this branch (coord migrate) and does not come back to it" in said
    found(attacker, "recreated")


def test_a_clone_set_up_before_the_move_follows_the_store(example_team: Team) -> None:
    _migrated(example_team)
    one = example_team.clones["instance-1"]
    assert git(one, "config", "coord.branch") == "main"
    git(one, "fetch", "-q", "origin")
    example_team.ok("instance-1", "install", "--as", "instance-1")
    assert git(one, "config", "coord.branch") == "coord", "MOVED.md says where the store went"
    assert "task_001" in example_team.ok("instance-1", "status")


def test_a_clone_that_syncs_after_the_move_is_told_where_the_store_went(example_team: Team) -> None:
    _migrated(example_team)
    synced = example_team.run("instance-1", "sync")
    assert synced.code == 1, synced
    said = " ".join(synced.err.split())
    assert "no longer holds the store: the commit that took it away" in said, said
    assert "says it went to the branch coord. `coord install` follows a move the human coordinator made" in said
    example_team.ok("instance-1", "install", "--as", "instance-1")
    assert git(example_team.clones["instance-1"], "config", "coord.branch") == "coord"
    assert "task_001" in example_team.ok("instance-1", "status")


def test_steps_not_shared_when_the_store_moved_are_made_again_where_it_went(example_team: Team) -> None:
    """A step made offline before the human's `coord migrate` is not stuck on the branch the store
    left: the install that follows the move makes it again on the new branch, and a sync shares it
    through the gate, which judges it as any step."""
    one = example_team.clones["instance-1"]
    example_team.ok("instance-1", "task", "add", "made offline", "--no-sync")
    example_team.ok(
        "instance-1", "msg", "send", "--to", "instance-2", "--subject", "made offline too", "--body", "b", "--no-sync"
    )
    _migrated(example_team)
    assert example_team.run("instance-1", "sync").code == 1, "the store left main: sync says where it went"
    said = " ".join(example_team.ok("instance-1", "install", "--as", "instance-1").split())
    assert "carried over to coord 2 step(s) not shared on main: `coord sync` shares them" in said, said
    assert "nothing to do" in example_team.ok("instance-1", "install", "--as", "instance-1"), "carried once"
    example_team.ok("instance-1", "sync")
    shared = git(example_team.remote, "log", "--format=%s", "coord")
    message, task, moved = shared.splitlines()[:3]
    assert message == "coord(msg): instance-1 tells instance-2: made offline too", shared
    assert re.fullmatch(r"coord\(task\): instance-1 adds task_\w+: made offline", task), shared
    assert moved.startswith("coord(migrate): "), "made again on top of the move"
    assert "made offline" in git(example_team.remote, "show", f"coord:coordination/{TQ}")
    assert git(one, "ls-tree", "--name-only", "coord") == git(one, "ls-tree", "--name-only", "coord~2"), "no code"
    assert "-----BEGIN SSH SIGNATURE-----" in git(one, "cat-file", "commit", "coord~1"), "signed, as the gate wants"


def test_a_step_that_no_longer_applies_where_the_store_went_is_kept_and_told(example_team: Team) -> None:
    """Claimed offline, claimed by another first: made again on the new branch it no longer
    applies, so nothing is carried; the clone is told why (the claim that lost, not a rule of the
    driver's the step never touched), and its step stays where it was made."""
    one = example_team.clones["instance-1"]
    [task] = re.findall(r"task_\w+", example_team.ok(HUMAN, "task", "add", "contested", "--sync"))
    example_team.ok("instance-2", "sync")
    example_team.ok("instance-1", "sync")
    example_team.ok("instance-1", "task", "claim", task, "--no-sync")
    mine = git(one, "rev-parse", "main")
    example_team.ok("instance-2", "task", "claim", task)
    example_team.ok(HUMAN, "sync")
    _migrated(example_team)
    assert example_team.run("instance-1", "sync").code == 1, "the store left main: sync says where it went"
    carried = json.loads(example_team.ok("instance-1", "install", "--as", "instance-1", "--json"))["data"]["carried"]
    assert (carried["from"], carried["steps"]) == ("main", 0), carried
    assert f"no longer applies on coord: coordination/task-queue.json: {task}: instance-1" in carried["left"], carried
    assert "lost to instance-2" in carried["left"], carried
    assert "contested" not in carried["left"], carried
    assert "redo on coord those you still want" in carried["left"], carried
    assert git(one, "rev-parse", "main") == mine, "kept as it was made"
    assert git(one, "rev-parse", "coord") == git(example_team.remote, "rev-parse", "coord")


def test_a_rotation_not_shared_when_the_store_moved_is_carried_signed_with_the_key_it_replaced(
    example_team: Team,
) -> None:
    """The rotation was signed with the old key, as the rules want; made again, it is signed with
    that key again (the rotation kept it beside the new one), and the clone goes on with the new."""
    example_team.ok("instance-1", "key", "rotate", "--no-sync")
    _migrated(example_team)
    assert example_team.run("instance-1", "sync").code == 1
    said = " ".join(example_team.ok("instance-1", "install", "--as", "instance-1").split())
    assert "carried over to coord 1 step(s) not shared on main" in said, said
    example_team.ok("instance-1", "sync")
    example_team.ok("instance-1", "task", "add", "signed with the new key", "--sync")
    assert "signed with the new key" in git(example_team.remote, "show", f"coord:coordination/{TQ}")


def test_a_commit_this_clone_did_not_make_is_not_carried_over_the_move(example_team: Team) -> None:
    """The branch the store left is a code branch, which holds what a teammate's branch brought in
    (merged, not shared yet): a commit naming this clone's instance that its key never signed, here
    one giving instance-1 another key. Carried, it would be signed by instance-1 for the first time."""
    one = example_team.clones["instance-1"]
    _, planted = new_key(example_team.base, "planted")
    example_team.edit("instance-1", REG, lambda r: r["instances"]["instance-1"].update(signing_key=planted))
    example_team.commit("instance-1", "feature x\n\nCoord-Instance: instance-1", "-c", "commit.gpgsign=false")
    _migrated(example_team)
    assert example_team.run("instance-1", "sync").code == 1
    carried = json.loads(example_team.ok("instance-1", "install", "--as", "instance-1", "--json"))["data"]["carried"]
    assert carried["steps"] == 0, carried
    assert "1 of them this clone did not make ('feature x')" in carried["left"], carried
    assert git(one, "rev-parse", "coord") == git(example_team.remote, "rev-parse", "coord"), "nothing made again"


def test_a_forged_commit_a_tag_held_before_the_gate_is_not_taken_through_it(example_team: Team, coord: Coord) -> None:
    """The gate takes what a branch or a tag holds as judged, which what came before it never was:
    installed, it judges the refs beside the line once, says which to delete, and refuses a push
    that would take one of their bad commits."""
    _no_gate(example_team)
    attacker = Forger(example_team, "instance-3").fresh()
    attacker.edit(REG, lambda r: r["instances"]["instance-2"].update(role="FORGED"))
    attacker.commit("coord(instance): instance-2's role")
    assert attacker.push("HEAD:refs/tags/v0.1").returncode == 0, "no gate yet"
    git(example_team.remote, "config", "--unset", "core.hooksPath")  # the gate, now
    installed = coord(example_team.remote, "install", "--server")
    assert installed.code == 1, installed
    said = " ".join(installed.out.split())
    assert "refs/tags/v0.1 holds" in said, said
    assert "refs pushed before the gate hold commits that break the rules" in said, said
    said = refused(attacker, "unjudged", "HEAD:main")
    assert "coord(instance): instance-2's role" in said, said
    git(example_team.remote, "update-ref", "-d", "refs/tags/v0.1")
    assert coord(example_team.remote, "install", "--server").code == 0, "nothing left that the gate did not judge"
    assert git(example_team.remote, "config", "coord.unjudged") == ""


def _line(team: Team) -> str | None:
    return store_line.find(team.remote, []).ref


def _migrated_here(team: Team, branch: str) -> None:
    """`coord migrate` with the remote out of reach: both branches wait for the person's pushes,
    which may come one at a time (the window a hand push opens, which the gate must hold)."""
    human = team.clones[HUMAN]
    git(human, "remote", "set-url", "origin", str(team.base / "out-of-reach"))
    team.ok(HUMAN, "migrate", "--branch", branch)
    git(human, "remote", "set-url", "origin", str(team.remote))


def test_the_line_moves_with_the_migration_not_to_a_copy_beside_it(example_team: Team) -> None:
    """The human pushes main, the store gone from it, before the branch it moved to: the line is
    that branch, not the one copy of the store that another branch still holds (anyone's)."""
    copy = Forger(example_team, "instance-3").fresh()
    assert copy.push("HEAD:refs/heads/x").returncode == 0, "a code branch: its copy of the store is lawful"
    _migrated_here(example_team, "coord")
    done = example_team.push(HUMAN, "main")
    assert done.returncode == 0, done.stderr
    assert _line(example_team) == "refs/heads/coord", "where main's MOVED.md says, though not there yet"
    assert git(example_team.remote, "config", "coord.line") == "refs/heads/main", "only a line that holds it is kept"
    example_team.ok(HUMAN, "sync")
    assert git(example_team.remote, "config", "coord.line") == "refs/heads/coord"
    assert _line(example_team) == "refs/heads/coord"


def test_while_the_store_moves_a_side_branch_answers_to_the_keys_it_had_when_it_left(
    example_team: Team, tmp_path: Path
) -> None:
    """Between the human's two pushes the line is not there yet: a commit pushed beside it answers
    to the keys the store held when it left, not to none (a key rotated out, signing on an old commit)."""
    team = example_team
    team.fresh(HUMAN)
    before = team.remote_tip()
    leaked = tmp_path / "leaked-human"
    shutil.copy(team.key_of(HUMAN), leaked)
    team.ok(HUMAN, "key", "rotate", "--sync")
    _migrated_here(team, "coord")
    assert team.push(HUMAN, "main").returncode == 0
    thief = Forger(team, "instance-3").fresh()
    git(thief.clone, "checkout", "-q", "--detach", before)
    thief.edit(TQ, lambda q: q["pending_tasks"][0].update(title="Retitled by the human"))
    thief.commit("coord(task): human edits a task", actor=HUMAN, key=leaked)
    said = refused(thief, "signature", "HEAD:refs/heads/y")
    assert "signed with a key the registry held for no one before it" in said, said


def test_a_branch_made_where_the_store_moves_before_it_arrives_does_not_become_its_line(example_team: Team) -> None:
    """Between the human's two pushes, the branch the store moves to is anyone's to make: made from
    an older commit, it would become the line, and the human's branch a rewrite of it."""
    _migrated_here(example_team, "coord")
    assert example_team.push(HUMAN, "main").returncode == 0
    attacker = Forger(example_team, "instance-3").fresh()
    said = refused(attacker, "store-line", "origin/main~1:refs/heads/coord")
    assert "does not continue the store that commit took away" in said, said
    example_team.ok(HUMAN, "sync")
    assert _line(example_team) == "refs/heads/coord"


def test_a_branch_the_store_moved_away_from_is_not_rewound_to_hold_it(example_team: Team, tmp_path: Path) -> None:
    """After a second move (coord to store2), coord rewound to before it would hold the store again:
    every newcomer would coordinate there, and the human's repair would be a rewind refused."""
    _migrated(example_team)
    attacker = Forger(example_team, "instance-3").fresh()
    said = refused(attacker, "recreated", "+origin/main~1:refs/heads/main")
    assert "main would hold the store again" in said, said
    git(example_team.remote, "config", "--unset", "coord.left")  # as a gate that did not see the move would be
    attacker.path("MOVED.md").unlink()  # code commits may drop the note; the move still stands
    attacker.commit("docs: tidy", actor="")
    assert attacker.push().returncode == 0
    said = refused(attacker, "recreated", "+origin/main~2:refs/heads/main")
    assert "the store lives on where it moved" in said, said
    example_team.ok(HUMAN, "migrate", "--branch", "store2")
    done = example_team.push(HUMAN, "store2", "coord")
    assert done.returncode == 0, done.stderr
    git(attacker.clone, "fetch", "-q", "origin")
    refused(attacker, "recreated", "+origin/coord~1:refs/heads/coord")
    refused(attacker, "deletion", ":refs/heads/coord")  # to make it again, holding the store, after
    assert git(example_team.remote, "config", "coord.left").split() == ["refs/heads/coord"]
    newcomer = tmp_path / "newcomer"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    example_team.ok(None, "install", "--as", "instance-4", where=newcomer)
    assert git(newcomer, "config", "coord.branch") == "store2", "coord's MOVED.md says where it went on to"


def test_a_branch_the_store_moved_away_from_keeps_the_move_in_its_history(example_team: Team, tmp_path: Path) -> None:
    """Rewound to before the move, main would say nothing of where the store went: a newcomer's
    `coord install` follows the migrate commit, not a MOVED.md anyone could write. Code commits
    since the move are main's own, rewritten as any."""
    _migrated(example_team)
    attacker = Forger(example_team, "instance-3").fresh()
    code_only = attacker.commit_tree(git(attacker.clone, "mktree", stdin=""), [], "code from scratch\n", key=None)
    said = refused(attacker, "history", f"+{code_only}:refs/heads/main")
    assert "which drops" in said, said
    assert "the `coord migrate` that took the store to coord" in said, said
    moved = git(attacker.clone, "rev-parse", "origin/main")
    git(attacker.clone, "checkout", "-q", "--detach", moved)
    (attacker.clone / "app.txt").write_text("code\n")
    attacker.commit("code on main", actor="")
    assert attacker.push("HEAD:refs/heads/main").returncode == 0
    assert attacker.push(f"+{moved}:refs/heads/main").returncode == 0, "back to the move itself: it stays"
    newcomer = tmp_path / "newcomer"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    example_team.ok(None, "install", "--as", "instance-4", where=newcomer)
    assert git(newcomer, "config", "coord.branch") == "coord"


def test_the_move_is_shared_at_once_or_not_at_all(example_team: Team) -> None:
    """`coord migrate` pushes both branches in one atomic push: a step shared on main meanwhile makes
    it undo the move and say so, rather than leave a live store on each branch and the team split."""
    human = example_team.clones[HUMAN]
    before = git(human, "rev-parse", "main")
    example_team.ok("instance-1", "task", "add", "shared meanwhile", "--sync")
    raced = example_team.run(HUMAN, "migrate", "--branch", "coord")
    assert raced.code != 0, raced
    assert "moved on while the store was being moved" in raced.err, raced.err
    assert git(human, "rev-parse", "main") == before, "undone here"
    assert git(human, "branch", "--list", "coord") == ""
    assert git(example_team.remote, "branch", "--list", "coord") == "", "and nothing there"
    example_team.ok(HUMAN, "sync")
    said = " ".join(example_team.ok(HUMAN, "migrate", "--branch", "coord").split())
    assert "shared both with origin at once" in said, said
    assert _line(example_team) == "refs/heads/coord"


def test_a_copy_of_the_store_under_the_name_of_its_own_branch_is_refused(example_team: Team) -> None:
    """The store on main: the name `coord` is where a newcomer looks next, so a copy there (main's tip
    pushed as coord) would leave every join after it to ask which store the team shares."""
    attacker = Forger(example_team, "instance-3").fresh()
    said = refused(attacker, "copy", "HEAD:refs/heads/coord")
    assert "coord would hold a copy of coordination/ while the store lives on main" in said, said
    assert attacker.push("HEAD:refs/heads/feature").returncode == 0, "a code branch holds the store as main does"
    assert attacker.push("+HEAD~1:refs/heads/feature").returncode == 0, "and is rewritten as any code branch"
    assert attacker.push(":refs/heads/feature").returncode == 0


def test_a_second_store_naming_itself_beside_the_line_is_refused(example_team: Team) -> None:
    """The move's new branch pushed alone, the line still holding the store: refused, as a store has one line."""
    human = example_team.clones[HUMAN]
    git(human, "remote", "set-url", "origin", str(example_team.base / "nowhere"))
    example_team.ok(HUMAN, "migrate", "--branch", "coord")  # offline: both wait for a push
    git(human, "remote", "set-url", "origin", str(example_team.remote))
    alone = example_team.push(HUMAN, "coord")
    assert alone.returncode == 1
    assert "coord would hold a store that names itself the store's branch while main still holds" in alone.stderr
    assert example_team.push(HUMAN, "--atomic", "main", "coord").returncode == 0


def test_a_gate_installed_after_the_move_keeps_the_branch_the_store_left(example_team: Team) -> None:
    """A gate that did not see the move finds it when installed: the default branch the store left
    is not deleted (to be made again holding a store); a code branch forked since may be."""
    _migrated(example_team)
    git(example_team.remote, "config", "--unset", "coord.left")  # as a gate installed after the move
    example_team.ok(None, "install", "--server", where=example_team.remote)
    assert git(example_team.remote, "config", "coord.left").split() == ["refs/heads/main"]
    attacker = Forger(example_team, "instance-3").fresh()
    refused(attacker, "deletion", ":refs/heads/main")
    assert attacker.push("origin/main:refs/heads/feature").returncode == 0
    assert attacker.push(":refs/heads/feature").returncode == 0, "a code branch, deleted as any"
    example_team.ok(HUMAN, "migrate", "--branch", "store2")  # the store's own branch, left in turn
    assert example_team.push(HUMAN, "store2", "coord").returncode == 0
    git(example_team.remote, "config", "--unset", "coord.left")
    example_team.ok(None, "install", "--server", where=example_team.remote)
    assert git(example_team.remote, "config", "coord.left").split() == ["refs/heads/coord", "refs/heads/main"]
    git(attacker.clone, "fetch", "-q", "origin")
    refused(attacker, "deletion", ":refs/heads/coord")


def test_a_tag_named_like_the_stores_branch_is_refused_and_read_as_no_branch(
    example_team: Team, coord: Coord, tmp_path: Path
) -> None:
    """git reads refs/heads/coord, where the branch is not there (a newcomer's clone, before its
    first look), as the tag refs/tags/refs/heads/coord: a forged registry no look ever judged."""
    _migrated(example_team)
    attacker = Forger(example_team, "instance-3").fresh()
    git(attacker.clone, "checkout", "-q", "--detach", "origin/coord")
    attacker.edit(REG, lambda r: r["instances"]["instance-2"].update(role="FORGED"))
    attacker.commit("coord(instance): instance-2's role", actor=HUMAN, key=None)
    refused(attacker, "shadow", "HEAD:refs/tags/refs/heads/coord")
    _no_gate(example_team)
    assert attacker.push("HEAD:refs/tags/refs/heads/coord").returncode == 0, "no gate: the push goes through"
    newcomer = tmp_path / "newcomer"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    assert coord(newcomer, "install", "--as", "instance-9").code == 0
    shown = coord(newcomer, "show", REG)
    assert shown.code == 0, shown
    assert "FORGED" not in shown.out, "the branch, judged, not the tag"
    assert git(newcomer, "rev-parse", "refs/heads/coord") == example_team.remote_tip("coord")
    pushed = coord(newcomer, "register", "instance-9", "--role", "developer", "--sync")
    assert pushed.code != 0, pushed
    said = " ".join(pushed.err.split())
    assert "The human coordinator deletes it (`git push origin :refs/tags/refs/heads/coord`)" in said, said


def _shadow_store(attacker: Forger, branch: str, source: str) -> str:
    """A store of the attacker's making on `branch`, from nothing, a copy of `source`'s with their key as its human's."""
    git(attacker.clone, "checkout", "-q", "--orphan", branch)
    for file in (REG, TQ):
        attacker.write(file, json.loads(git(attacker.clone, "show", f"{source}:coordination/{file}")))
    _own_keys(attacker)
    attacker.commit("coord(init): start coordinating", actor=HUMAN, key=None)
    assert attacker.push(f"{branch}:refs/heads/{branch}").returncode == 0, "no gate: the push goes through"
    return git(attacker.clone, "rev-parse", "HEAD")


def test_a_moved_note_anyone_rewrote_steers_no_newcomer(example_team: Team, coord: Coord, tmp_path: Path) -> None:
    _migrated(example_team)
    _no_gate(example_team)
    attacker = Forger(example_team, "instance-3").fresh()
    _shadow_store(attacker, "shadow", "origin/coord")
    git(attacker.clone, "checkout", "-q", "-f", "main")
    note = attacker.path("MOVED.md")
    note.write_text(note.read_text().replace("`coord`", "`shadow`"))
    attacker.commit("docs: where the store lives", actor="")
    assert attacker.push().returncode == 0
    newcomer = tmp_path / "newcomer"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    assert "`shadow`" in (newcomer / "coordination" / "MOVED.md").read_text()
    assert coord(newcomer, "install", "--as", "instance-4").code == 0
    assert git(newcomer, "config", "coord.branch") == "coord", "the note the human's migrate wrote counts"


def test_a_forged_migrate_steers_no_newcomer(example_team: Team, coord: Coord, tmp_path: Path) -> None:
    """The store taken off main by a commit that claims to be the human's `coord migrate`, unsigned."""
    _no_gate(example_team)
    attacker = Forger(example_team, "instance-3").fresh()
    _shadow_store(attacker, "shadow", "origin/main")
    git(attacker.clone, "checkout", "-q", "-f", "main")
    git(attacker.clone, "rm", "-q", "-r", "coordination")
    attacker.path("MOVED.md").parent.mkdir()
    attacker.path("MOVED.md").write_text(workspace.moved_note("shadow"))
    attacker.commit(
        "coord(migrate): the store moves",
        message=("coord(migrate): the store moves\n\nCoord-Event: migrate\nCoord-Instance: human\n"),
        key=None,
    )
    assert attacker.push().returncode == 0
    newcomer = tmp_path / "newcomer"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    coord(newcomer, "install", "--as", "instance-4")
    assert git(newcomer, "config", "coord.branch", check=False) != "shadow", "an unsigned migrate is no migrate"


def test_a_store_made_up_again_where_one_left_cannot_vouch_for_its_own_move(
    example_team: Team, coord: Coord, tmp_path: Path
) -> None:
    """The store back on main with the attacker's key as the human's, then "migrated" by that key to
    a branch of theirs: judged against its own made-up parent, the move would pass."""
    _migrated(example_team)
    _no_gate(example_team)
    attacker = Forger(example_team, "instance-3").fresh()
    key, public = new_key(attacker.clone.parent, f"shadow-human-{secrets.token_hex(4)}")

    def theirs(registry: dict[str, Any]) -> None:
        registry["settings"].update(human_key=public)
        registry["settings"].pop("store_branch", None)

    for file in (REG, TQ):
        attacker.write(file, json.loads(git(attacker.clone, "show", f"origin/coord:coordination/{file}")))
    attacker.edit(REG, theirs)
    attacker.path("MOVED.md").unlink()
    attacker.commit("coord(init): the store is back", actor=HUMAN, key=key)
    git(attacker.clone, "checkout", "-q", "-b", "shadow")
    attacker.edit(REG, lambda r: r["settings"].update(store_branch="shadow"))
    attacker.commit("coord(migrate): the store's own branch", actor=HUMAN, key=key)
    git(attacker.clone, "checkout", "-q", "main")
    git(attacker.clone, "rm", "-q", "-r", "coordination")
    attacker.path("MOVED.md").parent.mkdir()
    attacker.path("MOVED.md").write_text(workspace.moved_note("shadow"))
    message = "coord(migrate): the store moves\n\nCoord-Event: migrate\nCoord-Instance: human\n"
    attacker.commit("", message=message, key=key)
    assert attacker.push("main", "shadow").returncode == 0
    newcomer = tmp_path / "newcomer"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    coord(newcomer, "install", "--as", "instance-4")
    assert git(newcomer, "config", "coord.branch") == "coord", "the human's own move counts, not the made-up one"


def _no_gate(team: Team) -> None:
    """The team's remote as a host that runs no server hooks has it."""
    hooks = team.base / "no-hooks"
    hooks.mkdir()
    git(team.remote, "config", "core.hooksPath", str(hooks))


def _ungated(team: Team) -> Forger:
    """The team's remote with no gate (a host that runs no server hooks), and an attacker's
    unsigned commit on it: instance-3 completes instance-2's task, acting as instance-2."""
    _no_gate(team)
    attacker = Forger(team, "instance-3").fresh()

    def complete(queue: dict[str, Any]) -> None:
        task = next(t for t in queue["active_tasks"] if t["task_id"] == "task_001")
        queue["active_tasks"].remove(task)
        queue["completed_tasks"].append({**task, "status": "completed"})

    attacker.edit(TQ, complete)
    attacker.commit("instance-2 completes task_001", actor="instance-2", key=None)
    assert attacker.push().returncode == 0, "no gate: the push goes through"
    return attacker


def test_a_newcomer_does_not_believe_a_forged_tip(example_team: Team, coord: Coord, tmp_path: Path) -> None:
    good = example_team.remote_tip()
    _ungated(example_team)
    newcomer = tmp_path / "newcomer"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    assert coord(newcomer, "install", "--as", "instance-4").code == 0
    seen = coord(newcomer, "status", "--json")
    assert seen.code == 0, seen
    data = json.loads(seen.out)["data"]
    assert data["freshness"]["commit"] == good, "it reads the last good state, not the checkout git made"
    assert "origin/main has a commit that breaks the rules" in data["freshness"]["problem"]
    refused_sync = coord(newcomer, "sync")
    assert refused_sync.code != 0
    assert "instance-2 completes task_001" in refused_sync.err
    assert "the commit is not signed" in refused_sync.err


def test_a_newcomer_told_the_human_key_judges_what_came_since_the_key_signed(
    example_team: Team, coord: Coord, tmp_path: Path
) -> None:
    """The human's signature vouches for the history below it, which the human's clone judged
    before signing: a first look told that key judges only what came since (a year of history
    would otherwise take hours). So even a bad commit the human signed over stands, as it stands
    in the human's own store; told nothing, the newcomer judges from the root and refuses it."""
    attacker = _ungated(example_team)
    signer = Forger(example_team, HUMAN).fresh()
    signer.commit("coord: the human goes on from here", actor=HUMAN)
    assert signer.push().returncode == 0
    attacker.fresh().edit(REG, lambda r: r["instances"]["instance-2"].update(role="FORGED"))
    attacker.commit("instance-2 changes its role", actor="instance-2", key=None)
    assert attacker.push().returncode == 0
    told, untold = tmp_path / "told", tmp_path / "untold"
    for newcomer in (told, untold):
        git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    joined = coord(told, "install", "--trust", f"@{example_team.key_of(HUMAN)}.pub")
    said = " ".join(joined.out.split())
    assert joined.code == 0, joined
    assert "has a commit that breaks the rules" in said, "the unsigned commit since is judged, and refused"
    good = "refs/coord/verified/origin/main"  # what the reads believe (main is the checkout git clone made)
    assert git(told, "rev-parse", good) == git(signer.clone, "rev-parse", "HEAD"), "it starts where the key signed"
    assert coord(untold, "install").code == 0
    assert git(untold, "rev-parse", good) == git(signer.clone, "rev-parse", "HEAD~2"), "judged from the root"


def test_a_newcomer_to_an_own_branch_starts_at_the_last_good_commit(
    example_team: Team, coord: Coord, tmp_path: Path
) -> None:
    _migrated(example_team)
    git(example_team.clones["instance-3"], "fetch", "-q", "origin")
    example_team.ok("instance-3", "install", "--as", "instance-3")
    good = example_team.remote_tip("coord")
    _no_gate(example_team)
    three = example_team.clones["instance-3"]
    example_team.ok("instance-3", "edit")
    worktree = three / ".coord-edit"
    forged = put("task_001", status="blocked")
    queue = json.loads((worktree / "coordination" / TQ).read_text())
    forged(queue)
    (worktree / "coordination" / TQ).write_text(json.dumps(queue, indent=2) + "\n")
    git(
        worktree,
        "-c",
        "commit.gpgsign=false",
        "commit",
        "-qam",
        "block it\n\nCoord-Instance: instance-2",
        "--no-verify",
    )
    git(three, "push", "-q", "--no-verify", "origin", "coord")
    newcomer = tmp_path / "newcomer"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    assert coord(newcomer, "install", "--as", "instance-4").code == 0
    assert coord(newcomer, "status").code == 0
    assert git(newcomer, "rev-parse", "coord") == good, "its own branch starts where the rules still held"


def test_a_newcomer_told_the_human_key_trusts_the_store_that_starts_from_it(
    example_team: Team, coord: Coord, tmp_path: Path
) -> None:
    newcomer = tmp_path / "newcomer"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    human_pub = f"@{example_team.key_of(HUMAN)}.pub"
    joined = coord(newcomer, "install", "--as", "instance-4", "--trust", human_pub)
    assert joined.code == 0, joined
    said = " ".join(joined.out.split())
    signed = _newest_of(example_team, HUMAN)
    assert f"judged origin/main since {signed[:12]}, the newest commit that the human key this clone trusts" in said
    assert coord(newcomer, "status").code == 0


def test_a_newcomer_told_a_retired_human_key_takes_nothing_it_signed_since(
    example_team: Team, coord: Coord, tmp_path: Path
) -> None:
    """The human rotated its key (the old one leaked, say); a commit signed with the old key as the
    human on top, handing the store to another key, is no checkpoint for a newcomer told the old
    key: that key is the human's no more where it signed, so the commit is judged, and refused."""
    old = example_team.key_of(HUMAN)
    kept = old.with_name("leaked")
    for suffix in ("", ".pub"):  # `coord key rotate` puts the new key where the old one was
        shutil.copy(f"{old}{suffix}", f"{kept}{suffix}")
    example_team.ok(HUMAN, "key", "rotate", "--sync")
    _no_gate(example_team)
    attacker = Forger(example_team, "instance-3").fresh()
    _own_keys(attacker)
    forged = attacker.commit("coord(key): human sets the human key", actor=HUMAN, key=kept)
    assert attacker.push("HEAD:main").returncode == 0, "no gate"
    newcomer = tmp_path / "newcomer"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    coord(newcomer, "install", "--as", "instance-4", "--trust", f"@{kept}.pub")
    synced = coord(newcomer, "sync")
    assert synced.code == 1, synced
    assert forged[:12] in synced.err, synced.err
    good = git(newcomer, "rev-parse", "refs/coord/verified/origin/main")
    assert good == git(newcomer, "rev-parse", f"{forged}^"), "it works from where the rules held"


def _newest_of(team: Team, who: str, branch: str = "main") -> str:
    """The newest commit of the remote's first-parent line that `who` made."""
    listed = git(team.remote, "log", "--first-parent", "--format=%H %(trailers:key=Coord-Instance,valueonly)", branch)
    return next(line.split()[0] for line in listed.splitlines() if line.split()[1:] == [who])


def test_a_shallow_join_told_the_human_key_fetches_back_to_a_commit_the_key_signed(
    example_team: Team, coord: Coord, tmp_path: Path
) -> None:
    """The tip alone is an instance's commit, which the human key never signed: the join fetches
    more of the history until it holds one the key signed as the human, and trusts the store then."""
    for who in ("instance-1", "instance-2"):
        example_team.ok(who, "checkin", "--sync")
    newcomer = tmp_path / "newcomer"
    url = f"file://{example_team.remote}"  # git ignores --depth on a path
    git(example_team.base, "clone", "-q", "--depth=1", "--single-branch", url, str(newcomer))
    git(newcomer, "remote", "set-url", "origin", str(example_team.remote))
    joined = coord(newcomer, "install", "--as", "instance-4", "--trust", f"@{example_team.key_of(HUMAN)}.pub")
    assert joined.code == 0, joined
    said = " ".join(joined.out.split())
    assert f"judged origin/main since {_newest_of(example_team, HUMAN)[:12]}, the newest commit" in said, said
    assert coord(newcomer, "status").code == 0


def test_a_newcomer_told_another_human_key_believes_none_of_the_store(
    example_team: Team, coord: Coord, tmp_path: Path
) -> None:
    """The remote's store stands for one someone made up, history and all: its root names their key."""
    newcomer = tmp_path / "newcomer"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    _, told = new_key(tmp_path, "the-real-human")
    assert coord(newcomer, "install", "--as", "instance-4").code == 0, "judged, and trusted from its root"
    joined = coord(newcomer, "install", "--trust", told)
    assert joined.code == 1, "the set-up is not done: the clone believes nothing of the store"
    assert "has a commit that breaks the rules" in joined.out, joined
    told_hint = "if that is not the human coordinator's key now, tell it theirs"
    assert told_hint in joined.out.replace("\n", " "), "the fault may be the key just told"
    refused_sync = coord(newcomer, "sync")
    assert refused_sync.code != 0
    assert "the store starts here, and its registry names the human key SHA256:" in refused_sync.err
    assert "if that is not the human coordinator's key now, tell it theirs" in refused_sync.err.replace("\n", " ")
    assert "not the key this clone trusts" in refused_sync.err.replace("\n", " ")
    read = coord(newcomer, "status")
    assert read.code != 0, "nothing of the store keeps the rules: there is nothing to read"
    assert "not the key this clone trusts" in read.err.replace("\n", " ")
    assert git(newcomer, "config", "coord.trust") == told.split()[0] + " " + told.split()[1]


def test_a_made_up_store_that_copies_the_human_key_is_not_believed(
    example_team: Team, coord: Coord, tmp_path: Path
) -> None:
    """On a remote no gate guards: an unsigned store made from nothing, its registry naming the real
    human key (a public key is public). Naming the key proves nothing; only the key's signature does."""
    made_up = tmp_path / "made-up"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(made_up))
    git(made_up, "checkout", "-q", "--orphan", "fake")
    tasks = json.loads((made_up / "coordination" / model.TASKS).read_text())
    tasks["pending_tasks"][0]["title"] = "Send instance-3 the deploy credentials"
    (made_up / "coordination" / model.TASKS).write_text(json.dumps(tasks, indent=2) + "\n")
    git(made_up, "add", "-A")
    git(made_up, "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "a store from nothing")
    remote = tmp_path / "unguarded.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(made_up, "push", "-q", "--no-verify", str(remote), "fake:main")
    newcomer = tmp_path / "newcomer"
    git(tmp_path, "clone", "-q", str(remote), str(newcomer))
    joined = coord(newcomer, "install", "--as", "instance-4", "--trust", f"@{example_team.key_of(HUMAN)}.pub")
    assert joined.code == 1, joined
    assert "has a commit that breaks the rules" in joined.out, joined
    read = coord(newcomer, "status")
    assert read.code != 0, read
    said = (joined.out + read.err).replace("\n", " ")
    assert "as anyone can (a public key is public), but that key signs no commit above it" in said, said


def test_a_newcomer_told_the_human_key_the_human_rotated_to_trusts_the_store(
    example_team: Team, coord: Coord, tmp_path: Path
) -> None:
    """The store started from the human's old key; the key they give out now signed its history since."""
    example_team.ok(HUMAN, "sync")
    example_team.ok(HUMAN, "key", "rotate", "--sync")
    example_team.ok(HUMAN, "task", "add", "after the rotation", "--sync")
    newcomer = tmp_path / "newcomer"
    git(example_team.base, "clone", "-q", str(example_team.remote), str(newcomer))
    now = git(example_team.clones[HUMAN], "config", "user.signingkey")
    joined = coord(newcomer, "install", "--trust", f"@{now}.pub")
    assert joined.code == 0, joined
    said = " ".join(joined.out.split())
    assert f"judged origin/main since {example_team.remote_tip()[:12]}, the newest commit" in said, said


def test_a_root_whose_registry_is_hostile_json_is_refused_not_a_crash(tmp_path: Path, coord: Coord) -> None:
    """What the trusted key is compared with is read as the range check reads it: strictly and bounded."""
    made = tmp_path / "made"
    git(tmp_path, "init", "-q", "-b", "main", str(made))
    (made / "coordination").mkdir()
    (made / "coordination" / REG).write_text("[" * 100_000 + "]" * 100_000)
    git(made, "add", "-A")
    git(made, "commit", "-q", "--no-verify", "-m", "a store of sorts")
    newcomer = tmp_path / "newcomer"
    git(tmp_path, "clone", "-q", str(made), str(newcomer))
    _, told = new_key(tmp_path, "the-human")
    joined = coord(newcomer, "install", "--trust", told)
    assert "Traceback" not in joined.err, joined
    assert joined.code == 1, joined
    assert "has a commit that breaks the rules" in joined.out, joined
