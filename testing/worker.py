"""One instance at work in its own clone: random protocol steps through the real CLI, each synced.

    python -m testing.worker CLONE INSTANCE STEPS SEED LOG

LOG receives, as JSON, every step the CLI acknowledged (exit 0) with what it reported, and
every step it refused with the reason.
Deciding is left out: two clones deciding one question differently is a conflict for a
person, which a test of unattended traffic cannot settle.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

from gitcoord import workspace
from gitcoord.git import clean_env
from testing import simulate

UNATTENDED = {
    "checkin",
    "add",
    "claim",
    "start",
    "complete",
    "block",
    "release",
    "assign",
    "accept",
    "decline",
    "send",
    "reply",
    "ack",
    "input",
    "propose",
    "escalate",
}


def main(clone: Path, name: str, steps: int, seed: int, log: Path) -> None:
    rng = random.Random(seed)
    acknowledged, refused = [], []
    for _ in range(steps):
        state = workspace.snapshot(workspace.open_workspace(clone), strict=False)
        op = simulate.choose(state, rng, actors=[name])
        if op.name not in UNATTENDED:
            continue
        args = [sys.executable, "-m", "gitcoord", "-C", str(clone), *op.cli(), "--sync", "--json"]
        done = subprocess.run(args, capture_output=True, text=True, check=False, env=clean_env())
        envelope = json.loads(done.stdout)  # with --json, one envelope on stdout whatever happened
        if done.returncode == 0:
            acknowledged.append({"op": op.name, "args": list(op.args), "result": envelope["data"]})
        else:
            refused.append({"op": op.name, "args": list(op.args), "error": envelope["error"]["message"]})
    log.write_text(json.dumps({"acknowledged": acknowledged, "refused": refused}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
