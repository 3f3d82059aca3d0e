"""One writer in its own clone, for the sync measure: `python -m benchmarks.writer CLONE NAME EVENTS MODE`.

MODE coord: each event is a coord step with --sync. MODE git: each event is an empty commit
pushed with plain git (pull and push again when overtaken): the floor of any git-based
coordination.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from benchmarks.harness import PYTHON
from benchmarks.harness import env

LATENCIES = "coord-latencies"  # in each clone's .git/, one line per step
GAVE_UP = "coord-gave-up"  # in each clone's .git/, one line per step that did not succeed


def coord_event(clone: Path, name: str, n: int) -> None:
    steps = (
        ["checkin"],
        ["task", "add", f"work {name} {n}"],
        ["msg", "send", "--to", "all", "--subject", f"note {n}", "--body", "done"],
    )
    command = [PYTHON, "-m", "gitcoord", "-C", str(clone), "--as", name, *steps[n % 3], "--sync"]
    began = time.perf_counter()
    done = subprocess.run(command, env=env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:  # counted, and the writer goes on, as an agent would
        said = (done.stderr.strip().splitlines() or ["(nothing said)"])[-1]
        with (clone / ".git" / GAVE_UP).open("a") as f:
            f.write(f"{n} exit {done.returncode}: {said}\n")
        print(f"{name} event {n} failed ({' '.join(command[3:])}):\n{done.stderr}", file=sys.stderr)
        return
    with (clone / ".git" / LATENCIES).open("a") as f:  # each step's latency, shared included
        f.write(f"{time.perf_counter() - began:.3f}\n")


def git_event(clone: Path, name: str, n: int) -> None:
    def git(*args: str) -> int:
        return subprocess.run(["git", *args], cwd=clone, env=env(), capture_output=True, check=False).returncode

    began = time.perf_counter()
    git("commit", "-q", "--allow-empty", "--no-verify", "-m", f"{name} event {n}")
    while git("push", "-q", "--no-verify", "origin", "main") != 0:
        git("pull", "-q", "--no-rebase", "--no-edit", "--no-verify", "origin", "main")
    with (clone / ".git" / LATENCIES).open("a") as f:
        f.write(f"{time.perf_counter() - began:.3f}\n")


def main(clone: Path, name: str, events: int, mode: str) -> None:
    event = coord_event if mode == "coord" else git_event
    for n in range(events):
        event(clone, name, n)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4])
