from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_the_demo_plays_both_examples_and_converges(tmp_path: Path) -> None:
    """`make demo` runs this: seven clones, real concurrency, and its own checks at the end."""
    where = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "gitcoord", "demo", "--dir", str(where)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    out = done.stdout
    for line in (
        "== Example 1: new feature development",
        "instance-1 answers msg_001",
        "instance-2 closes msg_001",
        "lost to instance-",
        "Claims you lost in a merge:",
        "== Example 2: cross-instance problem solving",
        "human sets the signing key of instance-6",
        "signatures are required",
        "acts as instance-1 (its Coord-Instance trailer)",
        "(pre-receive hook declined)",
        "instance-2 decides dec_002: REST API",
        "instance-6 escalates dec_",
        "human decides dec_",
        "coordination health at",
        "all 7 clones at",
        "4 file(s) valid",
        f"The remote and the seven clones are in {where}",
    ):
        assert line in out, line
    assert "ok: " in out
    assert "commit(s) checked" in out
    assert sorted(p.name for p in where.iterdir()) == [
        "human",
        *(f"instance-{n}" for n in range(1, 7)),
        "keys",
        "remote.git",
    ]
    assert sorted(p.name for p in (where / "keys").iterdir() if not p.name.endswith(".pub")) == [
        "human",
        *(f"instance-{n}" for n in range(1, 7)),
    ], "the demo's keys stay in its directory"


def test_the_demo_wants_an_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    done = subprocess.run(
        [sys.executable, "-m", "gitcoord", "demo", "--dir", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "is not empty" in done.stderr
