"""The range check stays bounded in memory: a long history is judged file version by file version."""

from __future__ import annotations

import json
from pathlib import Path

from testing.repos import git
from tests.conftest import Coord

from gitcoord import model
from gitcoord import range_loader


def test_the_loader_keeps_only_the_versions_in_use_and_reads_again_what_it_forgot(seed_repo: Path) -> None:
    path = seed_repo / "coordination" / model.TASKS
    blobs = []
    for n in range(range_loader.KEPT + 20):
        queue = json.loads(path.read_text())
        queue["pending_tasks"][0]["title"] = f"version {n}"
        blobs.append(git(seed_repo, "hash-object", "-w", "--stdin", stdin=json.dumps(queue)))
    loader = range_loader.Loader(seed_repo)
    for blob in blobs:
        assert loader.parse(model.TASKS, blob)[0] is not None
    assert len(loader._parsed) == range_loader.KEPT, "the oldest were forgotten"
    first, _ = loader.parse(model.TASKS, blobs[0])  # read and parsed again
    assert first is not None
    assert first["pending_tasks"][0]["title"] == "version 0"


def test_a_range_longer_than_the_loader_keeps_is_judged_as_before(seed_repo: Path, coord: Coord) -> None:
    git(seed_repo, "config", "coord.maintenance", "false")  # no packer left running by the in-process steps
    start = git(seed_repo, "rev-parse", "HEAD")
    steps = range_loader.KEPT + 5
    for n in range(steps):
        assert coord(seed_repo, "--as", "instance-1", "task", "add", f"task {n}").code == 0
    result = coord(seed_repo, "check", "--range", f"{start}..HEAD")
    assert result.code == 0, result
    assert result.out.startswith(f"ok: {steps} commit(s) checked")
    path = seed_repo / "coordination" / model.TASKS
    queue = json.loads(path.read_text())
    gone = queue["pending_tasks"].pop(0)["task_id"]
    path.write_text(json.dumps(queue, indent=2) + "\n")
    git(seed_repo, "commit", "-q", "--no-verify", "-am", "Drop a task by hand")
    refused = coord(seed_repo, "check", "--range", f"{start}..HEAD")
    assert refused.code == 1
    assert gone in refused.out
