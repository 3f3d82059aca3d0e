"""The README's "From zero" block, run as written: a newcomer's first steps must work.

The shell block runs under bash with this test's `coord` first on PATH, in a fresh
directory; then the shared remote is looked at through a further clone.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from testing.repos import git
from tests.conftest import Coord

README = Path(__file__).parents[2] / "README.md"


def _block(heading: str) -> str:
    section = README.read_text("utf-8").split(f"### {heading}\n", 1)[1]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found is not None, f"no sh block under {heading!r}"
    return found[1]


def test_from_zero_sets_up_a_gated_remote_the_human_and_two_signed_agents(tmp_path: Path, coord: Coord) -> None:
    script = _block("From zero: a remote with the gate, the human and two agents")
    run = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    assert (tmp_path / "project.git" / "hooks" / "pre-receive").is_file(), "the gate is installed"

    status = json.loads(coord(tmp_path / "human", "status", "--json").out)["data"]
    instances = {i["instance"]: i["status"] for i in status["instances"]}
    assert instances == {"instance-1": "active", "instance-2": "active"}, status["instances"]
    assert coord(tmp_path / "human", "task", "add", "Design the API", "--expertise", "api").code == 0
    step = json.loads(coord(tmp_path / "instance-1", "next", "--json").out)["data"]["next"]
    assert (step["kind"], step["title"]) == ("claim", "Design the API"), "the README's agents see the human's task"
    clone = tmp_path / "instance-2"
    assert (clone / ".git" / "shallow").exists(), "joined on the store's tip, as the README has it"
    git(clone, "fetch", "-q", "--unshallow", "origin", "+refs/heads/coord:refs/remotes/origin/coord")
    root = git(clone, "rev-list", "--max-parents=0", "origin/coord").split()[0]
    checked = json.loads(coord(clone, "check", "--range", f"{root}..origin/coord", "--json").out)["data"]
    # two registrations, two check-ins, the human's task (the fetch of the history brought it)
    assert (checked["valid"], checked["commits_checked"]) == (True, 5), checked
