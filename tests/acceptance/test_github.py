"""The GitHub workflows: written where GitHub runs them, secure as written, and their steps,
install line included, doing what they claim when run locally on a fresh environment."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from testing import actions
from testing.repos import bare_remote
from testing.repos import commit_all
from testing.repos import git
from testing.repos import make_repo
from tests.conftest import Coord

from gitcoord import model
from gitcoord import workflows

ROOT = Path(__file__).parents[2]
WORKFLOW_DIR = ROOT / ".github" / "workflows"
OURS = [WORKFLOW_DIR / name for name in workflows.WORKFLOWS]
BIN = Path(sys.executable).parent
RELEASE = "gitcoord==0.1.0"
CODE_CI = "name: ci\non:\n  push:\n    branches: [main]\n  pull_request:\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n"


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gitcoord under test and its dependencies as wheels: the package index runners see."""
    return actions.wheelhouse(tmp_path_factory.mktemp("wheels"), ROOT)


@pytest.fixture
def runner(tmp_path: Path, wheels: Path) -> dict[str, str]:
    """A fresh runner: its own Python with nothing installed, a `gh` that records its calls."""
    env = actions.runner(tmp_path / "runner-python", wheels)
    gh = actions.fake_gh(tmp_path / "fake-bin")
    return {
        **env,
        "PATH": f"{gh}{os.pathsep}{env['PATH']}",
        "FAKE_GH_LOG": str(tmp_path / "gh.log"),
        "GITHUB_REPOSITORY": "example/project",
    }


def _installed(directory: Path, wheels: Path, *requirement: str) -> tuple[Path, dict[str, str]]:
    """A user's own environment with gitcoord pip-installed as `requirement` says; its `coord`."""
    env = actions.runner(directory, wheels)
    subprocess.run(["python", "-m", "pip", "install", "-q", *requirement], env={**os.environ, **env}, check=True)
    return directory / "bin" / "coord", env


def _run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False)


def _tree(repo: Path, rev: str) -> set[str]:
    return set(git(repo, "ls-tree", "-r", "--name-only", rev).splitlines())


def _on(workflow: dict[Any, Any]) -> Any:  # YAML reads the key `on` as True
    return workflow.get("on", workflow.get(True))


def test_this_repository_runs_the_workflows_coord_init_writes() -> None:
    # This repository keeps its store beside its code, and its workflows install the checkout.
    written = workflows.plan(ROOT, "main", same_branch=True, spec=workflows.Spec(".", "a path")).code_branch
    for path, text in written.items():
        assert (ROOT / path).read_text() == text, path
    assert workflows.skip_coordination_pushes((WORKFLOW_DIR / "ci.yml").read_text()) is None, "it skips them already"
    assert 'paths-ignore: ["coordination/**"]' in (WORKFLOW_DIR / "ci.yml").read_text()


@pytest.mark.slow  # a fresh Python environment per test, as on a runner
def test_init_github_with_the_store_on_its_own_branch(tmp_path: Path, wheels: Path, coord: Coord) -> None:
    user, env = _installed(tmp_path / "user-python", wheels, "gitcoord")
    repo = make_repo(tmp_path / "repo")
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text(CODE_CI)
    commit_all(repo, "code CI")
    done = _run(repo, str(user), "init", "--github", env=env)
    assert done.returncode == 0, done.stderr
    assert (
        f"the workflows install {RELEASE} (installed from a package index), named in .github/coord-install on coord"
        in done.stdout
    )
    assert "the code CI, on the code branch, finds no workflow of its own there and does not run" in done.stdout
    assert "a runner may not be able to install" not in done.stderr
    # push and pull_request workflows run from the branch they run for, the others from the default one.
    assert {".github/coord-install", *(f".github/workflows/{n}" for n in workflows.ON_STORE_BRANCH)} <= _tree(
        repo, "coord"
    )
    assert not {f".github/workflows/{n}" for n in workflows.ON_DEFAULT_BRANCH} & _tree(repo, "coord")
    assert {f".github/workflows/{n}" for n in workflows.ON_DEFAULT_BRANCH} <= _tree(repo, "main")
    assert not {f".github/workflows/{n}" for n in workflows.ON_STORE_BRANCH} & _tree(repo, "main")
    assert (repo / ".github" / "workflows" / "ci.yml").read_text() == CODE_CI, "nothing to skip: coord has no ci.yml"
    assert git(repo, "show", "coord:.github/coord-install").splitlines()[-1] == RELEASE
    validate = yaml.safe_load(git(repo, "show", "coord:.github/workflows/coord-validate.yml"))
    assert _on(validate) == {"push": {"branches": ["coord"]}, "pull_request": {"branches": ["coord"]}}
    review = yaml.safe_load(git(repo, "show", "coord:.github/workflows/coord-decisions.yml"))
    assert _on(review)["pull_request"]["branches"] == ["coord"]
    assert "paths" not in _on(review)["pull_request"], "on its own branch, every pull request is a coordination one"
    health = yaml.safe_load((repo / ".github" / "workflows" / "coord-health.yml").read_text())
    assert health["jobs"]["health"]["steps"][0]["with"]["ref"] == "coord"
    assert list(_on(health)) == ["schedule", "workflow_dispatch"]
    merge = yaml.safe_load((repo / ".github" / "workflows" / "coord-decisions-merge.yml").read_text())
    assert _on(merge)["workflow_run"]["workflows"] == ["coordination decisions"]

    again = _run(repo, str(user), "init", "--github", env=env)
    assert "already initialised" in again.stdout, again.stdout
    tip = git(repo, "rev-parse", "coord")
    chosen = "gitcoord @ git+https://example.com/team/gitcoord@" + "a" * 40
    custom = _run(repo, str(user), "init", "--github", "--install", chosen, env=env)
    assert custom.returncode == 0, custom.stderr
    assert f"the workflows install {chosen} (--install)" in custom.stdout
    assert git(repo, "show", "coord:.github/coord-install").splitlines()[-1] == chosen
    assert git(repo, "rev-parse", "coord^") == tip
    assert git(repo, "diff", "--name-only", tip, "coord") == ".github/coord-install"
    assert coord(repo, "check", "--range", f"{tip}..coord").code == 0, "a setup commit breaks no rule"
    bad = _run(repo, str(user), "init", "--github", "--install", "-e .", env=env)
    assert (bad.returncode, bad.stderr.count("give one pip requirement")) == (1, 1)


def test_init_github_with_the_store_beside_the_code(tmp_path: Path, coord: Coord) -> None:
    repo = make_repo(tmp_path / "repo")
    directory = repo / ".github" / "workflows"
    directory.mkdir(parents=True)
    (directory / "ci.yml").write_text(CODE_CI)
    (directory / "lint.yml").write_text("name: lint\non: [push, pull_request]\njobs: {}\n")
    (directory / "flow.yml").write_text("name: flow\non: {push: {branches: [main]}}\njobs: {}\n")
    (directory / "docs.yml").write_text("name: docs\non:\n  push:\n    paths: [docs/**]\njobs: {}\n")
    commit_all(repo, "code CI")
    done = coord(repo, "init", "--github", "--branch", "main", "--install", RELEASE)
    assert done.code == 0, done
    assert "named in .github/coord-install on main" in done.out
    assert {".github/coord-install", *(f".github/workflows/{n}" for n in workflows.WORKFLOWS)} <= _tree(repo, "HEAD")
    ci = yaml.safe_load((directory / "ci.yml").read_text())
    assert _on(ci) == {"push": {"branches": ["main"], "paths-ignore": ["coordination/**"]}, "pull_request": None}
    lint = yaml.safe_load((directory / "lint.yml").read_text())
    assert _on(lint) == {"push": {"paths-ignore": ["coordination/**"]}, "pull_request": None}
    assert (directory / "flow.yml").read_text() == "name: flow\non: {push: {branches: [main]}}\njobs: {}\n"
    assert ".github/workflows/flow.yml: if it runs on every push, add `paths-ignore" in done.out
    assert "paths-ignore" not in (directory / "docs.yml").read_text(), "a path filter of its own is left alone"
    review = yaml.safe_load((directory / "coord-decisions.yml").read_text())
    assert _on(review)["pull_request"]["paths"] == ["coordination/**"]
    assert _on(yaml.safe_load((directory / "coord-validate.yml").read_text()))["push"] == {"branches": ["main"]}
    assert git(repo, "status", "--porcelain") == "", "all committed"


def _project_copy(tmp_path: Path) -> Path:
    """This project's files as they are now, in a checkout of their own."""
    source = tmp_path / "gitcoord-source"
    ignored = shutil.ignore_patterns(".git", ".venv", "*cache*", "coordination", "tests", "benchmarks", "docs")
    shutil.copytree(ROOT, source, ignore=ignored)
    make_repo(source)
    commit_all(source, "gitcoord")
    return source


@pytest.mark.slow  # a fresh Python environment per test, as on a runner
def test_the_install_line_is_where_the_running_gitcoord_came_from(tmp_path: Path, wheels: Path) -> None:
    source = _project_copy(tmp_path)
    user, env = _installed(tmp_path / "user-python", wheels, "-e", str(source))
    first = make_repo(tmp_path / "first")
    done = _run(first, str(user), "init", "--github", env=env)
    assert done.returncode == 0, done.stderr
    assert f"a runner may not be able to install that: {source} is at a commit no remote of that checkout holds" in (
        done.stderr
    )
    assert "give what a runner can install with --install SPEC" in done.stderr
    # Once a remote holds that commit, the runners install it from there, pinned.
    git(source, "remote", "add", "origin", "git@example.com:team/gitcoord.git")
    git(source, "update-ref", "refs/remotes/origin/main", "HEAD")
    head = git(source, "rev-parse", "HEAD")
    second = make_repo(tmp_path / "second")
    done = _run(second, str(user), "init", "--github", env=env)
    assert (done.returncode, done.stderr.count("a runner may not")) == (0, 0), done.stderr
    wanted = f"gitcoord @ git+https://example.com/team/gitcoord.git@{head}"
    assert git(second, "show", "coord:.github/coord-install").splitlines()[-1] == wanted
    assert f"commit {head[:12]}, held by origin (https://example.com/team/gitcoord.git)" in done.stdout


@pytest.mark.parametrize(
    "tool",
    [
        ["zizmor", "--offline", "--no-progress", "--persona", "auditor"],
        ["check-jsonschema", "--builtin-schema", "vendor.github-workflows"],
    ],
)
def test_the_workflows_pass_the_linters(tool: list[str], tmp_path: Path) -> None:
    own = workflows.plan(tmp_path, "coord", same_branch=False, spec=None)
    written = []
    for path, text in {**own.store_branch, **own.code_branch}.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
        written.append(str(tmp_path / path))
    every = [*map(str, sorted(WORKFLOW_DIR.glob("*.yml"))), *written]
    done = subprocess.run([str(BIN / tool[0]), *tool[1:], *every], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("layout", ["own branch", "same branch"])
def test_no_untrusted_text_reaches_a_shell_and_permissions_are_least(layout: str, tmp_path: Path) -> None:
    plan = workflows.plan(tmp_path, "coord", same_branch=layout == "same branch", spec=None)
    for name, text in {**plan.store_branch, **plan.code_branch}.items():
        workflow = yaml.safe_load(text)
        assert "pull_request_target" not in json.dumps(_on(workflow))
        assert workflow["permissions"] == {}, name
        for job in workflow["jobs"].values():
            assert "contents" in job["permissions"], name
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), f"{name}: {step.get('name')}: expressions go through env:"
                if "uses" in step:
                    assert re.search(r"@[0-9a-f]{40}$", step["uses"]), "actions are pinned to a commit"
                if step.get("uses", "").startswith("actions/checkout"):
                    assert step["with"]["persist-credentials"] is False
                if "pip install" in step.get("run", ""):
                    assert "-r .github/coord-install" in step["run"], "every workflow installs what one file names"
    validate = yaml.safe_load(plan.store_branch.get(".github/workflows/coord-validate.yml") or "{}") or yaml.safe_load(
        plan.code_branch[".github/workflows/coord-validate.yml"]
    )
    # A newer push never cancels a check of the store's branch: each push run has a group of its own.
    assert validate["concurrency"] == {
        "group": "coord-validate-${{ github.event.pull_request.number || github.run_id }}",
        "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
    }
    merge = yaml.safe_load(plan.code_branch[".github/workflows/coord-decisions-merge.yml"])
    script = merge["jobs"]["merge"]["steps"][-1]["run"]
    assert "core.hooksPath=/dev/null merge" in script
    assert "coord install --no-hooks" in script


# --- the workflows' steps, run locally ---------------------------------------------------------


def _own_branch_project(tmp_path: Path, coord: Coord) -> tuple[Path, Path]:
    """A repository with code on main and the example store on coord, both on a bare remote."""
    remote = bare_remote(tmp_path / "remote.git")
    work = make_repo(tmp_path / "work")
    (work / "app.py").write_text("print('code')\n")
    commit_all(work, "code")
    done = coord(work, "init", "--example", "--github", "--install", RELEASE)
    assert done.code == 0, done
    git(work, "remote", "add", "origin", str(remote))
    git(work, "push", "-q", "origin", "main", "coord")
    assert coord(work, "install").code == 0
    return work, remote


def _push_contexts(sha: str, before: str = "") -> dict[str, str]:
    return {
        "github.event.before": before,
        "github.event.pull_request.head.sha || github.sha": sha,
        "github.event.pull_request.base.sha || github.sha": sha,
        "github.event.pull_request.base.sha": "",
        "github.sha": sha,
        "github.token": "fake-token",
    }


def _validate_push(
    tmp_path: Path, remote: Path, runner: dict[str, str], sha: str, n: int, before: str = ""
) -> list[actions.Run]:
    """The validation workflow, run for a push of `sha` to coord (from `before`), and its checkpoint job when it passes."""
    checkout = actions.checkout(remote, tmp_path / f"push-{n}", sha)
    workflow = checkout / ".github" / "workflows" / "coord-validate.yml"
    contexts = _push_contexts(sha, before)
    runs = actions.run_job(workflow, "check", cwd=checkout, contexts=contexts, env=runner, tmp=tmp_path)
    if all(r.code == 0 for r in runs):
        mover = actions.checkout(remote, tmp_path / f"checkpoint-{n}", sha)
        runs += actions.run_job(workflow, "checkpoint", cwd=mover, contexts=contexts, env=runner, tmp=tmp_path)
    return runs


def _hand_edit(work: Path, tmp_path: Path, old: str, new: str) -> str:
    """A commit on coord that skipped the hooks, pushed: what only CI can catch on github.com."""
    edit = tmp_path / "hand-edit"
    if not edit.exists():
        git(work, "worktree", "add", "-q", str(edit), "coord")
    git(edit, "pull", "-q", "--ff-only", "origin", "coord")
    path = edit / "coordination" / "communication-log.json"
    path.write_text(path.read_text().replace(old, new))
    git(edit, "-c", "coord.instance=instance-2", "commit", "-qam", "rewrite a sent message", "--no-verify")
    git(edit, "push", "-q", "--no-verify", "origin", "coord")
    return git(edit, "rev-parse", "HEAD")


@pytest.mark.slow  # a fresh Python environment per test, as on a runner
def test_validation_checks_every_commit_since_the_last_one_it_found_good(
    tmp_path: Path, coord: Coord, runner: dict[str, str]
) -> None:
    work, remote = _own_branch_project(tmp_path, coord)
    first = git(remote, "rev-parse", "coord")
    runs = _validate_push(tmp_path, remote, runner, first, 1)
    assert [(r.name, r.code) for r in runs] == [
        ("install gitcoord", 0),
        ("the commits to check", 0),
        ("coord validate", 0),
        ("coord check (every commit in the range)", 0),
        ("the checkpoint moves to the commit found good", 0),
    ]
    assert "no refs/coord/checked/coord yet" in runs[1].output
    assert git(remote, "rev-parse", "refs/coord/checked/coord") == first
    # A good step, then a bad commit pushed before the good one's run: the run for the tip checks both.
    assert coord(work, "--as", "instance-4", "checkin").code == 0
    assert coord(work, "sync").code == 0
    good = git(remote, "rev-parse", "coord")
    bad = _hand_edit(work, tmp_path, "Need architectural input", "Need no input")
    runs = _validate_push(tmp_path, remote, runner, bad, 2)
    assert [(r.name, r.code) for r in runs][-1] == ("coord check (every commit in the range)", 1)
    assert runs[1].outputs == {"range": f"{first}..{bad}"}
    assert "title=coord check%3A immutable::" in runs[-1].output
    assert git(remote, "rev-parse", "refs/coord/checked/coord") == first, "the checkpoint stays at the last good one"
    # A force push back past what CI found good is caught too.
    git(remote, "update-ref", "refs/coord/checked/coord", good)  # as the run for `good` would have
    git(work, "push", "-q", "-f", "--no-verify", "origin", f"{first}:refs/heads/coord")
    runs = _validate_push(tmp_path, remote, runner, first, 3)
    assert runs[-1].code == 1
    assert "the history was rewound or rewritten" in runs[-1].output
    # A pusher moves the checkpoint onto its own bad commit in the same push: that push is checked all the same.
    git(remote, "update-ref", "refs/heads/coord", good)
    git(remote, "update-ref", "refs/coord/checked/coord", good)
    forged = _hand_edit(work, tmp_path, "Need no input", "Need nothing")
    git(remote, "update-ref", "refs/coord/checked/coord", forged)
    runs = _validate_push(tmp_path, remote, runner, forged, 4, before=good)
    assert runs[1].outputs == {"range": f"{good}..{forged}"}
    assert "does not lie behind the previous tip" in runs[1].output
    assert [(r.name, r.code) for r in runs][-1] == ("coord check (every commit in the range)", 1)


@pytest.mark.slow  # a fresh Python environment per test, as on a runner
def test_validation_of_the_store_beside_the_code_catches_a_skipped_hook(
    seed_repo: Path, tmp_path: Path, coord: Coord, runner: dict[str, str]
) -> None:
    assert coord(seed_repo, "init", "--github", "--install", RELEASE).code == 0
    remote = bare_remote(tmp_path / "remote.git")
    git(seed_repo, "remote", "add", "origin", str(remote))
    git(seed_repo, "push", "-q", "origin", "main")
    first = git(seed_repo, "rev-parse", "HEAD")
    assert all(r.code == 0 for r in _validate_push(tmp_path, remote, runner, first, 1))
    path = seed_repo / "coordination" / "communication-log.json"
    path.write_text(path.read_text().replace("Need architectural input", "Need no input"))
    git(seed_repo, "-c", "coord.instance=instance-2", "commit", "-qam", "rewrite a sent message", "--no-verify")
    git(seed_repo, "push", "-q", "--no-verify", "origin", "main")
    runs = _validate_push(tmp_path, remote, runner, git(seed_repo, "rev-parse", "HEAD"), 2)
    assert [r.code for r in runs] == [0, 0, 0, 1]
    assert runs[-1].output.startswith(
        "::error file=coordination/communication-log.json,line=10,col=18,title=coord check%3A immutable::"
    )


@pytest.mark.slow  # a fresh Python environment per test, as on a runner
def test_the_health_workflow_reads_the_store_branch_and_keeps_one_issue(
    tmp_path: Path, coord: Coord, runner: dict[str, str]
) -> None:
    _work, remote = _own_branch_project(tmp_path, coord)
    checkout = actions.checkout(remote, tmp_path / "health", "coord")
    workflow = tmp_path / "coord-health.yml"
    workflow.write_text(git(remote, "show", "main:.github/workflows/coord-health.yml"))
    log = tmp_path / "gh.log"

    def health(now: str, issues: str) -> list[actions.Run]:
        log.write_text("")
        env = {**runner, "COORD_NOW": now, "FAKE_GH_ISSUES": issues}
        contexts = {"github.token": "fake-token", "runner.temp": str(tmp_path)}
        return actions.run_job(workflow, "health", cwd=checkout, contexts=contexts, env=env, tmp=tmp_path)

    runs = health("2024-01-16T12:00:00Z", "[]")
    assert [(r.name, r.code) for r in runs] == [("install gitcoord", 0), ("coord health", 0), ("coord board", 0)]
    assert "## ❌ Coordination health: unhealthy: 4 error(s), 2 warning(s)" in runs[1].summary
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c[:2] for c in calls] == [["issue", "list"], ["label", "create"], ["issue", "create"]]
    assert calls[2][calls[2].index("--label") + 1] == "coordination-health"
    health("2024-01-16T12:00:00Z", '[{"number": 7}]')
    assert [json.loads(line)[:3] for line in log.read_text().splitlines()] == [
        ["issue", "list", "--label"],
        ["issue", "edit", "7"],
    ]
    runs = health("2024-01-15T11:30:00Z", '[{"number": 7}]')
    assert [json.loads(line)[:3] for line in log.read_text().splitlines()] == [
        ["issue", "list", "--label"],
        ["issue", "close", "7"],
    ]
    assert "<html" in (runs[-1].temp / "board" / "board.html").read_text().lower()


def _pull_request(work: Path, coord: Coord, branch: str, *, decide: bool) -> str:
    """A decision pull request against coord: its own branch, its inputs as commits, pushed."""
    git(work, "branch", branch, "coord")
    git(work, "config", "coord.branch", branch)
    for who, option in (("instance-1", "GraphQL Federation"), ("instance-3", "REST API")):
        assert coord(work, "--as", who, "decision", "input", "dec_002", "--option", option, "--no-sync").code == 0
    if decide:
        assert coord(work, "--as", "human", "decision", "assign", "dec_002", "instance-2", "--no-sync").code == 0
        decided = coord(
            work, "--as", "instance-2", "decision", "decide", "dec_002", "--option", "REST API",
            "--rationale", "simplest", "--no-sync",
        )  # fmt: skip
        assert decided.code == 0, decided
    git(work, "config", "coord.branch", "coord")
    git(work, "push", "-q", "origin", branch)
    return git(work, "rev-parse", branch)


def _review(tmp_path: Path, remote: Path, runner: dict[str, str], head: str) -> list[actions.Run]:
    checkout = actions.checkout(remote, tmp_path / f"review-{head[:8]}", head)
    base = git(remote, "rev-parse", "coord")
    contexts = {"github.event.pull_request.base.sha": base, "github.event.pull_request.head.sha": head}
    workflow = checkout / ".github" / "workflows" / "coord-decisions.yml"
    return actions.run_job(workflow, "review", cwd=checkout, contexts=contexts, env=runner, tmp=tmp_path)


def _merge(
    tmp_path: Path, remote: Path, runner: dict[str, str], head: str, *, branch: str = "coord", key: str = ""
) -> list[actions.Run]:
    """The merge workflow (from the default branch) for a review of `head` that succeeded."""
    checkout = actions.checkout(remote, tmp_path / f"merge-{head[:8]}", branch)
    workflow = tmp_path / "coord-decisions-merge.yml"
    workflow.write_text(git(remote, "show", "main:.github/workflows/coord-decisions-merge.yml"))
    contexts = {
        "github.event.workflow_run.pull_requests[0].number": "5",
        "github.event.workflow_run.head_sha": head,
        "github.token": "fake-token",
        "secrets.COORD_MERGE_TOKEN || github.token": "fake-token",
        "vars.COORD_MERGE_AS": "merge-bot" if key else "",
        "secrets.COORD_MERGE_KEY": key,
    }
    env = {**runner, "FAKE_GH_PR": f"OPEN false false {branch} {head}"}
    return actions.run_job(workflow, "merge", cwd=checkout, contexts=contexts, env=env, tmp=tmp_path)


@pytest.mark.slow  # a fresh Python environment per test, as on a runner
def test_a_decision_pull_request_is_reviewed_then_merged_with_the_driver(
    tmp_path: Path, coord: Coord, runner: dict[str, str]
) -> None:
    work, remote = _own_branch_project(tmp_path, coord)
    waiting = _pull_request(work, coord, "ask-api", decide=False)
    [install, review] = _review(tmp_path, remote, runner, waiting)
    assert (install.code, review.code) == (0, 0)
    assert review.outputs == {"decided": "false", "changed": "1", "mergeable": "false"}
    assert (
        "| dec_002: Agent Communication Protocol | pending | instance-1: GraphQL Federation<br>instance-3: REST API | none |"
        in review.summary
    )
    head = _pull_request(work, coord, "decide-api", decide=True)
    assert _review(tmp_path, remote, runner, head)[-1].outputs["mergeable"] == "true"
    # Meanwhile coord moved on (someone checked in): GitHub's button could not merge this.
    assert coord(work, "--as", "instance-4", "checkin").code == 0
    assert coord(work, "sync").code == 0
    runs = _merge(tmp_path, remote, runner, head)
    assert [(r.name, r.code) for r in runs] == [
        ("install gitcoord", 0),
        ("the pull request, as GitHub has it now", 0),
        ("merge and push", 0),
    ], runs[-1].output
    assert git(remote, "merge-base", "--is-ancestor", head, "coord") == ""
    merged = json.loads(git(remote, "show", "coord:coordination/decisions.json"))
    assert next(d for d in merged["decisions"] if d["decision_id"] == "dec_002")["decision"] == "REST API"
    registry = json.loads(git(remote, "show", "coord:coordination/instance-registry.json"))
    assert registry["instances"]["instance-4"]["status"] == "active"
    assert git(remote, "log", "-1", "--format=%s", "coord") == "Merge decision pull request #5"


@pytest.mark.slow  # a fresh Python environment per test, as on a runner
def test_the_merge_that_lost_the_race_merges_again_onto_the_branch_not_a_tag_named_like_it(
    tmp_path: Path, coord: Coord, runner: dict[str, str]
) -> None:
    """actions/checkout fetches every tag, and git reads `origin/coord` as a tag of that name before
    the remote's branch: a tag anyone can push on GitHub, at a commit the rules refuse, would become
    the base of the next attempt, never judged. The workflow names the remote's branch in full."""
    work, remote = _own_branch_project(tmp_path, coord)
    head = _pull_request(work, coord, "decide-api", decide=True)
    edit = tmp_path / "forge"
    git(work, "worktree", "add", "-q", "--detach", str(edit), "coord")
    queue = edit / model.COORD_DIR / model.TASKS
    queue.write_text(queue.read_text().replace("Design Agent UI/UX Interface", "Rewritten by another"))
    git(edit, "commit", "-qam", "retitle\n\nCoord-Instance: instance-3", "--no-verify")
    git(edit, "push", "-q", "--no-verify", "origin", "HEAD:refs/tags/origin/coord")
    forged = git(edit, "rev-parse", "HEAD")
    assert coord(work, "--as", "instance-4", "checkin", "--no-sync").code == 0
    other = git(work, "rev-parse", "coord")
    git(work, "push", "-q", "--no-verify", "origin", "coord:refs/keep/other")
    hook = remote / "hooks" / "pre-receive"  # another step lands just before the bot's first push
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(
        f"#!/bin/sh\n[ -e raced ] && exit 0\ntouch raced\nenv -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES "
        f"git update-ref refs/heads/coord {other}\nexit 1\n"
    )
    hook.chmod(0o755)
    runs = _merge(tmp_path, remote, runner, head)
    assert runs[-1].code == 0, runs[-1].output
    assert "coord moved meanwhile; merging again onto its new tip" in runs[-1].output
    tip = git(remote, "rev-parse", "coord")
    for sha in (head, other):
        assert git(remote, "merge-base", "--is-ancestor", sha, tip) == ""
    shared = subprocess.run(["git", "merge-base", "--is-ancestor", forged, tip], cwd=remote, check=False)
    assert shared.returncode == 1, "the tag's commit is not on the branch"


@pytest.mark.parametrize("file", [None, model.REGISTRY, model.TASKS])
def test_a_decision_pull_request_that_changes_the_registry_or_the_tasks_is_not_mergeable(
    tmp_path: Path, coord: Coord, file: str | None
) -> None:
    """The merge workflow is a writer that any pull request can set going: it lands what decision
    steps write and nothing else, not a human key or a task slipped in beside a decision."""
    work, _ = _own_branch_project(tmp_path, coord)
    _pull_request(work, coord, "decide-api", decide=True)
    if file is not None:
        edit = tmp_path / "pr-edit"
        git(work, "worktree", "add", "-q", str(edit), "decide-api")
        path = edit / model.COORD_DIR / file
        path.write_text(path.read_text() + " ")  # any change at all
        git(edit, "commit", "-qam", "and one more thing", "--no-verify")
    verdict = coord(work, "decision", "pr", "--range", "coord..decide-api", "--json")
    assert verdict.code == 0, verdict
    data = json.loads(verdict.out)["data"]
    assert data["decided"] is True
    assert data["mergeable"] is (file is None), data
    assert data["beyond_decisions"] == ([] if file is None else [f"{model.COORD_DIR}/{file}"])


@pytest.mark.slow  # a fresh Python environment per test, as on a runner
def test_a_pull_request_that_brings_more_than_coordination_is_not_merged(
    tmp_path: Path, coord: Coord, runner: dict[str, str]
) -> None:
    work, remote = _own_branch_project(tmp_path, coord)
    head = _pull_request(work, coord, "decide-api", decide=True)
    # The same decision, plus a gitcoord of its own choosing for the workflows to install.
    edit = tmp_path / "pr-edit"
    git(work, "worktree", "add", "-q", str(edit), "decide-api")
    (edit / ".github" / "coord-install").write_text("gitcoord-of-my-own==6.6.6\n")
    git(edit, "commit", "-qam", "install mine", "--no-verify")
    git(edit, "push", "-q", "origin", "decide-api")
    head = git(edit, "rev-parse", "HEAD")
    [install, review] = _review(tmp_path, remote, runner, head)
    assert install.code == 0, "the review installs what the base branch names, never the pull request's"
    assert review.outputs["mergeable"] == "false"
    assert "it also changes files beyond the decisions (.github/coord-install)" in review.summary
    before = git(remote, "rev-parse", "coord")
    runs = _merge(tmp_path, remote, runner, head)
    assert [r.code for r in runs] == [0, 0, 0]
    assert "is not ready to merge" in runs[-1].output
    assert git(remote, "rev-parse", "coord") == before, "nothing merged"


@pytest.mark.slow  # a fresh Python environment per test, as on a runner
def test_in_a_signed_store_the_merge_is_signed_by_an_instance_of_its_own(
    signed_team: Any, coord: Coord, tmp_path: Path, runner: dict[str, str]
) -> None:
    team = signed_team
    human, one, two = (team.clones[n] for n in ("human", "instance-1", "instance-2"))
    git(human, "pull", "-q", "origin", "main")
    assert coord(human, "init", "--github", "--install", RELEASE).code == 0
    git(human, "push", "-q", "origin", "main")
    # The instance the merge workflow signs as: registered with its own key, which the
    # repository keeps as the secret COORD_MERGE_KEY.
    bot = tmp_path / "merge-bot"
    git(tmp_path, "clone", "-q", str(team.remote), str(bot))
    assert coord(bot, "install", "--as", "merge-bot").code == 0
    assert coord(bot, "register", "merge-bot", "--role", "developer", "--sync").code == 0
    key = Path(git(bot, "config", "user.signingkey")).read_text()
    # The decision pull request: proposed, answered and decided on its own branch, each signed.
    for clone in (one, two):
        git(clone, "pull", "-q", "origin", "main")
        git(clone, "switch", "-q", "-c", "decide")
        git(clone, "config", "coord.branch", "decide")
    proposed = coord(
        one, "--as", "instance-1", "decision", "propose", "Storage", "--option", "files", "--option", "sqlite",
        "--input-from", "instance-2", "--no-sync", "--json",
    )  # fmt: skip
    assert proposed.code == 0, proposed
    decision = json.loads(proposed.out)["data"]["decision_id"]
    git(one, "push", "-q", "origin", "decide")
    git(two, "pull", "-q", "origin", "decide")
    assert coord(two, "--as", "instance-2", "decision", "input", decision, "--option", "files", "--no-sync").code == 0
    git(two, "push", "-q", "origin", "decide")
    git(one, "pull", "-q", "origin", "decide")
    decided = coord(
        one, "--as", "instance-1", "decision", "decide", decision, "--option", "files", "--rationale", "simplest",
        "--no-sync",
    )  # fmt: skip
    assert decided.code == 0, decided
    git(one, "push", "-q", "origin", "decide")
    head = git(one, "rev-parse", "HEAD")
    before = git(team.remote, "rev-parse", "main")
    # Unsigned, the merge breaks the store's rule: the job's own check refuses it, nothing is pushed.
    (tmp_path / "unsigned").mkdir()
    unsigned = _merge(tmp_path / "unsigned", team.remote, runner, head, branch="main")
    assert unsigned[-1].code == 1
    assert "the commit names no acting instance, and this store requires signatures" in unsigned[-1].output
    assert git(team.remote, "rev-parse", "main") == before
    runs = _merge(tmp_path, team.remote, runner, head, branch="main", key=key)
    assert [r.code for r in runs] == [0, 0, 0], runs[-1].output
    assert git(team.remote, "merge-base", "--is-ancestor", head, "main") == ""
    assert "Coord-Instance: merge-bot" in git(team.remote, "log", "-1", "--format=%B", "main")
    git(human, "pull", "-q", "origin", "main")
    assert coord(human, "check", "--range", f"{before}..main").code == 0


def test_a_clone_adds_the_workflows_to_a_store_it_fetched(tmp_path: Path, coord: Coord) -> None:
    remote = bare_remote(tmp_path / "remote.git")
    assert coord(remote, "install", "--server").code == 0
    first = make_repo(tmp_path / "first")
    git(first, "remote", "add", "origin", str(remote))
    assert coord(first, "init").code == 0
    git(first, "push", "-q", "origin", "main", "coord")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    assert git(other, "branch", "--list", "coord") == "", "no local branch of the store yet"
    done = coord(other, "init", "--github", "--install", RELEASE)
    assert done.code == 0, done
    assert git(other, "rev-parse", "coord^") == git(remote, "rev-parse", "coord")
    synced = coord(other, "sync")
    assert synced.code == 0, synced
    assert git(remote, "rev-parse", "coord") == git(other, "rev-parse", "coord"), "the gate takes the setup commit"
    assert ".github/coord-install" in _tree(remote, "coord")
