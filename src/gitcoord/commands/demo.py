"""`coord demo`: the specification's example in a throwaway repository, checked and shown."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from gitcoord.git import clean_env
from gitcoord.output import Output


def demo(*, directory: Path | None, out: Output) -> int:
    base = directory or Path(tempfile.mkdtemp(prefix="gitcoord-demo-"))
    repo = base / "project"
    repo.mkdir(parents=True, exist_ok=True)
    env = clean_env()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=env)
    for args in (["init", "--example"], ["status"], ["validate"]):
        out.emit(None, f"\n$ coord {' '.join(args)}")
        done = subprocess.run([sys.executable, "-m", "gitcoord", *args], cwd=repo, env=env, check=False)
        if done.returncode != 0:
            return done.returncode
    out.emit({"repository": str(repo)}, f"\nThe repository is at {repo}")
    return 0
