"""The server's gate with real keys, real clones and real pushes; and `coord check --range`, which agrees.

Every refused push is also checked locally, in the pusher's clone, with `coord check --range
origin/main..main`: the same rule, before anything leaves the machine.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from testing.forgery import Forger
from testing.forgery import new_key
from testing.forgery import register
from testing.repos import git
from testing.signed import HUMAN
from testing.signed import Team
from tests.conftest import Coord

from gitcoord import model
from gitcoord import store_line


@pytest.fixture
def team(signed_team: Team) -> Team:
    return signed_team


def refused(team: Team, who: str, rule: str, *push: str) -> str:
    """Push from `who`'s clone: refused by the gate, saying `rule`, and nothing moves on the remote."""
    before = {ref: team.remote_tip(ref) for ref in ("main",)}
    done = team.push(who, *push)
    assert done.returncode != 0, done.stderr
    assert "pre-receive hook declined" in done.stderr
    assert f"[{rule}]" in done.stderr, done.stderr
    assert all(line.startswith(("remote:", "To ", " ! ", "error:")) for line in done.stderr.splitlines())
    assert {ref: team.remote_tip(ref) for ref in before} == before
    return done.stderr


def checked_locally(team: Team, who: str, rule: str) -> dict[str, Any]:
    result = team.run(who, "check", "--range", "origin/main..main", "--json")
    assert result.code == 1, result
    verdict: dict[str, Any] = json.loads(result.out)["data"]
    assert rule in verdict["first_bad_commit"], verdict
    return verdict


def _own_expertise(name: str, areas: list[str]) -> Any:
    return lambda d: d["instances"][name].update(expertise_areas=areas)


def test_an_honest_signed_history_is_accepted_with_no_false_alarm(team: Team) -> None:
    team.ok("instance-1", "checkin", "--sync")
    team.ok("instance-2", "checkin", "--sync")
    task = team.ok("instance-1", "task", "add", "Write the API", "--sync").splitlines()[0]
    team.ok("instance-2", "sync")
    # Both act before either syncs: the second sync merges, and signs its merge commit.
    team.ok("instance-1", "task", "claim", task, "--no-sync")
    team.ok("instance-2", "msg", "send", "--to", "instance-1", "--subject", "hi", "--body", "hello", "--no-sync")
    team.ok("instance-1", "sync")
    synced = team.ok("instance-2", "sync")
    assert "merged with origin" in synced
    # A hand commit in a signing clone, through the usual hooks (the prepare-commit-msg trailer).
    team.fresh("instance-1")
    team.edit("instance-1", model.REGISTRY, _own_expertise("instance-1", ["python"]))
    team.commit("instance-1", "instance-1 lists its expertise")
    assert team.push("instance-1").returncode == 0
    team.ok(HUMAN, "sync")
    root = git(team.remote, "rev-list", "--max-parents=0", "main")
    assert team.ok(HUMAN, "check", "--range", f"{root}..main").startswith("ok: ")
    merges = git(team.remote, "rev-list", "--merges", "main").split()
    assert merges, "the history holds a sync merge"
    assert all(git(team.remote, "cat-file", "commit", m).count("gpgsig") == 1 for m in merges)


def test_an_unsigned_coordination_commit_is_refused(team: Team) -> None:
    team.fresh("instance-1")
    team.edit("instance-1", model.REGISTRY, _own_expertise("instance-1", ["python"]))
    team.commit("instance-1", "unsigned", "-c", "commit.gpgsign=false")
    said = refused(team, "instance-1", "signature")
    assert "not signed" in said
    assert "'unsigned'" in said, "the pusher is told which commit"
    assert "what to do:" in said
    checked_locally(team, "instance-1", "signature")


def test_a_commit_signed_by_instance_2_acting_as_instance_1_is_refused(team: Team) -> None:
    team.fresh("instance-2")
    team.edit("instance-2", model.REGISTRY, _own_expertise("instance-1", ["forged"]))
    team.commit("instance-2", "instance-1's own edit, says the trailer", "-c", "coord.instance=instance-1")
    said = refused(team, "instance-2", "signature")
    assert "signed with instance-2's key, but acts as instance-1" in said
    checked_locally(team, "instance-2", "signature")


def _message_from(sender: str) -> Any:
    def add(d: dict[str, Any]) -> None:
        d["messages"].append(
            {
                "message_id": "msg_forged",
                "from": sender,
                "to": "human",
                "type": "notification",
                "timestamp": "2030-01-01T00:00:00Z",
                "subject": f"from {sender}, honest",
                "message": "trust me",
                "priority": "low",
                "requires_response": False,
                "status": "sent",
            }
        )

    return add


@pytest.mark.parametrize(
    ("trailer", "rule"),
    [("instance-2", "authorization"), ("instance-1", "signature")],
    ids=["as-itself", "as-the-sender"],
)
def test_a_message_from_instance_1_committed_by_instance_2_is_refused(team: Team, trailer: str, rule: str) -> None:
    team.fresh("instance-2")
    team.edit("instance-2", model.MESSAGES, _message_from("instance-1"))
    team.commit("instance-2", "a message from instance-1", "-c", f"coord.instance={trailer}")
    refused(team, "instance-2", rule)
    checked_locally(team, "instance-2", rule)


def test_acting_as_the_human_without_the_human_key_is_refused(team: Team) -> None:
    team.fresh("instance-1")
    # coord refuses before committing: this clone cannot sign as the human.
    result = team.run("instance-1", "--as", HUMAN, "decision", "propose", "Overrule", "--option", "A", "--option", "B")
    assert result.code == 1
    assert "a key the registry does not hold for human" in result.err
    assert "nothing was committed" in result.err
    # By hand, past every client hook: the gate refuses it.
    team.edit("instance-1", model.REGISTRY, lambda d: d["settings"].update(checkin_hours=1000))
    team.commit("instance-1", "the human relaxes the check-ins", "-c", f"coord.instance={HUMAN}")
    said = refused(team, "instance-1", "signature")
    assert "signed with instance-1's key, but acts as human" in said
    checked_locally(team, "instance-1", "signature")


def test_a_key_registered_and_used_in_one_commit_vouches_only_for_its_new_instance(team: Team, tmp_path: Path) -> None:
    path, key = new_key(tmp_path, "instance-9")
    team.fresh("instance-1")
    team.edit("instance-1", model.REGISTRY, register("instance-9", signing_key=key))
    # Signed with the new key, acting as instance-1: the new key does not vouch for instance-1.
    team.commit("instance-1", "register instance-9", "-c", f"user.signingkey={path}")
    said = refused(team, "instance-1", "signature")
    assert "signed with instance-9's key, but acts as instance-1" in said
    checked_locally(team, "instance-1", "signature")
    # Signed with instance-1's own key: instance-1 may not choose instance-9's key.
    git(team.clones["instance-1"], "commit", "-q", "--amend", "--no-edit", "--no-verify")
    said = refused(team, "instance-1", "authorization")
    assert "only instance-9 itself" in said
    # Signed with the new key, acting as instance-9: a self-registration, proof of possession.
    git(
        team.clones["instance-1"],
        "-c",
        f"user.signingkey={path}",
        "commit",
        "-q",
        "--amend",
        "--no-verify",
        "-m",
        "instance-9 registers itself\n\nCoord-Instance: instance-9",
    )
    assert team.push("instance-1").returncode == 0


def test_a_force_push_rewind_and_a_branch_deletion_are_refused(team: Team) -> None:
    team.fresh("instance-1")
    said = refused(team, "instance-1", "history", "--force", "main~1:main")
    assert "rewrite or rollback" in said
    refused(team, "instance-1", "deletion", ":main")
    # Only the store's line: a code branch forked from it holds a copy of the store, and is code's
    # own affair (rebased and force-pushed, deleted once merged); its commits were judged as it took them.
    assert team.push("instance-1", "main:refs/heads/side").returncode == 0
    assert team.push("instance-1", "--force", "main~1:refs/heads/side").returncode == 0
    assert team.push("instance-1", ":side").returncode == 0
    assert team.remote_tip("main") == git(team.clones["instance-1"], "rev-parse", "main")


def test_a_rule_breaking_commit_pushed_with_no_verify_is_refused_with_its_reason(team: Team) -> None:
    team.fresh("instance-1")
    team.ok("instance-1", "msg", "send", "--to", "instance-2", "--subject", "hi", "--body", "hello", "--sync")
    team.fresh("instance-1")
    team.edit("instance-1", model.MESSAGES, lambda d: d["messages"][0].update(message="I never said that"))
    sha = team.commit("instance-1", "instance-1 rewrites what it sent")
    said = refused(team, "instance-1", "immutable")
    assert f"commit {sha[:12]} 'instance-1 rewrites what it sent' [immutable]" in said
    assert "never changes once written" in said
    assert "what to do: make the change as a protocol step" in said
    checked_locally(team, "instance-1", "immutable")


def test_a_coord_instance_line_in_the_body_does_not_count(team: Team) -> None:
    team.fresh("instance-1")
    team.edit("instance-1", model.REGISTRY, _own_expertise("instance-1", ["python"]))
    body = "own expertise\n\nCoord-Instance: instance-2 wrote this line, in the body\n\nCoord-Instance: instance-1"
    team.commit("instance-1", body)
    assert team.push("instance-1").returncode == 0, "one trailer: the body's line is no second one"
    team.edit("instance-1", model.REGISTRY, _own_expertise("instance-1", ["go"]))
    message = "own expertise\n\nCoord-Instance: instance-1\n\nsigned, a paragraph of prose"
    team.commit("instance-1", message, "-c", "core.hooksPath=/dev/null")  # no hook to add the trailer
    said = refused(team, "instance-1", "signature")
    assert "names no acting instance" in said, "a line outside the trailer block names no one"


def test_two_coord_instance_trailers_are_refused(team: Team) -> None:
    team.fresh("instance-1")
    team.edit("instance-1", model.REGISTRY, _own_expertise("instance-1", ["python"]))
    team.commit("instance-1", "own expertise\n\nCoord-Instance: instance-1\nCoord-Instance: instance-2")
    said = refused(team, "instance-1", "trailer")
    assert "2 Coord-Instance trailers (instance-1, instance-2)" in said
    checked_locally(team, "instance-1", "trailer")


def test_a_commit_dated_ahead_of_the_server_is_refused(team: Team) -> None:
    team.fresh("instance-1")
    team.edit("instance-1", model.REGISTRY, _own_expertise("instance-1", ["python"]))
    ahead = f"@{int(time.time()) + 3600} +0000"
    team.commit("instance-1", "from the future", env={"GIT_COMMITTER_DATE": ahead})
    assert "minutes ahead of this server's clock" in refused(team, "instance-1", "time")


def test_branches_without_coordination_files_pass(team: Team) -> None:
    clone = team.clones["instance-1"]
    git(clone, "checkout", "-q", "--orphan", "docs")
    git(clone, "rm", "-rq", "--cached", ".")
    (clone / "notes.md").write_text("unsigned and unchecked\n")
    git(clone, "add", "notes.md")
    git(clone, "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", "notes")
    assert team.push("instance-1", "docs").returncode == 0
    assert team.push("instance-1", "--force", ":docs").returncode == 0


def test_the_gate_refuses_what_it_cannot_check(team: Team) -> None:
    git(team.remote, "config", "gpg.ssh.program", "/nonexistent/ssh-keygen")
    team.fresh("instance-1")
    team.ok("instance-1", "checkin", "--no-sync")  # pushed by hand below
    done = team.push("instance-1")
    assert done.returncode != 0
    assert "the push cannot be checked, so it is refused" in done.stderr
    assert "/nonexistent/ssh-keygen (OpenSSH) is needed" in done.stderr


def test_install_server_keeps_a_hook_that_was_there_and_runs_it_first(team: Team, coord: Coord) -> None:
    hooks = team.remote / "hooks"
    legacy = hooks / "pre-receive"
    ours = legacy.read_text()
    legacy.write_text('#!/bin/sh\nwhile read old new ref; do echo "legacy saw $ref" >&2; done\nexit 0\n')
    assert coord(team.remote, "install", "--server").code == 0
    assert (hooks / "pre-receive").read_text() == ours
    assert "legacy saw" in (hooks / "pre-receive.legacy").read_text()
    again = coord(team.remote, "install", "--server")
    assert (again.code, again.out) == (0, "the gate is installed; nothing to do\n")
    team.fresh("instance-1")
    team.ok("instance-1", "checkin", "--no-sync")  # pushed by hand below
    done = team.push("instance-1")
    assert done.returncode == 0, done.stderr
    assert "remote: legacy saw refs/heads/main" in done.stderr
    # The older hook refusing is the push refused.
    (hooks / "pre-receive.legacy").write_text("#!/bin/sh\necho 'legacy says no' >&2\nexit 1\n")
    team.ok("instance-1", "checkout", "--no-sync")
    done = team.push("instance-1")
    assert done.returncode != 0
    assert "legacy says no" in done.stderr


def test_install_server_wants_a_bare_repository(team: Team, coord: Coord) -> None:
    result = coord(team.clones["instance-1"], "install", "--server")
    assert result.code == 1
    assert "is not a bare repository" in result.err


def test_the_trailer_hook_reads_the_trailer_block_as_git_does(team: Team) -> None:
    """A Coord-Instance line in the body is no trailer, so the hook still adds the real one."""
    team.fresh("instance-1")
    team.edit("instance-1", model.REGISTRY, _own_expertise("instance-1", ["python"]))
    team.commit("instance-1", "own expertise\n\nCoord-Instance: instance-2 is mentioned here\n\nand some prose")
    clone = team.clones["instance-1"]
    assert git(clone, "log", "-1", "--format=%(trailers:key=Coord-Instance,valueonly)") == "instance-1"
    assert team.push("instance-1").returncode == 0


# Tricks on git's own objects and refs ---------------------------------------------------------


def test_a_replace_ref_is_refused_and_one_already_there_blinds_nothing(team: Team) -> None:
    team.fresh("instance-1")
    team.edit("instance-1", model.REGISTRY, lambda d: d["settings"].update(require_signatures=False))
    forged = team.commit("instance-1", "signatures off", "-c", "commit.gpgsign=false")
    honest = git(team.clones["instance-1"], "rev-parse", "origin/main")
    git(team.clones["instance-1"], "replace", forged, honest)
    said = refused(team, "instance-1", "replace", f"refs/replace/{forged}")
    assert "another commit in its place" in said
    # A replace ref that reached the server some other way: the gate still judges the commit itself.
    git(team.clones["instance-1"], "replace", "-d", forged)
    git(team.remote, "update-ref", f"refs/replace/{forged}", honest)
    refused(team, "instance-1", "signature")


@pytest.mark.parametrize("ref", ["refs/merge-requests/1/head", "refs/pull/1/head", "refs/keep-around/x"])
def test_a_commit_a_forge_wrote_past_the_hook_is_judged_when_pushed_to_a_branch(team: Team, ref: str) -> None:
    """A forge copies a fork's branch into the repository (a merge request, a pull request) and
    runs no hook: the gate judges it all the same once it is pushed where the gate guards."""
    team.fresh("instance-2")
    team.edit("instance-2", model.REGISTRY, _own_expertise("instance-1", ["forged"]))
    forged = team.commit("instance-2", "instance-1's own edit, says the trailer", "-c", "coord.instance=instance-1")
    git(team.remote, "fetch", "-q", str(team.clones["instance-2"]), f"+{forged}:{ref}")  # as the forge does
    said = refused(team, "instance-2", "signature")
    assert "signed with instance-2's key, but acts as instance-1" in said


@pytest.mark.parametrize(
    "ref", ["refs/tags/main", "refs/main", "refs/tags/origin/main", "refs/tags/refs/heads/main", "refs/tags/heads/main"]
)
def test_a_ref_that_would_shadow_the_store_branch_is_refused(team: Team, ref: str) -> None:
    """git reads `main` as refs/main or refs/tags/main before refs/heads/main (`git log main` would
    show it), `origin/main` as the tag origin/main before a clone's copy of the branch (what `git
    reset --keep origin/main` reads), and `refs/heads/main`, where a clone has no such branch yet,
    as the tag refs/heads/main."""
    team.fresh("instance-2")
    root = git(team.clones["instance-2"], "rev-list", "--max-parents=0", "HEAD").split()[0]
    said = refused(team, "instance-2", "shadow", f"{root}:{ref}")
    assert f"{ref} would shadow the branch " in said


def test_a_tag_in_a_folder_of_its_own_hides_no_branch_but_the_stores(team: Team) -> None:
    """A tag `REMOTE/NAME` reads as a clone's copy of a branch only for the store's branches, which
    coord's own advice names: a tag `backup/main` or `release/1.0` is a tag, and a branch 1.0 a branch."""
    team.fresh("instance-2")
    for refspec in ("main:refs/tags/release/1.0", "main:refs/heads/1.0", "main:refs/tags/backup/feature"):
        done = team.push("instance-2", refspec)
        assert done.returncode == 0, done.stderr
    refused(team, "instance-2", "shadow", "main:refs/tags/backup/main")  # main holds the store here


@pytest.mark.parametrize("ref", ["refs/tags/coord", "refs/tags/origin/coord"])
def test_a_ref_that_would_shadow_the_stores_own_branch_is_refused_before_it_is_made(team: Team, ref: str) -> None:
    """The store's own branch has a name known beforehand (`coord migrate --branch coord`, `coord
    init`): a tag planted before it is made would hide it from then on, or block its first push."""
    team.fresh("instance-2")
    assert "coord" not in git(team.remote, "branch", "--list"), "the store lives on main here"
    said = refused(team, "instance-2", "shadow", f"main:{ref}")
    assert f"{ref} would shadow the branch coord" in said, said


# (A tag refs/heads/next there already, git's own push takes the branch's name for it, and refuses.)
@pytest.mark.parametrize("ref", ["refs/tags/next", "refs/next", "refs/tags/heads/next"])
def test_a_branch_a_ref_shadows_already_is_not_made(team: Team, ref: str) -> None:
    """The same refs, there before the branch they would hide (a tag `coord` pushed before the store's
    branch was shared, or before the gate): the branch is refused until the ref is gone, or every
    reader of the name would read the ref."""
    team.fresh("instance-2")
    root = git(team.clones["instance-2"], "rev-list", "--max-parents=0", "HEAD").split()[0]
    git(team.remote, "update-ref", ref, root)  # pushed before the gate, or past it by the server's own hand
    said = refused(team, "instance-2", "shadow", "main:refs/heads/next")
    assert f"{ref} would shadow the new branch next" in said, said
    git(team.remote, "update-ref", "-d", ref)
    assert team.push("instance-2", "main:refs/heads/next").returncode == 0


def _twice_listed(clone: Path, forged: str) -> str:
    """A commit whose coordination/ tree lists the task queue twice: a forged blob first, the real one after."""
    entries = git(clone, "ls-tree", "HEAD:coordination").splitlines()
    real = next(e for e in entries if e.endswith("\ttask-queue.json"))
    listing = "\n".join([f"100644 blob {forged}\ttask-queue.json", *entries]) + "\n"
    assert real in listing
    store = subprocess.run(["git", "mktree"], cwd=clone, input=listing, capture_output=True, text=True, check=True)
    root = [e for e in git(clone, "ls-tree", "HEAD").splitlines() if not e.endswith("\tcoordination")]
    top = "\n".join([*root, f"040000 tree {store.stdout.strip()}\tcoordination"]) + "\n"
    tree = subprocess.run(["git", "mktree"], cwd=clone, input=top, capture_output=True, text=True, check=True)
    return git(clone, "commit-tree", tree.stdout.strip(), "-p", "HEAD", "-m", "nothing to see")


def test_a_tree_that_lists_a_store_file_twice_is_refused_by_the_server_and_the_checker(
    team: Team, coord: Coord
) -> None:
    team.fresh("instance-2")
    clone = team.clones["instance-2"]
    queue = json.loads((clone / "coordination" / model.TASKS).read_text())
    queue["completed_tasks"] = []
    forged = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        cwd=clone,
        input=json.dumps(queue),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    commit = _twice_listed(clone, forged)
    before = team.remote_tip()
    pushed = team.push("instance-2", f"{commit}:refs/heads/main")
    assert pushed.returncode != 0, pushed.stderr
    assert team.remote_tip() == before
    checked = coord(clone, "check", "--range", f"origin/main..{commit}")
    assert checked.code == 1, checked
    assert "reads differently by its path than in the tree's listing" in checked.err


def _raw_tree(clone: Path, entries: list[tuple[str, str, str]]) -> str:
    """A tree object with `entries` (mode, name, id) exactly as given: in this order, any name."""
    data = b"".join(f"{mode} {name}".encode() + b"\0" + bytes.fromhex(sha) for mode, name, sha in entries)
    made = subprocess.run(
        ["git", "hash-object", "-t", "tree", "-w", "--literally", "--stdin"],
        cwd=clone,
        input=data,
        capture_output=True,
        check=True,
    )
    return made.stdout.decode().strip()


def _with_store(clone: Path, store: str) -> str:
    """A commit on HEAD whose coordination/ is the tree `store`."""
    root = [e for e in git(clone, "ls-tree", "HEAD").splitlines() if not e.endswith("\tcoordination")]
    top = "\n".join([*root, f"040000 tree {store}\tcoordination"]) + "\n"
    tree = subprocess.run(["git", "mktree"], cwd=clone, input=top, capture_output=True, text=True, check=True)
    return git(clone, "commit-tree", tree.stdout.strip(), "-p", "HEAD", "-m", "nothing to see")


def _files(clone: Path) -> list[tuple[str, str, str]]:
    found = []
    for line in git(clone, "ls-tree", "HEAD:coordination").splitlines():
        meta, name = line.split("\t")
        mode, kind, sha = meta.split()
        if kind == "blob":
            found.append((mode, name, sha))
    return found


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("out of order", "coordination lists its entries out of git's order"),
        ("a slash in a name", "coordination lists an entry named 'archive/task-queue.json'"),
        ("out of order below", "coordination/archive lists its entries out of git's order"),
        ("a directory of another mode", "coordination lists an entry with mode 40755 ('archive')"),
    ],
)
def test_a_store_tree_git_reads_otherwise_by_path_is_refused_by_the_checker(
    team: Team, coord: Coord, fault: str, said: str
) -> None:
    """Reversed, `decisions.json` is listed but not found by its path (git's search stops at
    `task-queue.json`); a name with a slash is found by its path before the directory it shadows."""
    team.fresh("instance-2")
    clone = team.clones["instance-2"]
    files = _files(clone)
    if fault == "out of order":
        store = _raw_tree(clone, files[::-1])
    elif fault == "a slash in a name":
        queue = next(f for f in files if f[1] == model.TASKS)
        store = _raw_tree(clone, [*files, ("100644", f"archive/{model.TASKS}", queue[2])])
    else:  # below a directory git reads as one whichever of its modes it has
        shelf = _raw_tree(clone, [f for f in files if f[1] in (model.TASKS, model.DECISIONS)][::-1])
        mode = "40755" if fault == "a directory of another mode" else "40000"
        store = _raw_tree(clone, [(mode, "archive", shelf), *files])
    commit = _with_store(clone, store)
    checked = coord(clone, "check", "--range", f"origin/main..{commit}")
    assert checked.code == 1, checked
    assert said in checked.err
    assert "reads differently by its path than in the tree's listing" in checked.err


def test_a_store_file_turned_into_a_symbolic_link_of_the_same_blob_is_refused(team: Team, coord: Coord) -> None:
    """The link's target text is the file's JSON, so the blob id is the same: it is a change all the same
    (every checkout would hold a link where the task queue was), and judged as one."""
    team.fresh("instance-2")
    clone = team.clones["instance-2"]
    entries = git(clone, "ls-tree", "HEAD:coordination").splitlines()
    linked = [e.replace("100644 blob", "120000 blob") if e.endswith("\ttask-queue.json") else e for e in entries]
    store = subprocess.run(
        ["git", "mktree"], cwd=clone, input="\n".join(linked) + "\n", capture_output=True, text=True, check=True
    )
    root = [e for e in git(clone, "ls-tree", "HEAD").splitlines() if not e.endswith("\tcoordination")]
    top = "\n".join([*root, f"040000 tree {store.stdout.strip()}\tcoordination"]) + "\n"
    tree = subprocess.run(["git", "mktree"], cwd=clone, input=top, capture_output=True, text=True, check=True)
    commit = git(clone, "commit-tree", tree.stdout.strip(), "-p", "HEAD", "-m", "nothing changed, says the blob")
    before = team.remote_tip()
    pushed = team.push("instance-2", f"{commit}:refs/heads/main")
    assert pushed.returncode != 0, pushed.stderr
    assert team.remote_tip() == before
    checked = coord(clone, "check", "--range", f"origin/main..{commit}")
    assert checked.code == 1, checked
    assert "[parse]" in checked.out + checked.err, checked
    assert "coordination/task-queue.json is a symbolic link, not a file" in checked.out + checked.err, checked


def test_a_separator_in_a_subject_is_only_text(team: Team, coord: Coord) -> None:
    team.fresh("instance-1")
    clone = team.clones["instance-1"]
    (clone / "notes.txt").write_text("code\n")
    git(clone, "add", "notes.txt")
    git(clone, "commit", "-q", "--no-verify", "-m", "a subject\x1fwith\x1ethe log's separators")
    checked = coord(clone, "check", "--range", "origin/main..main")
    assert checked.code == 0, checked
    assert team.push("instance-1").returncode == 0
    assert coord(clone, "log", "-n", "3").code == 0


def test_a_branch_beside_the_store_naming_itself_the_stores_does_not_become_its_line(team: Team) -> None:
    """With the store on the default branch, a branch whose store names itself the store's branch
    is refused: who could push one would otherwise choose which line counts as shared."""
    forger = Forger(team, HUMAN).fresh()
    forger.edit(model.REGISTRY, lambda d: d["settings"].update(store_branch="x"))
    forger.commit("coord(settings): the store is on x")
    pushed = forger.push("HEAD:refs/heads/x")
    assert pushed.returncode == 1, "a second store naming itself beside the line: a store has one line"
    assert "x would hold a store that names itself the store's branch while main still holds" in pushed.stderr
    assert store_line.find(team.remote, []).ref == "refs/heads/main"


def test_the_gate_keeps_the_store_line_it_took_whatever_branch_comes_beside_it(team: Team) -> None:
    """The first push that made the store's branch is remembered: HEAD pointing at a branch that is
    not there, or a new default branch made from an old commit, does not move the line."""
    assert git(team.remote, "config", "coord.line") == "refs/heads/main"
    git(team.remote, "symbolic-ref", "HEAD", "refs/heads/master")
    assert store_line.find(team.remote, []).ref == "refs/heads/main"
    first = git(team.remote, "rev-list", "--max-parents=0", "main").split()[0]
    git(team.remote, "update-ref", "refs/heads/master", first)
    assert store_line.find(team.remote, []).ref == "refs/heads/main"


def test_a_lawful_push_is_taken_when_the_gate_cannot_record_its_line(team: Team) -> None:
    """Another push writing the server's config at the same moment (its lock held) must not turn
    away a push that keeps the rules: the gate takes it, says what it could not record, and records
    the line at the next push."""
    team.fresh("instance-1")
    git(team.remote, "config", "--unset", "coord.line")
    lock = team.remote / "config.lock"
    lock.write_text("")
    team.ok("instance-1", "checkin", "--no-sync")
    done = team.push("instance-1")
    assert done.returncode == 0, done.stderr
    assert "remote: gitcoord: warning: the gate could not record its store line" in done.stderr, done.stderr
    assert team.remote_tip("main") == git(team.clones["instance-1"], "rev-parse", "main")
    lock.unlink()
    team.ok("instance-1", "task", "add", "Write the API", "--no-sync")
    assert team.push("instance-1").returncode == 0
    assert git(team.remote, "config", "coord.line") == "refs/heads/main"
