"""The hooks `coord install` puts in .git/hooks, the same hooks through the real pre-commit framework
(for `repo:` users), and the same rules over history for CI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from testing.forgery import current
from testing.repos import bare_remote
from testing.repos import git
from tests.conftest import Coord

from gitcoord import hooks
from gitcoord import model

ROOT = Path(__file__).parents[2]


def test_the_manifest_is_generated_from_the_hook_table() -> None:
    assert (ROOT / ".pre-commit-hooks.yaml").read_text() == hooks.manifest()
    assert [h["id"] for h in yaml.safe_load(hooks.manifest())] == [h.id for h in hooks.HOOKS]


def test_this_repository_runs_the_same_hooks_on_its_own_store() -> None:
    assert hooks.local_block() in (ROOT / ".pre-commit-config.yaml").read_text()
    assert (
        subprocess.run(
            [sys.executable, "-m", "gitcoord", "validate", str(ROOT / "coordination")], check=False
        ).returncode
        == 0
    )


@pytest.mark.parametrize(
    ("path", "matches"),
    [
        ("coordination/task-queue.json", True),
        ("coordination/archive/task-queue.json", True),
        ("src/coordination/task-queue.json", False),
        ("coordination/notes.md", False),
        ("docs/coordination.json", False),
    ],
)
def test_the_files_pattern_is_narrow(path: str, matches: bool) -> None:
    assert bool(re.search(hooks.FILES, path)) is matches


Edit = Callable[[dict[str, Any]], None]


def edit(repo: Path, file: str, change: Edit) -> None:
    path = repo / "coordination" / file
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2) + "\n")


def commit(repo: Path, who: str | None, *extra: str) -> subprocess.CompletedProcess[str]:
    """`git commit -a` as `who`, its hooks' report (pre-commit writes to both streams) in stdout."""
    identity = ["-c", f"coord.instance={who}"] if who else []
    return subprocess.run(
        ["git", *identity, "commit", "-qam", f"{who} edits by hand", *extra],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )


def _complete(d: dict[str, Any]) -> None:
    task = d["active_tasks"].pop(0)
    task.update(status="completed", updated=current())  # a close writes its moment
    d["completed_tasks"].append(task)


def _start_unheld(d: dict[str, Any]) -> None:
    task = d["pending_tasks"].pop(0)
    task.update(status="in_progress", assigned_to="instance-3")
    d["active_tasks"].append(task)


def _forge(d: dict[str, Any]) -> None:
    d["messages"].append(
        {
            **d["messages"][0],
            "message_id": "msg_002",
            "from": "instance-1",
            "to": "instance-4",
            "requires_response": False,
            "status": "sent",
            "type": "notification",
            "subject": "from instance-1, honest",
        }
    )


# (an illegitimate edit, who makes it, the file, the edit, the rule that catches it)
ILLEGITIMATE: list[tuple[str, str, str, Edit, str]] = [
    ("forbidden transition", "instance-3", model.TASKS, _start_unheld, "transition"),
    ("impersonation", "instance-3", model.MESSAGES, _forge, "authorization"),
    (
        "edited message",
        "instance-2",
        model.MESSAGES,
        lambda d: d["messages"][0].update(message="rewritten"),
        "immutable",
    ),
    ("deletion", "instance-2", model.DECISIONS, lambda d: d["pending_decisions"].clear(), "deleted"),
    (
        "time going back",
        "instance-1",
        model.REGISTRY,
        lambda d: d["instances"]["instance-1"].update(last_update="2020-01-01T00:00:00Z"),
        "time",
    ),
    (
        "someone else's entry",
        "instance-4",
        model.REGISTRY,
        lambda d: d["instances"]["instance-1"].update(status="offline"),
        "authorization",
    ),
]


@pytest.mark.parametrize(
    ("who", "file", "change", "rule"), [e[1:] for e in ILLEGITIMATE], ids=[e[0] for e in ILLEGITIMATE]
)
def test_illegitimate_edits_are_refused_at_commit_and_caught_in_ci(
    seed_repo: Path, coord: Coord, who: str, file: str, change: Edit, rule: str
) -> None:
    head = git(seed_repo, "rev-parse", "HEAD")
    edit(seed_repo, file, change)
    before = (seed_repo / "coordination" / file).read_bytes()
    refused = commit(seed_repo, who)
    assert refused.returncode != 0
    assert f"[{rule}]" in refused.stdout, refused.stdout
    assert git(seed_repo, "rev-parse", "HEAD") == head
    assert (seed_repo / "coordination" / file).read_bytes() == before, "the hook rewrites nothing"
    # Skipped on the client, caught on the server.
    assert commit(seed_repo, who, "--no-verify").returncode == 0
    result = coord(seed_repo, "check", "--range", f"{head}..HEAD", "--json")
    assert result.code == 1
    verdict = json.loads(result.out)["data"]
    assert verdict["first_bad_commit"][rule]["commit"] == git(seed_repo, "rev-parse", "HEAD")


def test_a_legitimate_hand_edit_commits_with_its_trailer(seed_repo: Path, coord: Coord) -> None:
    head = git(seed_repo, "rev-parse", "HEAD")
    edit(seed_repo, model.TASKS, _complete)
    done = commit(seed_repo, "instance-2")
    assert done.returncode == 0, done.stdout
    assert git(seed_repo, "log", "-1", "--format=%(trailers:key=Coord-Instance,valueonly)") == "instance-2"
    assert coord(seed_repo, "check", "--range", f"{head}..HEAD").code == 0


def test_a_merge_resolved_to_this_sides_records_still_names_its_instance(seed_repo: Path, coord: Coord) -> None:
    """A merge whose store is this side's unchanged changes nothing against HEAD, but it does change
    the store of the side merged in: the merge commit is a coordination commit, and names its instance."""
    base = git(seed_repo, "rev-parse", "HEAD")
    git(seed_repo, "checkout", "-q", "-b", "side")
    edit(seed_repo, model.TASKS, _complete)
    assert commit(seed_repo, "instance-2").returncode == 0
    git(seed_repo, "checkout", "-q", "-")
    git(seed_repo, "merge", "-q", "--no-ff", "--no-commit", "side")
    git(seed_repo, "checkout", base, "--", "coordination")  # resolved to this side's records
    assert git(seed_repo, "diff", "--cached", "--name-only", "HEAD") == ""
    git(seed_repo, "-c", "coord.instance=instance-2", "commit", "-q", "--no-edit")
    assert git(seed_repo, "log", "-1", "--format=%(trailers:key=Coord-Instance,valueonly)") == "instance-2"


def test_a_committed_hooks_config_runs_as_no_one_who_commits(seed_repo: Path, tmp_path: Path) -> None:
    """The hooks are fixed scripts that run this clone's gitcoord: a `.pre-commit-config.yaml` that
    anyone who pushes code can rewrite (an entry copying `git config user.signingkey`, say) runs nowhere."""
    loot = tmp_path / "loot"
    config = seed_repo / ".pre-commit-config.yaml"
    steal = f"  - repo: local\n    hooks:\n      - id: steal\n        name: steal\n        entry: touch {loot}\n"
    config.write_text(config.read_text() + steal + "        language: system\n        always_run: true\n")
    git(seed_repo, "commit", "-qam", "more hooks", "--no-verify")
    edit(seed_repo, model.TASKS, _complete)
    assert commit(seed_repo, "instance-2").returncode == 0
    edit(seed_repo, model.MESSAGES, lambda d: d["messages"][0].update(message="rewritten"))
    refused = commit(seed_repo, "instance-2")
    assert refused.returncode != 0, "the checks ran all the same"
    assert "[immutable]" in refused.stdout, "the checks ran all the same"
    assert "gitcoord pre-commit hook: coord check (transitions, history, authorization): failed" in refused.stdout
    assert not loot.exists(), "the committed config's hook never ran"


def test_pre_commit_in_front_of_the_hooks_still_runs_them_and_is_named(seed_repo: Path, coord: Coord) -> None:
    """`pre-commit install` keeps gitcoord's hook as .legacy and runs it; `coord install` and
    `coord doctor` say what pre-commit's own hook runs, and doctor fails it in the human's clone."""
    pre_commit = [str(Path(sys.executable).parent / "pre-commit"), "install"]
    subprocess.run(pre_commit, cwd=seed_repo, check=True, capture_output=True)
    assert (seed_repo / ".git" / "hooks" / "pre-commit.legacy").read_text().startswith("#!/bin/sh\n# gitcoord hook")
    installed = coord(seed_repo, "install")
    assert installed.code == 0, "gitcoord's hook stays behind pre-commit's"
    assert "set git hook" not in installed.out, "gitcoord's hook stays behind pre-commit's"
    assert ".git/hooks/pre-commit runs pre-commit, and so the .pre-commit-config.yaml" in installed.out, installed
    edit(seed_repo, model.MESSAGES, lambda d: d["messages"][0].update(message="rewritten"))
    refused = commit(seed_repo, "instance-2")
    assert refused.returncode != 0, refused.stdout
    assert "[immutable]" in refused.stdout, refused.stdout
    git(seed_repo, "checkout", "--", "coordination")
    checks = {
        c["name"]: c for c in json.loads(coord(seed_repo, "--as", "human", "doctor", "--json").out)["data"]["checks"]
    }
    assert not checks["hooks"]["ok"], checks["hooks"]
    assert "remove it" in checks["hooks"]["detail"], checks["hooks"]
    checks = {
        c["name"]: c
        for c in json.loads(coord(seed_repo, "--as", "instance-2", "doctor", "--json").out)["data"]["checks"]
    }
    assert checks["hooks"]["ok"], "a warning, not a failure, where the human key is not"


def test_pre_commit_s_hook_an_older_install_left_is_moved_aside(seed_repo: Path, coord: Coord) -> None:
    hooks_dir = seed_repo / ".git" / "hooks"
    (hooks_dir / "pre-commit").unlink()
    pre_commit = [str(Path(sys.executable).parent / "pre-commit"), "install"]
    subprocess.run(pre_commit, cwd=seed_repo, check=True, capture_output=True)
    installed = coord(seed_repo, "install")
    assert "set git hook pre-commit (pre-commit's hook, which ran the .pre-commit-config.yaml" in installed.out
    assert (hooks_dir / "pre-commit").read_text().startswith("#!/bin/sh\n# gitcoord hook")
    assert "File generated by pre-commit" in (hooks_dir / "pre-commit.pre-commit").read_text()
    assert not (hooks_dir / "pre-commit.legacy").exists(), "not run"
    assert "runs pre-commit" not in installed.out


def test_doctor_says_when_git_runs_hooks_from_elsewhere(seed_repo: Path, coord: Coord, tmp_path: Path) -> None:
    git(seed_repo, "config", "core.hooksPath", str(tmp_path / "husky"))
    checks = {c["name"]: c for c in json.loads(coord(seed_repo, "doctor", "--json").out)["data"]["checks"]}
    assert not checks["hooks"]["ok"], checks["hooks"]
    assert "so git runs the hooks there and not gitcoord's" in checks["hooks"]["detail"]
    git(seed_repo, "config", "--unset", "core.hooksPath")
    checks = {c["name"]: c for c in json.loads(coord(seed_repo, "doctor", "--json").out)["data"]["checks"]}
    assert checks["hooks"]["ok"], checks["hooks"]


def test_a_hand_edit_without_an_identity_is_refused(seed_repo: Path) -> None:
    edit(seed_repo, model.TASKS, _complete)
    done = commit(seed_repo, None)
    assert done.returncode != 0
    assert "names no instance" in done.stdout


def test_every_command_commit_passes_the_range_check(seed_repo: Path, coord: Coord) -> None:
    head = git(seed_repo, "rev-parse", "HEAD")
    steps = [
        ("instance-2", "checkin"),
        ("instance-2", "task", "complete", "task_001"),
        ("instance-1", "task", "claim", "task_002"),
        ("instance-1", "msg", "reply", "msg_001", "--body", "REST"),
        ("instance-2", "msg", "ack", "msg_001"),
        ("instance-1", "decision", "input", "dec_002", "--option", "REST API"),
        ("instance-3", "escalate", "dec_002", "--reason", "unsure"),
        ("human", "decision", "decide", "dec_002", "--option", "REST API", "--rationale", "simple"),
        ("instance-1", "checkout"),
    ]
    for who, *args in steps:
        assert coord(seed_repo, "--as", who, *args).code == 0
    result = coord(seed_repo, "check", "--range", f"{head}..HEAD")
    assert (result.code, result.out) == (0, f"ok: {len(steps)} commit(s) checked\n")


def test_the_range_check_speaks_github(seed_repo: Path, coord: Coord) -> None:
    head = git(seed_repo, "rev-parse", "HEAD")
    edit(seed_repo, model.MESSAGES, lambda d: d["messages"][0].update(message="::set-output name=x::pwned\n%0A"))
    commit(seed_repo, "instance-2", "--no-verify")
    result = coord(seed_repo, "check", "--range", f"{head}..HEAD", "--format", "github")
    assert result.code == 1
    [line] = result.out.splitlines()
    assert line.startswith(
        "::error file=coordination/communication-log.json,line=10,col=18,title=coord check%3A immutable::"
    )
    assert "\n" not in line
    assert "%0A" not in line.split("::", 2)[2].replace("%250A", "")


def _pushed_once(repo: Path, tmp_path: Path) -> Path:
    """A bare remote for `repo`, holding its main."""
    remote = bare_remote(tmp_path / "remote.git")
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    return remote


def _push(repo: Path) -> subprocess.CompletedProcess[str]:
    """`git push origin main` with the hooks, their report (both streams) in stdout."""
    return subprocess.run(
        ["git", "push", "origin", "main"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )


def test_pre_push_checks_every_pushed_commit(seed_repo: Path, tmp_path: Path) -> None:
    remote = _pushed_once(seed_repo, tmp_path)
    edit(seed_repo, model.MESSAGES, lambda d: d["messages"][0].update(message="rewritten"))
    commit(seed_repo, "instance-2", "--no-verify")
    pushed = _push(seed_repo)
    assert pushed.returncode != 0
    assert "[immutable]" in pushed.stdout
    assert git(remote, "rev-parse", "main") != git(seed_repo, "rev-parse", "HEAD")


def test_pre_push_checks_a_change_made_in_a_merge(seed_repo: Path, tmp_path: Path) -> None:
    """A merge whose own tree rewrites a message (made by a tool, so no pre-merge-commit ran):
    the only store change of the push is in the merge, and pre-push checks it all the same."""
    remote = _pushed_once(seed_repo, tmp_path)
    base = git(seed_repo, "rev-parse", "HEAD")
    git(seed_repo, "commit", "-q", "--allow-empty", "--no-verify", "-m", "nothing")
    side = git(seed_repo, "rev-parse", "HEAD")
    edit(seed_repo, model.MESSAGES, lambda d: d["messages"][0].update(message="rewritten"))
    git(seed_repo, "add", "-A")
    tree = git(seed_repo, "write-tree")
    merge = git(seed_repo, "commit-tree", tree, "-p", base, "-p", side, "-m", "merge\n\nCoord-Instance: instance-2")
    git(seed_repo, "reset", "-q", "--hard", merge)
    pushed = _push(seed_repo)
    assert pushed.returncode != 0, pushed.stdout
    assert "[immutable]" in pushed.stdout
    assert git(remote, "rev-parse", "main") == base


def test_the_merge_driver_hook_refuses_a_clone_without_it(seed_repo: Path) -> None:
    git(seed_repo, "config", "--unset", "merge.coord.driver")
    edit(seed_repo, model.TASKS, _complete)
    done = commit(seed_repo, "instance-2")
    assert done.returncode != 0
    assert "not registered in this clone, so git merges the JSON as text: run `coord install`" in done.stdout


def test_the_changelog_has_a_section_for_this_version() -> None:
    from importlib.metadata import version

    assert f"\n## {version('gitcoord')} - " in (ROOT / "CHANGELOG.md").read_text()


@pytest.mark.slow
def test_the_hooks_work_from_this_repository_with_repo_urls(
    tmp_path: Path, coord: Coord, pre_commit_home: Path
) -> None:
    """Another repository uses gitcoord's hooks with `repo:` pointing here, as from GitHub,
    pinned to a release tag (`rev: v0.1.0`), and `pre-commit autoupdate` finds the next one."""
    source = tmp_path / "gitcoord"
    git(tmp_path, "clone", "-q", "--no-tags", str(ROOT), str(source))  # its releases are the test's own
    for path in (
        "src",
        "hooks",
        "pyproject.toml",
        "README.md",
        ".pre-commit-hooks.yaml",
    ):  # the working state under test
        subprocess.run(["cp", "-r", str(ROOT / path), str(source)], check=True)
    git(source, "add", "-A")
    git(source, "commit", "-q", "--no-verify", "--allow-empty", "-m", "under test")
    git(source, "tag", "-a", "-m", "gitcoord 0.1.0", "v0.1.0")
    user = tmp_path / "project"
    git(tmp_path, "init", "-q", "-b", "main", str(user))
    assert coord(user, "init", "--example", "--branch", "main").code == 0
    config = {"repos": [{"repo": str(source), "rev": "v0.1.0", "hooks": [{"id": h.id} for h in hooks.HOOKS]}]}
    (user / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    git(user, "commit", "-q", "--no-verify", "-am", "use gitcoord's hooks from its repository")
    edit(user, model.MESSAGES, lambda d: d["messages"][0].update(message="rewritten"))
    done = commit(user, "instance-2")
    assert done.returncode != 0, done.stdout
    assert "[immutable]" in done.stdout
    git(source, "commit", "-q", "--no-verify", "--allow-empty", "-m", "the next release")
    git(source, "tag", "-a", "-m", "gitcoord 0.1.1", "v0.1.1")
    updated = subprocess.run(
        [str(Path(sys.executable).parent / "pre-commit"), "autoupdate"],
        cwd=user,
        capture_output=True,
        text=True,
        check=False,
    )
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert yaml.safe_load((user / ".pre-commit-config.yaml").read_text())["repos"][0]["rev"] == "v0.1.1"


def test_pre_push_with_nothing_to_push_passes(seed_repo: Path, coord: Coord) -> None:
    """The hook script passes git's refs on with a newline of its own: no refs is one blank line."""
    assert coord(seed_repo, "hook", "run", "pre-push", "origin", "URL", stdin="\n").code == 0
