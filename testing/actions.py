"""Running a GitHub workflow's own `run:` steps locally, as the runner would.

Each step runs with `bash -eo pipefail` (the runner's default shell) in a repository the test
prepares, with the step's `env:` (its `${{ }}` expressions looked up in the contexts the
test supplies), and GITHUB_STEP_SUMMARY, GITHUB_OUTPUT and GITHUB_REPOSITORY set. Steps
that `uses:` an action, and the install step (the test runs the gitcoord under test), are skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
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


def run_job(
    workflow: Path, job: str, *, cwd: Path, contexts: dict[str, str], env: dict[str, str], tmp: Path
) -> list[Run]:
    steps: list[dict[str, Any]] = yaml.safe_load(workflow.read_text())["jobs"][job]["steps"]
    runs = []
    for n, step in enumerate(steps):
        if "uses" in step or step.get("name") == "install gitcoord":
            continue
        summary, outputs = tmp / f"summary-{n}.md", tmp / f"output-{n}.txt"
        summary.write_text("")
        outputs.write_text("")
        step_env = {key: _resolve(str(value), contexts) for key, value in step.get("env", {}).items()}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=cwd,
            env={**os.environ, **env, **step_env, "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        pairs = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
        runs.append(Run(step.get("name", step["run"][:40]), done.returncode, done.stdout, summary.read_text(), pairs))
        if done.returncode != 0:
            break
    return runs


def _resolve(value: str, contexts: dict[str, str]) -> str:
    found = EXPRESSION.match(value)
    if found is None:
        return value
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
"""


def fake_gh(directory: Path) -> Path:
    """A `gh` that records its calls (one JSON list per line) and answers `issue list` from FAKE_GH_ISSUES."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "gh"
    script.write_text(FAKE_GH)
    script.chmod(0o755)
    return directory
