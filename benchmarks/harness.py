"""Timing whole processes, as agents and git run them: median wall time and peak memory."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from gitcoord.git import clean_env

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[1]


class Sample(NamedTuple):
    seconds: float
    peak_bytes: int


class Measure(NamedTuple):
    median: float
    peak_bytes: int
    runs: int


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a user's shell: coord on PATH, and Python free to cache its bytecode."""
    found = clean_env({"PATH": str(Path(PYTHON).parent) + os.pathsep + os.environ["PATH"], **(extra or {})})
    found.pop("PYTHONDONTWRITEBYTECODE", None)
    return found


_runner: subprocess.Popen[str] | None = None


def once(command: Sequence[str], cwd: Path, *, environ: dict[str, str] | None = None, check: bool = True) -> Sample:
    """Run `command` once: its wall time, and the peak resident memory of that process."""
    global _runner  # noqa: PLW0603 (one small runner process serves the whole run)
    if _runner is None:
        _runner = subprocess.Popen(
            [PYTHON, "-m", "benchmarks.runner"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env(),
        )
    assert _runner.stdin is not None
    assert _runner.stdout is not None
    _runner.stdin.write(json.dumps({"command": list(command), "cwd": str(cwd), "env": environ or env()}) + "\n")
    _runner.stdin.flush()
    result = json.loads(_runner.stdout.readline())
    if check and result["code"] not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} failed ({result['code']}):\n{result['stderr']}")
    return Sample(result["seconds"], result["peak_bytes"])


def measure(
    command: Sequence[str],
    cwd: Path,
    *,
    repeat: int,
    before: Callable[[], None] | None = None,
    environ: dict[str, str] | None = None,
    check: bool = True,
) -> Measure:
    """The median of `repeat` runs after one warm-up; `before` runs (untimed) before each."""
    samples = []
    for n in range(repeat + 1):
        if before:
            before()
        sample = once(command, cwd, environ=environ, check=check)
        if n:  # the first run warms the caches
            samples.append(sample)
    return Measure(statistics.median(s.seconds for s in samples), max(s.peak_bytes for s in samples), len(samples))


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env(), capture_output=True, text=True, check=True)
    return done.stdout.strip()


def coord(cwd: Path, *args: str) -> list[str]:
    return [PYTHON, "-m", "gitcoord", "-C", str(cwd), *args]
