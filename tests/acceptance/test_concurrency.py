"""Many instances at once: processes in one working tree, and clones syncing through a remote."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testing.repos import bare_remote
from testing.repos import files_in
from testing.repos import git
from tests.conftest import Coord

from gitcoord import model
from gitcoord import records

ROOT = Path(__file__).parents[2]


def _coord(where: Path, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gitcoord", "-C", str(where), *args]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_eight_processes_in_one_working_tree_lose_nothing(seed_repo: Path, coord: Coord) -> None:
    procs = []
    for n in range(8):
        loop = " && ".join(
            f"{sys.executable} -m gitcoord -C {seed_repo} --as instance-{n % 6 + 1} {args}"
            for args in (
                f"task add 'work {n}-a'",
                "checkin",
                f"task add 'work {n}-b'",
                f"msg send --to all --subject 'note {n}' --body x",
            )
        )
        procs.append(subprocess.Popen(["sh", "-c", loop], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "index.lock" not in err
    titles = [t["title"] for t in json.loads(coord(seed_repo, "task", "list", "--json").out)["data"]]
    assert sorted(t for t in titles if t.startswith("work ")) == sorted(f"work {n}-{x}" for n in range(8) for x in "ab")
    assert len(json.loads((seed_repo / "coordination" / model.MESSAGES).read_text())["messages"]) == 1 + 8
    assert coord(seed_repo, "validate").code == 0
    assert git(seed_repo, "status", "--porcelain") == ""
    assert git(seed_repo, "rev-list", "--count", "HEAD") == str(1 + 8 * 4)


def test_killed_commands_leave_the_store_valid_and_unlocked(seed_repo: Path, coord: Coord) -> None:
    rng = random.Random(7)
    for n in range(12):
        proc = _coord(seed_repo, "--as", "instance-3", "task", "add", f"interrupted {n}")
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert coord(seed_repo, "validate").code == 0
    assert coord(seed_repo, "--as", "instance-3", "task", "add", "after the storm").code == 0
    assert git(seed_repo, "status", "--porcelain") == ""
    assert (
        subprocess.run(["git", "fsck", "--no-dangling"], cwd=seed_repo, capture_output=True, check=False).returncode
        == 0
    )


@pytest.mark.slow
def test_clones_syncing_at_once_converge_and_lose_nothing(tmp_path: Path, coord: Coord) -> None:
    remote = bare_remote(tmp_path / "remote.git")
    names = ["instance-1", "instance-2", "instance-3", "instance-4"]
    clones = {}
    for n, name in enumerate(names):
        clone = tmp_path / name
        if n == 0:
            git(tmp_path, "init", "-q", "-b", "main", str(clone))
            assert coord(clone, "init", "--example", "--branch", "main").code == 0
            git(clone, "remote", "add", "origin", str(remote))
            assert coord(clone, "sync").code == 0
        else:
            git(tmp_path, "clone", "-q", str(remote), str(clone))
            assert coord(clone, "install").code == 0
        git(clone, "config", "coord.instance", name)
        clones[name] = clone
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "testing.worker", str(clone), name, "10", str(n), str(tmp_path / f"{name}.json")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, (name, clone) in enumerate(clones.items())
    ]
    for w in workers:
        _, err = w.communicate(timeout=600)
        assert w.returncode == 0, err
    for _ in range(2):  # the last writers' news reaches everyone
        for clone in clones.values():
            assert coord(clone, "sync").code == 0
    tip = git(remote, "rev-parse", "main")
    stores = {
        name: {p: d for p, d in files_in(clone).items() if p.startswith("coordination/")}
        for name, clone in clones.items()
    }
    for name, clone in clones.items():
        assert git(clone, "rev-parse", "main") == tip
        assert stores[name] == stores[names[0]], "every clone holds the same bytes"
    assert coord(clones[names[0]], "validate").code == 0
    assert (
        coord(clones[names[0]], "check", "--range", f"{git(remote, 'rev-list', '--max-parents=0', 'main')}..main").code
        == 0
    )
    state = {f: json.loads((clones[names[0]] / "coordination" / f).read_text()) for f in model.FILES}
    acknowledged = 0
    for name in names:
        log = json.loads((tmp_path / f"{name}.json").read_text())
        for step in log["refused"]:  # the protocol may refuse a step; the sync never may
            assert "not shared yet" not in step["error"], step
        for step in log["acknowledged"]:
            acknowledged += 1
            result = step["result"]
            if "commit" in result:  # every acknowledged event is in the shared history
                assert git(remote, "merge-base", "--is-ancestor", result["commit"], "main") == ""
            rid = (
                result.get("task_id") or result.get("message_id") or result.get("decision_id") or result.get("subject")
            )
            if rid and not rid.startswith("instance"):
                kind = {"task": "task", "msg": "message", "dec": "decision"}[rid.split("_", 1)[0]]
                assert records.get(state, kind, rid) is not None, f"{step} is not in the final state"
    assert acknowledged >= len(names) * 4
