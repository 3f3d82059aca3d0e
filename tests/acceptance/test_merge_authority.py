"""What an old parent cannot lend: a merge onto the past, a merge nested on a side branch and a
commit dated in the past are judged under the line they join, with real keys and the real gate.

Each attack has an honest twin, the same shape of history made lawfully, which goes through.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from testing.repos import git
from testing.signed import HUMAN
from testing.signed import Team
from tests.acceptance.test_gate import checked_locally
from tests.acceptance.test_gate import refused

from gitcoord import model


@pytest.fixture
def team(signed_team: Team) -> Team:
    return signed_team


def _rotate_human(team: Team) -> tuple[str, Path]:
    """The human rotates its key: the tip before, and a copy of the old (leaked) key."""
    team.fresh(HUMAN)
    before = team.remote_tip()
    leaked = team.base / "leaked-human"
    shutil.copy(team.key_of(HUMAN), leaked)
    team.ok(HUMAN, "key", "rotate", "--sync")
    return before, leaked


def _commit_tree(clone: Path, tree: str, parents: list[str], message: str, key: Path) -> str:
    options = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]
    return git(clone, *options, "commit-tree", "-S", tree, *(x for p in parents for x in ("-p", p)), "-m", message)


def _relaxed_tree(clone: Path) -> str:
    """The checkout's tree with signatures switched off (left staged, then undone in the checkout)."""
    path = clone / model.COORD_DIR / model.REGISTRY
    data = json.loads(path.read_text())
    data["settings"]["require_signatures"] = False
    path.write_text(json.dumps(data, indent=2) + "\n")
    git(clone, "add", "-A")
    tree = git(clone, "write-tree")
    git(clone, "reset", "-q", "--hard")
    return tree


def test_a_merge_onto_an_old_first_parent_cannot_sign_with_a_rotated_out_key(team: Team) -> None:
    before, leaked = _rotate_human(team)
    human, tip = team.clones[HUMAN], team.remote_tip()
    tree = _relaxed_tree(human)
    message = "human relaxes the settings\n\nCoord-Instance: human\n"
    forged = _commit_tree(human, tree, [before, tip], message, leaked)
    git(human, "reset", "-q", "--hard", forged)
    said = refused(team, HUMAN, "signature")
    assert "human signs with the key the registry holds for it" in said, said
    checked_locally(team, HUMAN, "signature")
    # The twin: the same merge signed with the key the line holds now.
    honest = _commit_tree(human, tree, [before, tip], message, team.key_of(HUMAN))
    git(human, "reset", "-q", "--hard", honest)
    assert team.push(HUMAN).returncode == 0


def test_a_merge_nested_on_a_side_branch_is_judged_under_the_line_it_joins(team: Team) -> None:
    before, leaked = _rotate_human(team)
    clone = team.clones["instance-2"]
    team.fresh("instance-2")
    git(clone, "checkout", "-q", "-B", "side", before)
    tree = _relaxed_tree(clone)
    nested = _commit_tree(
        clone, tree, [before, f"{before}~1"], "human relaxes the settings\n\nCoord-Instance: human\n", leaked
    )
    git(clone, "checkout", "-q", "main")
    git(clone, "merge", "-q", "--no-ff", "--no-commit", nested)
    team.commit("instance-2", "merge the side branch\n\nCoord-Instance: instance-2")
    said = refused(team, "instance-2", "signature")
    assert "which this merge brings in" in said, said
    checked_locally(team, "instance-2", "signature")
    # The twin: a merge on the side that adds nothing, by instance-2 with its own key, merged the same way.
    git(clone, "reset", "-q", "--hard", "origin/main")
    side_tree = git(clone, "rev-parse", f"{before}^{{tree}}")
    lawful = _commit_tree(
        clone, side_tree, [before, f"{before}~1"], "merge\n\nCoord-Instance: instance-2\n", team.key_of("instance-2")
    )
    git(clone, "merge", "-q", "--no-ff", "--no-commit", lawful)
    team.commit("instance-2", "merge the side branch\n\nCoord-Instance: instance-2")
    done = team.push("instance-2")
    assert done.returncode == 0, done.stderr


def test_a_parent_dated_in_the_past_does_not_let_a_commit_write_the_past(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    clone = team.clones["instance-1"]
    team.fresh("instance-1")
    past = "2000-01-01T00:00:00Z"
    env = {"GIT_COMMITTER_DATE": past, "GIT_AUTHOR_DATE": past}
    git(clone, "commit", "-q", "--allow-empty", "--no-verify", "-m", "nothing, dated 2000", env=env)
    empty = git(clone, "rev-parse", "HEAD")
    tip = team.remote_tip()
    monkeypatch.setenv("COORD_NOW", "2000-01-01T00:00:01Z")
    shared = team.run("instance-1", "checkin")  # its last_update, and the commit, dated 2000
    monkeypatch.delenv("COORD_NOW")
    assert shared.code != 0, shared
    assert "[time]" in shared.err, shared
    assert "before the state it changes" in shared.err, shared
    assert team.remote_tip() == tip
    checked_locally(team, "instance-1", "time")
    # The twin: the same empty commit, then a check-in at the present moment, through the gate.
    git(clone, "reset", "-q", "--hard", empty)
    team.ok("instance-1", "checkin")
    assert empty in git(team.remote, "rev-list", "main").split()
