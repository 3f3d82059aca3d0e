"""The GitHub workflows: secure as written, and their steps doing what they claim, run locally."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from testing import actions
from testing.repos import bare_remote
from testing.repos import git
from tests.conftest import Coord

from gitcoord.commands.init import WORKFLOWS
from gitcoord.commands.init import workflows

ROOT = Path(__file__).parents[2]
WORKFLOW_DIR = ROOT / ".github" / "workflows"
ALL = sorted(WORKFLOW_DIR.glob("*.yml"))
BIN = Path(sys.executable).parent


def test_this_repository_runs_the_workflows_coord_init_writes() -> None:
    for path, text in workflows(".").items():
        assert (ROOT / path).read_text() == text, path


def test_init_github_writes_them_into_a_repository(seed_repo: Path, coord: Coord) -> None:
    result = coord(seed_repo, "init", "--github")
    assert result.code == 0, result
    for name in WORKFLOWS:
        text = (seed_repo / ".github" / "workflows" / name).read_text()
        assert "python -m pip install 'gitcoord==" in text
    assert "already initialised" in coord(seed_repo, "init", "--github").out
    custom = coord(seed_repo, "init", "--github", "--install", "gitcoord @ git+https://example.com/gitcoord@v1")
    assert custom.code == 0
    assert (
        "pip install 'gitcoord @ git+https://example.com/gitcoord@v1'"
        in (seed_repo / ".github" / "workflows" / WORKFLOWS[0]).read_text()
    )


@pytest.mark.parametrize(
    "tool",
    [
        ["zizmor", "--offline", "--no-progress", "--persona", "auditor"],
        ["check-jsonschema", "--builtin-schema", "vendor.github-workflows"],
    ],
)
def test_the_workflows_pass_the_linters(tool: list[str]) -> None:
    done = subprocess.run([str(BIN / tool[0]), *tool[1:], *map(str, ALL)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_no_untrusted_text_reaches_a_shell_and_permissions_are_least(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text())
    assert "pull_request_target" not in json.dumps(workflow.get(True, workflow.get("on")))
    assert "permissions" in workflow
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), f"{path.name}: {step.get('name')}: expressions go through env:"
            if "uses" in step:
                assert re.search(r"@[0-9a-f]{40}$", step["uses"]), "actions are pinned to a commit"
                assert (
                    step["uses"].startswith("actions/checkout") is False or step["with"]["persist-credentials"] is False
                )


def _context(repo: Path, base: str, head: str) -> dict[str, str]:
    return {
        "github.event.pull_request.base.sha || github.event.before": base,
        "github.event.pull_request.head.sha || github.sha": head,
        "github.event.repository.default_branch": "main",
        "github.event.pull_request.base.sha": base,
        "github.event.pull_request.head.sha": head,
        "github.event.pull_request.base.ref": "main",
        "github.token": "fake-token",
    }


def _env(tmp_path: Path) -> dict[str, str]:
    gh = actions.fake_gh(tmp_path / "fake-bin")
    return {
        "PATH": f"{gh}{os.pathsep}{BIN}{os.pathsep}{os.environ['PATH']}",
        "FAKE_GH_LOG": str(tmp_path / "gh.log"),
        "GITHUB_REPOSITORY": "example/project",
    }


def test_the_validation_workflow_catches_a_skipped_hook(seed_repo: Path, tmp_path: Path) -> None:
    base = git(seed_repo, "rev-parse", "HEAD")
    path = seed_repo / "coordination" / "communication-log.json"
    path.write_text(path.read_text().replace("Need architectural input", "Need no input"))
    git(seed_repo, "-c", "coord.instance=instance-2", "commit", "-qam", "rewrite a sent message", "--no-verify")
    runs = actions.run_job(
        WORKFLOW_DIR / "coord-validate.yml",
        "check",
        cwd=seed_repo,
        contexts=_context(seed_repo, base, "HEAD"),
        env=_env(tmp_path),
        tmp=tmp_path,
    )
    assert [(r.name, r.code) for r in runs] == [("coord validate", 0), ("coord check (every new commit)", 1)]
    assert runs[-1].output.startswith(
        "::error file=coordination/communication-log.json,line=10,col=18,title=coord check%3A immutable::"
    )


def test_the_validation_workflow_on_a_new_branch(seed_repo: Path, tmp_path: Path) -> None:
    remote = bare_remote(tmp_path / "remote.git")
    git(seed_repo, "remote", "add", "origin", str(remote))
    git(seed_repo, "push", "-q", "origin", "main")
    git(seed_repo, "fetch", "-q", "origin")
    git(seed_repo, "checkout", "-q", "-b", "feature")
    git(seed_repo, "commit", "-q", "--allow-empty", "-m", "feature work")
    runs = actions.run_job(
        WORKFLOW_DIR / "coord-validate.yml",
        "check",
        cwd=seed_repo,
        contexts=_context(seed_repo, "0" * 40, "HEAD"),
        env=_env(tmp_path),
        tmp=tmp_path,
    )
    assert [r.code for r in runs] == [0, 0]
    assert runs[-1].output == "::notice title=coord check::1 commit(s) checked; every rule holds\n"


def test_the_health_workflow_keeps_one_issue(seed_repo: Path, tmp_path: Path) -> None:
    env = _env(tmp_path)
    log = tmp_path / "gh.log"
    runs = actions.run_job(
        WORKFLOW_DIR / "coord-health.yml",
        "health",
        cwd=seed_repo,
        contexts=_context(seed_repo, "", ""),
        env={**env, "COORD_NOW": "2024-01-16T12:00:00Z"},
        tmp=tmp_path,
    )
    assert [r.code for r in runs] == [0], "unhealthy is a finding, not a failed job"
    assert "## ❌ Coordination health: unhealthy: 4 error(s), 2 warning(s)" in runs[0].summary
    assert "```mermaid" in runs[0].summary
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c[:2] for c in calls] == [["issue", "list"], ["label", "create"], ["issue", "create"]]
    assert calls[2][calls[2].index("--label") + 1] == "coordination-health"
    log.write_text("")
    runs = actions.run_job(
        WORKFLOW_DIR / "coord-health.yml",
        "health",
        cwd=seed_repo,
        contexts=_context(seed_repo, "", ""),
        env={**env, "COORD_NOW": "2024-01-16T12:00:00Z", "FAKE_GH_ISSUES": '[{"number": 7}]'},
        tmp=tmp_path,
    )
    assert [json.loads(line)[:3] for line in log.read_text().splitlines()] == [
        ["issue", "list", "--label"],
        ["issue", "edit", "7"],
    ]
    log.write_text("")
    runs = actions.run_job(
        WORKFLOW_DIR / "coord-health.yml",
        "health",
        cwd=seed_repo,
        contexts=_context(seed_repo, "", ""),
        env={**env, "COORD_NOW": "2024-01-15T11:30:00Z", "FAKE_GH_ISSUES": '[{"number": 7}]'},
        tmp=tmp_path,
    )
    assert "✅" in runs[0].summary or "healthy" in runs[0].summary
    assert [json.loads(line)[:3] for line in log.read_text().splitlines()] == [
        ["issue", "list", "--label"],
        ["issue", "close", "7"],
    ]


def test_a_decision_pull_request_is_reviewed_then_merged_with_the_driver(tmp_path: Path, coord: Coord) -> None:
    remote = bare_remote(tmp_path / "remote.git")
    work = tmp_path / "work"
    git(tmp_path, "init", "-q", "-b", "main", str(work))
    assert coord(work, "init", "--example", "--branch", "main").code == 0
    git(work, "remote", "add", "origin", str(remote))
    git(work, "push", "-q", "origin", "main")
    base = git(work, "rev-parse", "HEAD")
    # The pull request: its own branch carries the inputs and the decision.
    git(work, "config", "coord.branch", "decide-api")
    git(work, "checkout", "-q", "-b", "decide-api")
    for who, option in (("instance-1", "GraphQL Federation"), ("instance-3", "REST API")):
        assert coord(work, "--as", who, "decision", "input", "dec_002", "--option", option).code == 0
    env, ctx = _env(tmp_path), None
    ctx = _context(work, base, git(work, "rev-parse", "HEAD"))
    [review] = actions.run_job(
        WORKFLOW_DIR / "coord-decisions.yml", "review", cwd=work, contexts=ctx, env=env, tmp=tmp_path
    )
    assert (review.code, review.outputs) == (0, {"decided": "false", "changed": "1"})
    assert (
        "| dec_002: Agent Communication Protocol | pending | instance-1: GraphQL Federation<br>instance-3: REST API | none |"
        in review.summary
    )
    assert coord(work, "--as", "human", "decision", "assign", "dec_002", "instance-2").code == 0
    assert (
        coord(
            work,
            "--as",
            "instance-2",
            "decision",
            "decide",
            "dec_002",
            "--option",
            "REST API",
            "--rationale",
            "simplest",
        ).code
        == 0
    )
    git(work, "push", "-q", "origin", "decide-api")
    head = git(work, "rev-parse", "HEAD")
    ctx = _context(work, base, head)
    [review] = actions.run_job(
        WORKFLOW_DIR / "coord-decisions.yml", "review", cwd=work, contexts=ctx, env=env, tmp=tmp_path
    )
    assert review.outputs["decided"] == "true"
    # Meanwhile main moved on (someone else checked in): GitHub's button could not merge this.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    assert coord(other, "install").code == 0
    assert coord(other, "--as", "instance-4", "checkin", "--sync").code == 0
    # The merge job, run as written: a fresh checkout of the base branch, then its script.
    runner = tmp_path / "runner"
    git(tmp_path, "clone", "-q", "--branch", "main", str(remote), str(runner))
    git(
        tmp_path,
        "config",
        "--global",
        f"url.{remote}.insteadOf",
        "https://x-access-token:fake-token@github.com/example/project.git",
    )
    runs = actions.run_job(
        WORKFLOW_DIR / "coord-decisions.yml", "merge", cwd=runner, contexts=ctx, env=env, tmp=tmp_path
    )
    assert [r.code for r in runs] == [0], runs[-1].output
    assert git(remote, "merge-base", "--is-ancestor", head, "main") == ""
    merged = json.loads(git(remote, "show", "main:coordination/decisions.json"))
    assert merged["decisions"][-1]["decision_id"] == "dec_002"
    assert (
        json.loads(git(remote, "show", "main:coordination/instance-registry.json"))["instances"]["instance-4"]["status"]
        == "active"
    )
