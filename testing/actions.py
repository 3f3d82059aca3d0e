"""Running a GitHub workflow's own `run:` steps locally, as the runner would.

Each step runs with `bash -eo pipefail` (the runner's default shell) in a repository the test
prepares (`checkout` does what actions/checkout does), with the workflow's and the step's
`env:` (their `${{ }}` expressions looked up in the contexts the test supplies), and
GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, RUNNER_TEMP and GITHUB_REPOSITORY set. Steps that `uses:`
an action are skipped; the install step runs as written, into the fresh virtual environment
`runner` makes, with pip finding packages in a local wheelhouse instead of an index.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from typing import NamedTuple

import yaml

EXPRESSION = re.compile(r"^\$\{\{\s*(.+?)\s*\}\}$")


class Run(NamedTuple):
    name: str
    code: int
    output: str
    summary: str
    outputs: dict[str, str]
    temp: Path  # the job's RUNNER_TEMP


def run_job(
    workflow: Path, job: str, *, cwd: Path, contexts: dict[str, str], env: dict[str, str], tmp: Path
) -> list[Run]:
    workflow_data = yaml.safe_load(workflow.read_text())
    steps: list[dict[str, Any]] = workflow_data["jobs"][job]["steps"]
    top_env = {key: _resolve(str(value), contexts) for key, value in workflow_data.get("env", {}).items()}
    runner_temp = Path(tempfile.mkdtemp(dir=tmp, prefix=f"runner-temp-{job}-"))  # each job's own, as on a runner
    runs = []
    known = dict(contexts)
    for n, step in enumerate(steps):
        if "uses" in step or not _holds(step.get("if"), known):
            continue
        summary, outputs = tmp / f"summary-{n}.md", tmp / f"output-{n}.txt"
        summary.write_text("")
        outputs.write_text("")
        step_env = {key: _resolve(str(value), known) for key, value in step.get("env", {}).items()}
        files = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs), "RUNNER_TEMP": str(runner_temp)}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=cwd,
            env={**os.environ, **env, **top_env, **step_env, **files},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        pairs = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
        known.update({f"steps.{step['id']}.outputs.{k}": v for k, v in pairs.items()} if "id" in step else {})
        name = step.get("name", step["run"][:40])
        runs.append(Run(name, done.returncode, done.stdout, summary.read_text(), pairs, runner_temp))
        if done.returncode != 0:
            break
    return runs


def checkout(remote: Path, directory: Path, ref: str) -> Path:
    """What actions/checkout does with `ref` and fetch-depth 0: every branch fetched, `ref` checked out."""
    subprocess.run(["git", "clone", "-q", str(remote), str(directory)], check=True)
    subprocess.run(["git", "checkout", "-q", ref], cwd=directory, check=True)
    return directory


def wheelhouse(directory: Path, project: Path) -> Path:
    """Wheels of `project`, its dependencies and its build backend (editables for `pip install -e`):
    a package index on disk."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "-w", str(directory), str(project), "hatchling", "editables"],
        check=True,
        capture_output=True,
    )
    return directory


def runner(directory: Path, wheels: Path) -> dict[str, str]:
    """A fresh Python environment, as on a new runner, and the variables that make `python`
    and `pip` in a step use it, with `wheels` as their only package index."""
    # virtualenv (pre-commit's own dependency) seeds pip from a cache: seconds quicker than venv.
    subprocess.run([sys.executable, "-m", "virtualenv", "-q", "--no-periodic-update", str(directory)], check=True)
    path = [
        str(directory / "bin"),
        *(p for p in os.environ["PATH"].split(os.pathsep) if p != str(Path(sys.executable).parent)),
    ]
    return {
        "PATH": os.pathsep.join(path),
        "VIRTUAL_ENV": str(directory),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


CONDITION = re.compile(r"^(steps\.[\w-]+\.outputs\.[\w-]+) != ''$")


def _holds(condition: str | None, known: dict[str, str]) -> bool:
    """A step's `if:`, of the one form these workflows use: a step's output is not empty."""
    if condition is None:
        return True
    found = CONDITION.match(condition.strip())
    if found is None:
        raise ValueError(f"the local runner evaluates only `steps.ID.outputs.NAME != ''`, not {condition!r}")
    return known.get(found[1], "") != ""


def _resolve(value: str, contexts: dict[str, str]) -> str:
    found = EXPRESSION.match(value)
    if found is None:
        return value
    if found[1].startswith(("steps.", "vars.")):  # an output no step wrote, a variable not set: empty, as on GitHub
        return contexts.get(found[1], "")
    if found[1] not in contexts:
        raise KeyError(f"the test must give the context {found[1]!r}")
    return contexts[found[1]]


FAKE_GH = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:3] == ["issue", "list"]:
    print(os.environ.get("FAKE_GH_ISSUES", "[]"))
elif sys.argv[1:3] == ["issue", "create"]:
    print("https://github.com/example/project/issues/1")
elif sys.argv[1:3] == ["pr", "view"]:
    print(os.environ["FAKE_GH_PR"])
"""


def fake_gh(directory: Path) -> Path:
    """A `gh` that records its calls (one JSON list per line), answers `issue list` from
    FAKE_GH_ISSUES and `pr view` with FAKE_GH_PR (what the workflow's --template would print)."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "gh"
    script.write_text(FAKE_GH)
    script.chmod(0o755)
    return directory
