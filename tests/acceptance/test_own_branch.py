"""The store on a branch of its own: code work never blocks coordination, nor is dragged into it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from testing.repos import bare_remote
from testing.repos import files_in
from testing.repos import git
from tests.conftest import SEED
from tests.conftest import Coord

from gitcoord import model
from gitcoord import store_line


def _ok(coord: Coord, where: Path, *args: str) -> str:
    result = coord(where, *args)
    assert result.code == 0, result
    return result.out


def _store_doc(repo: Path, branch: str, file: str) -> Any:
    return json.loads(git(repo, "show", f"{branch}:coordination/{file}"))


def test_init_puts_the_store_on_its_own_branch(repo: Path, coord: Coord) -> None:
    (repo / "app.py").write_text("print('code')\n")
    git(repo, "add", "app.py")
    git(repo, "commit", "-qm", "code", "--no-verify")
    said = _ok(coord, repo, "init", "--example")
    assert "a branch of its own, coord" in said
    assert git(repo, "rev-list", "--count", "coord") == "1", "a root commit: no code history"
    assert sorted(git(repo, "ls-tree", "-r", "--name-only", "coord").splitlines()) == sorted(
        [".gitattributes", ".pre-commit-config.yaml", *(f"coordination/{f}" for f in model.FILES)]
    )
    seed = {file: json.loads((SEED / file).read_text()) for file in model.FILES}
    seed[model.REGISTRY]["settings"] = {**seed[model.REGISTRY].get("settings", {}), "store_branch": "coord"}
    for file in model.FILES:
        assert _store_doc(repo, "coord", file) == seed[file], "the seed, its registry naming the store's branch"
    assert not (repo / "coordination").exists(), "never checked out"
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(repo, "config", "coord.branch") == "coord"
    assert _ok(coord, repo, "validate").strip() == "4 file(s) valid"
    again = _ok(coord, repo, "init")
    assert "already initialised" in again
    # A step writes the branch, and only the branch.
    before = files_in(repo)
    _ok(coord, repo, "--as", "instance-2", "task", "complete", "task_001")
    assert files_in(repo) == before
    assert git(repo, "log", "-1", "--format=%s", "coord") == "coord(task): instance-2 completes task_001"
    assert '"status": "completed"' in _ok(coord, repo, "show", "task-queue.json")
    assert "instance-2 completes task_001" in _ok(coord, repo, "log")


def test_a_configured_branch_is_created_by_init(repo: Path, coord: Coord) -> None:
    git(repo, "config", "coord.branch", "coordination-state")
    _ok(coord, repo, "init")
    assert git(repo, "rev-parse", "--verify", "coordination-state") != ""
    assert _ok(coord, repo, "--as", "human", "status").startswith("On coordination-state at ")


@pytest.fixture
def team(tmp_path: Path, coord: Coord) -> dict[str, Path]:
    remote = bare_remote(tmp_path / "remote.git")
    first = tmp_path / "instance-1"
    git(tmp_path, "init", "-q", "-b", "main", str(first))
    (first / "app.py").write_text("v = 1\n")
    git(first, "add", "app.py")
    git(first, "commit", "-qm", "code", "--no-verify")
    _ok(coord, first, "init", "--example")
    git(first, "remote", "add", "origin", str(remote))
    git(first, "push", "-q", "--no-verify", "origin", "main")
    _ok(coord, first, "sync")
    clones = {"instance-1": first}
    for name in ("instance-2", "instance-3"):
        clone = tmp_path / name
        git(tmp_path, "clone", "-q", str(remote), str(clone))
        _ok(coord, clone, "install")
        clones[name] = clone
    for name, clone in clones.items():
        git(clone, "config", "coord.instance", name)
    return {**clones, "remote": remote}


def test_clones_find_the_branch_and_code_state_never_blocks_it(team: dict[str, Path], coord: Coord) -> None:
    one, two, remote = team["instance-1"], team["instance-2"], team["remote"]
    assert git(two, "config", "coord.branch") == "coord"
    # instance-2 has an uncommitted edit, a committed code change not pushed, and a code conflict
    # with what instance-1 pushed: none of it concerns coordination.
    (one / "app.py").write_text("v = 2\n")
    git(one, "commit", "-qam", "one's code", "--no-verify")
    git(one, "push", "-q", "--no-verify", "origin", "main")
    (two / "app.py").write_text("v = 3\n")
    git(two, "commit", "-qam", "two's code", "--no-verify")
    (two / "README.md").write_text("uncommitted\n")
    main_before = git(two, "rev-parse", "main")
    _ok(coord, two, "task", "assign", "task_003", "instance-1", "--sync")
    _ok(coord, one, "checkin", "--sync")
    _ok(coord, two, "sync")
    assert git(two, "rev-parse", "main") == main_before, "the code branch is not touched"
    assert (two / "README.md").read_text() == "uncommitted\n"
    assert git(remote, "log", "-1", "--format=%s", "main") == "one's code", "two's code was not dragged along"
    assert git(remote, "rev-parse", "coord") == git(two, "rev-parse", "coord") == git(one, "rev-parse", "coord")
    task = next(t for t in _store_doc(remote, "coord", model.TASKS)["pending_tasks"] if t["task_id"] == "task_003")
    assert task["assigned_to"] == "instance-1"
    code_only = git(remote, "log", "--format=%s", "main").splitlines()
    assert not any(s.startswith("coord(") and "set up gitcoord" not in s for s in code_only)


def test_a_protected_main_does_not_stop_coordination(team: dict[str, Path], coord: Coord) -> None:
    remote, two = team["remote"], team["instance-2"]
    hook = remote / "hooks" / "pre-receive"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text('#!/bin/sh\nwhile read old new ref; do [ "$ref" = refs/heads/main ] && exit 1; done\nexit 0\n')
    hook.chmod(0o755)
    (two / "app.py").write_text("v = 9\n")
    git(two, "commit", "-qam", "direct to main", "--no-verify")
    assert subprocess.run(["git", "push", "-q", "origin", "main"], cwd=two, check=False).returncode != 0
    _ok(coord, two, "msg", "send", "--to", "instance-1", "--subject", "s", "--body", "b", "--sync")
    assert git(remote, "log", "-1", "--format=%s", "coord").startswith("coord(msg): instance-2 tells instance-1")


def test_edit_opens_the_branch_where_the_hooks_check_a_hand_edit(team: dict[str, Path], coord: Coord) -> None:
    one = team["instance-1"]
    said = _ok(coord, one, "edit")
    worktree = one / ".coord-edit"
    assert "opened coord in" in said
    assert git(one, "status", "--porcelain") == "", "the worktree is ignored by the clone"
    path = worktree / "coordination" / model.MESSAGES
    log = json.loads(path.read_text())
    log["messages"][0]["message"] = "rewritten by hand"
    path.write_text(json.dumps(log, indent=2) + "\n")
    refused = subprocess.run(
        ["git", "commit", "-qam", "hand edit"], cwd=worktree, capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "msg_001.message never changes once written" in refused.stdout + refused.stderr
    git(worktree, "checkout", "--", "coordination")
    _ok(coord, one, "--as", "instance-2", "task", "complete", "task_001")
    assert '"status": "completed"' in (worktree / "coordination" / model.TASKS).read_text(), "its files follow steps"
    _ok(coord, one, "edit", "--done")
    assert not worktree.exists()


@pytest.mark.parametrize("path", [".pre-commit-config.yaml", ".github/workflows/evil.yml", "setup.py"])
def test_only_the_human_changes_what_lies_beside_the_store(repo: Path, coord: Coord, path: str) -> None:
    """What the store's branch holds beside coordination/ runs as whoever opens it (hooks in
    `coord edit`, workflows for pull requests): a change there by an instance is refused."""
    _ok(coord, repo, "init", "--example")
    tip = git(repo, "rev-parse", "coord")
    _ok(coord, repo, "edit")
    worktree = repo / ".coord-edit"
    target = worktree / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(target.read_text() + "# more\n" if target.exists() else "print('run me')\n")
    git(worktree, "add", "-A")
    git(worktree, "commit", "-qm", f"tidy {path}\n\nCoord-Instance: instance-2", "--no-verify")
    refused = coord(repo, "check", "--range", f"{tip}..coord")
    assert refused.code == 1
    assert f"instance-2 changed {path.split('/', 1)[0]} on coord, the store's own branch" in refused.out
    assert "only the human coordinator (human) changes files beside coordination/ there" in refused.out
    git(worktree, "commit", "-q", "--amend", "-m", f"tidy {path}\n\nCoord-Instance: human", "--no-verify")
    assert coord(repo, "check", "--range", f"{tip}..coord").code == 0, "the human's own change"


@pytest.mark.parametrize("path", ["coordination/.gitattributes", "coordination/CLAUDE.md", "coordination/archive/x"])
def test_what_lies_in_coordination_beside_the_store_files_is_the_humans_too(
    repo: Path, coord: Coord, path: str
) -> None:
    _ok(coord, repo, "init", "--example")
    tip = git(repo, "rev-parse", "coord")
    _ok(coord, repo, "edit")
    worktree = repo / ".coord-edit"
    (worktree / path).parent.mkdir(parents=True, exist_ok=True)
    (worktree / path).write_text("# not a store file\n")
    git(worktree, "add", "-A")
    git(worktree, "commit", "-qm", f"add {path}\n\nCoord-Instance: instance-2", "--no-verify")
    refused = coord(repo, "check", "--range", f"{tip}..coord")
    assert refused.code == 1, refused
    assert f"instance-2 changed {path} on coord, the store's own branch" in refused.out
    git(worktree, "commit", "-q", "--amend", "-m", f"add {path}\n\nCoord-Instance: human", "--no-verify")
    assert coord(repo, "check", "--range", f"{tip}..coord").code == 0, "the human's own change"
    _ok(coord, repo, "edit", "--done")


def test_a_merge_brings_no_hooks_from_a_code_only_parent(repo: Path, coord: Coord) -> None:
    _ok(coord, repo, "init", "--example")
    tip = git(repo, "rev-parse", "coord")
    hooks = git(repo, "hash-object", "-w", "--stdin", stdin="repos: []\n")
    code = git(
        repo, "commit-tree", git(repo, "mktree", stdin=f"100644 blob {hooks}\t.pre-commit-config.yaml\n"), "-m", "ci"
    )
    entries = [e for e in git(repo, "ls-tree", tip).splitlines() if not e.endswith("\t.pre-commit-config.yaml")]
    tree = git(repo, "mktree", stdin="\n".join([*entries, f"100644 blob {hooks}\t.pre-commit-config.yaml"]) + "\n")
    merge = git(repo, "commit-tree", tree, "-p", tip, "-p", code, "-m", "merge code\n\nCoord-Instance: instance-1")
    refused = coord(repo, "check", "--range", f"{tip}..{merge}")
    assert refused.code == 1
    assert "instance-1 changed .pre-commit-config.yaml on coord, the store's own branch" in refused.out


def test_a_merge_with_an_old_parent_brings_back_nothing_the_human_removed(repo: Path, coord: Coord) -> None:
    """The human adds a workflow, then removes it; a merge whose other parent is the old commit puts
    it back. Either parent has it or not, so only the merge's three-way view sees the change."""
    _ok(coord, repo, "init", "--example")
    _ok(coord, repo, "edit")
    worktree = repo / ".coord-edit"
    flow = worktree / ".github" / "workflows" / "triage.yml"
    flow.parent.mkdir(parents=True, exist_ok=True)
    flow.write_text("on: pull_request_target\n")
    git(worktree, "add", "-A")
    git(worktree, "commit", "-qm", "a workflow\n\nCoord-Instance: human", "--no-verify")
    old = git(worktree, "rev-parse", "HEAD")
    git(worktree, "rm", "-q", str(flow))
    git(worktree, "commit", "-qm", "not that one\n\nCoord-Instance: human", "--no-verify")
    tip = git(worktree, "rev-parse", "HEAD")
    merge = git(
        repo, "commit-tree", f"{old}^{{tree}}", "-p", tip, "-p", old, "-m", "merge\n\nCoord-Instance: instance-1"
    )
    refused = coord(repo, "check", "--range", f"{tip}..{merge}")
    assert refused.code == 1, refused
    assert "instance-1 changed .github on coord, the store's own branch" in refused.out
    honest = git(
        repo, "commit-tree", f"{tip}^{{tree}}", "-p", tip, "-p", old, "-m", "merge\n\nCoord-Instance: instance-1"
    )
    assert coord(repo, "check", "--range", f"{tip}..{honest}").code == 0, "a merge that takes the newer side"
    _ok(coord, repo, "edit", "--done")


def test_edit_will_not_run_hooks_no_rule_vouches_for(repo: Path, coord: Coord) -> None:
    """A store made before it named its branch: its hooks config may be anyone's, so edit opens it
    only when it is coord's own."""
    _ok(coord, repo, "init")
    _ok(coord, repo, "edit")
    worktree = repo / ".coord-edit"
    registry = json.loads((worktree / "coordination" / model.REGISTRY).read_text())
    del registry["settings"]["store_branch"]
    (worktree / "coordination" / model.REGISTRY).write_text(json.dumps(registry, indent=2) + "\n")
    (worktree / ".pre-commit-config.yaml").write_text("repos: []\n")
    git(worktree, "commit", "-qam", "an older store\n\nCoord-Instance: human", "--no-verify")
    _ok(coord, repo, "edit", "--done")
    refused = coord(repo, "edit")
    assert refused.code == 1
    assert "coord's .pre-commit-config.yaml is not the one coord writes" in refused.err
    assert not worktree.exists(), "nothing was opened"
    doctor = coord(repo, "doctor")
    assert doctor.code == 1
    assert "beside the store:  the store's settings name no branch" in doctor.out


def test_migrate_moves_the_store_with_its_history(seed_repo: Path, coord: Coord) -> None:
    base = git(seed_repo, "rev-list", "--max-parents=0", "HEAD")
    _ok(coord, seed_repo, "--as", "instance-2", "task", "complete", "task_001")
    before = files_in(seed_repo)
    refused = coord(seed_repo, "--as", "instance-2", "migrate", "--branch", "coord")
    assert refused.code == 1
    assert "only the human coordinator (human) may" in refused.err
    assert files_in(seed_repo) == before
    for bad in ("-x", "a b", "x..y"):  # an option to git, what the registry's schema refuses, what git refuses
        refused = coord(seed_repo, "--as", "human", "migrate", "--branch", bad)
        assert refused.code == 2, refused
        assert f"{bad!r} is not a name the store's branch can have" in refused.err
        assert files_in(seed_repo) == before
    _ok(coord, seed_repo, "--as", "human", "migrate", "--branch", "coord")
    assert git(seed_repo, "config", "coord.branch") == "coord"
    assert (seed_repo / "coordination" / "MOVED.md").exists()
    assert not (seed_repo / "coordination" / model.TASKS).exists()
    _ok(coord, seed_repo, "--as", "instance-1", "task", "claim", "task_002")
    events = _ok(coord, seed_repo, "log")
    assert "instance-2 completes task_001" in events, "the history before the move reads on"
    assert "instance-1 claims task_002" in events
    assert (
        json.loads(_ok(coord, seed_repo, "show", "coordination/" + model.REGISTRY, "--json"))["data"]["content"][
            "settings"
        ]["store_branch"]
        == "coord"
    ), "the moved store names its branch"
    assert json.loads(_ok(coord, seed_repo, "check", "--range", f"{base}..coord", "--json"))["data"]["valid"]
    assert json.loads(_ok(coord, seed_repo, "check", "--range", f"{base}..main", "--json"))["data"]["valid"]


def test_a_migrate_cut_off_by_a_lock_is_finished_by_the_next_migrate(seed_repo: Path, coord: Coord) -> None:
    """The code branch leaves the store last: a stale lock on it stops the move there, named, and
    every other step waits for `coord migrate` to finish it, which takes up where it stopped."""
    lock = seed_repo / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text("")
    stopped = coord(seed_repo, "--as", "human", "migrate", "--branch", "coord")
    assert stopped.code == 1, stopped
    assert f"{lock} stays locked, so refs/heads/main cannot leave the store yet" in stopped.err
    waits = coord(seed_repo, "--as", "instance-1", "task", "claim", "task_002")
    assert waits.code == 1, waits
    assert "a `coord migrate` of the store from main to coord was cut off in this clone" in waits.err
    assert "run `coord migrate --branch coord` to finish it" in waits.err
    lock.unlink()
    _ok(coord, seed_repo, "--as", "human", "migrate", "--branch", "coord")
    assert git(seed_repo, "config", "coord.branch") == "coord"
    assert (seed_repo / "coordination" / "MOVED.md").exists()
    assert git(seed_repo, "rev-parse", "main^") == git(seed_repo, "rev-parse", "coord^"), "one move, from one tip"
    _ok(coord, seed_repo, "--as", "instance-1", "checkin")
    assert not (seed_repo / ".git" / "coord" / "migrate.json").exists()


def test_only_the_human_moves_the_store_off_a_branch(seed_repo: Path, coord: Coord) -> None:
    base = git(seed_repo, "rev-parse", "HEAD")
    git(seed_repo, "rm", "-q", "-r", "coordination")
    git(seed_repo, "commit", "-qm", "move it\n\nCoord-Event: migrate\nCoord-Instance: instance-2", "--no-verify")
    result = coord(seed_repo, "check", "--range", f"{base}..main", "--json")
    assert result.code == 1
    assert "may not move the store off this branch" in result.out


def test_a_gate_installed_after_the_store_left_its_own_branch_keeps_that_branch(
    team: dict[str, Path], coord: Coord
) -> None:
    """The store never lived on the default branch: the branch each move left is what its parent's
    store named, and a gate installed later records it as it records a move it sees."""
    first, remote = team["instance-1"], team["remote"]
    _ok(coord, first, "--as", "human", "migrate", "--branch", "store2")
    assert _push(first, "store2", "coord").returncode == 0
    _ok(coord, remote, "install", "--server")
    assert git(remote, "config", "coord.left").split() == ["refs/heads/coord"]
    deleted = _push(first, ":refs/heads/coord")
    assert deleted.returncode == 1, deleted.stderr
    assert "the store moved away from it" in deleted.stderr


def test_doctor_reports_a_clone_without_the_branch(team: dict[str, Path], coord: Coord) -> None:
    three = team["instance-3"]
    git(three, "branch", "-q", "-D", "coord", check=False)
    git(three, "update-ref", "-d", "refs/remotes/origin/coord")
    result = coord(three, "doctor")
    assert result.code == 1
    assert "coord is neither here nor fetched from origin" in result.out


def test_doctor_does_not_blame_the_identity_for_a_store_file_that_does_not_read(
    team: dict[str, Path], coord: Coord
) -> None:
    """A hand edit committed past the hooks leaves task-queue.json broken: doctor says so, and says
    that the registry still reads (the instance is registered), and where the edit is open."""
    one = team["instance-1"]
    _ok(coord, one, "edit")
    worktree = one / ".coord-edit"
    path = worktree / "coordination" / model.TASKS
    path.write_text(path.read_text().replace("{", "{,", 1))
    git(worktree, "commit", "-qam", "broken by hand", "--no-verify")
    said = coord(one, "doctor")
    assert said.code == 1, said
    assert "not registered" not in said.out, said.out
    assert "open for a hand edit in" in said.out, said.out
    assert "(the store on a code branch)" not in said.out, said.out
    lines = {
        line.split()[1].rstrip(":"): line.strip()
        for line in said.out.splitlines()
        if line.split()[:1] in (["ok"], ["FAIL"])
    }
    assert lines["identity"].startswith("ok"), said.out
    assert lines["store"].startswith("FAIL"), said.out
    git(worktree, "reset", "-q", "--hard", "HEAD~")
    path = worktree / "coordination" / model.REGISTRY
    path.write_text("{,")
    git(worktree, "commit", "-qam", "registry broken by hand", "--no-verify")
    said = coord(one, "doctor")
    assert "cannot tell: the registry does not read" in said.out, said.out
    assert "not registered" not in said.out, said.out


def _naming_itself(clone: Path, branch: str) -> Path:
    """A worktree of the store whose last commit makes its registry name `branch` as the store's."""
    side = clone.parent / f"side-{branch}"
    git(clone, "fetch", "-q", "origin", "coord")
    git(clone, "worktree", "add", "-q", "--detach", str(side), "origin/coord")
    path = side / model.COORD_DIR / model.REGISTRY
    doc = json.loads(path.read_text())
    doc["settings"]["store_branch"] = branch
    path.write_text(json.dumps(doc, indent=2) + "\n")
    git(side, "commit", "-qam", f"coord(settings): the store is on {branch}\n\nCoord-Instance: human", "--no-verify")
    return side


def _push(where: Path, *refspecs: str, to: str = "origin") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", "--no-verify", to, *refspecs], cwd=where, capture_output=True, text=True, check=False
    )


def test_a_gate_that_never_recorded_its_line_takes_the_one_before_the_push(team: dict[str, Path], coord: Coord) -> None:
    """Which line is the store's decides what counts as shared there (a claim, a key rotated out).
    A gate set up by an older gitcoord has none recorded: the line is the one the refs held before
    the push, never one the push chooses, and a branch beside it whose store names itself the
    store's is refused (a store has one line)."""
    remote, clone = team["remote"], team["instance-2"]
    _ok(coord, remote, "install", "--server")
    assert git(remote, "config", "coord.line") == "refs/heads/coord", "the gate takes the line there is"
    git(remote, "config", "--unset", "coord.line")  # as a gate that never saw the line would be
    pushed = _push(_naming_itself(clone, "x"), "HEAD:refs/heads/x")
    assert pushed.returncode == 1, "a second store naming itself beside the line"
    assert "x would hold a store that names itself the store's branch while coord still holds" in pushed.stderr
    assert store_line.find(remote, []).ref == "refs/heads/coord"


def test_the_gate_refuses_a_first_push_of_two_branches_naming_themselves_the_stores(
    team: dict[str, Path], coord: Coord, tmp_path: Path
) -> None:
    """Where there is no line yet, the push that brings the store makes it: with two branches that
    each name themselves the store's, it would leave the gate to guess."""
    fresh = bare_remote(tmp_path / "fresh.git")
    _ok(coord, fresh, "install", "--server")
    side = _naming_itself(team["instance-2"], "x")
    pushed = _push(side, "origin/coord:refs/heads/coord", "HEAD:refs/heads/x", to=str(fresh))
    assert pushed.returncode != 0, pushed.stderr
    assert "[store-line]" in pushed.stderr, pushed.stderr
    assert "coord and x would each hold a store that names itself the store's branch" in pushed.stderr
    assert git(fresh, "branch", "--format=%(refname:short)") == ""
    assert _push(side, "origin/coord:refs/heads/coord", to=str(fresh)).returncode == 0
    assert git(fresh, "config", "coord.line") == "refs/heads/coord"


def test_the_gate_keeps_a_copy_of_the_store_off_the_code_branch(team: dict[str, Path], coord: Coord) -> None:
    """A merge of the store's branch into main would leave a newcomer two stores to choose between
    (either could be a copy anyone who pushes code made), so every join after it would stop and ask."""
    remote, one = team["remote"], team["instance-1"]
    _ok(coord, remote, "install", "--server")
    git(one, "fetch", "-q", "origin")
    git(one, "merge", "-q", "--no-edit", "--allow-unrelated-histories", "origin/coord", "-m", "merge coord into main")
    pushed = _push(one, "main")
    assert pushed.returncode == 1, pushed.stderr
    assert "[copy]" in pushed.stderr, pushed.stderr
    assert "main would hold a copy of coordination/ while the store lives on coord" in pushed.stderr
    assert "only `coord migrate` moves the store" in pushed.stderr
    assert git(remote, "ls-tree", "--name-only", "main", "coordination/") == ""


def test_a_copy_on_the_code_branch_from_before_the_gate_can_be_taken_away(
    team: dict[str, Path], coord: Coord, tmp_path: Path
) -> None:
    """Only the line's branch is kept from deletion and rewinds: a copy pushed while the gate was away
    (or before it) is taken away as any code commit is, and newcomers join again."""
    remote, one = team["remote"], team["instance-1"]
    _ok(coord, remote, "install", "--server")
    before = git(one, "rev-parse", "main")
    git(one, "fetch", "-q", "origin")
    git(one, "merge", "-q", "--no-edit", "--allow-unrelated-histories", "origin/coord", "-m", "merge coord into main")
    gate = remote / "hooks" / "pre-receive"
    gate.rename(gate.with_name("away"))
    assert _push(one, "main").returncode == 0, "no gate for a moment"
    gate.with_name("away").rename(gate)
    newcomer = tmp_path / "newcomer"
    git(tmp_path, "clone", "-q", str(remote), str(newcomer))
    assert "both 'main' and 'coord' hold" in coord(newcomer, "install").err
    rewound = _push(one, f"+{before}:refs/heads/main")
    assert rewound.returncode == 0, rewound.stderr
    git(newcomer, "fetch", "-q", "--prune", "origin")
    assert coord(newcomer, "install").code == 0
    assert git(newcomer, "config", "coord.branch") == "coord"
    assert "rewrite or rollback" in _push(one, f"+{before}:refs/heads/coord").stderr, "the line stays kept"
