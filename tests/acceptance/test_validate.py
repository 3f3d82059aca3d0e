from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from testing.repos import files_in
from testing.repos import git
from tests.conftest import SEED
from tests.conftest import Coord

from gitcoord import model

TASKS = f"coordination/{model.TASKS}"

# (what a person might do to the file, the location, words the error must contain)
BROKEN = [
    ("stray comma", lambda t: t.replace('"priority": "high",', '"priority": "high",,', 1), ":9:26:", "invalid JSON"),
    (
        "duplicate key",
        lambda t: t.replace('"priority": "high",', '"priority": "high", "priority": "low",', 1),
        ":9:27:",
        "duplicate key 'priority' in $.active_tasks[0]",
    ),
    (
        "conflict markers",
        lambda t: "<<<<<<< HEAD\n" + t + "=======\n{}\n>>>>>>> theirs\n",
        ":1:1:",
        "git conflict marker",
    ),
    ("empty file", lambda t: "", ":1:1:", "the file is empty"),
    ("truncated", lambda t: t[: len(t) // 2], ":22:17:", "invalid JSON: Unterminated string"),
    (
        "field typo",
        lambda t: t.replace('"status": "in_progress"', '"stauts": "in_progress"'),
        ":3:5: $.active_tasks[0]:",
        "unknown field 'stauts' (did you mean 'status'?)",
    ),
    (
        "status typo",
        lambda t: t.replace('"in_progress"', '"in progress"'),
        ":8:17: $.active_tasks[0].status:",
        "is not one of",
    ),
    (
        "wrong type",
        lambda t: t.replace('"dependencies": []', '"dependencies": "task_002"'),
        ":12:23: $.active_tasks[0].dependencies:",
        "is not a list",
    ),
    (
        "bad date",
        lambda t: t.replace("2024-01-15T18:00:00Z", "2024-02-30T18:00:00Z"),
        ":11:14: $.active_tasks[0].due:",
        "not a date that exists",
    ),
    (
        "unknown dependency",
        lambda t: t.replace('["task_001", "task_002"]', '["task_001", "task_999"]'),
        ":39:36: $.pending_tasks[1].dependencies[1]:",
        "dependency 'task_999' is not a task",
    ),
    (
        "cycle",
        lambda t: t.replace('"dependencies": []', '"dependencies": ["task_003"]'),
        ":12:23: $.active_tasks[0].dependencies:",
        "dependency cycle: task_001 -> task_003 -> task_001",
    ),
    (
        "wrong list",
        lambda t: t.replace('"pending_assignment"', '"completed"', 1),
        ":17:5: $.pending_tasks[0]:",
        "belongs in completed_tasks",
    ),
    (
        "path outside the repository",
        lambda t: t.replace('"/coordination/agent-collaboration-spec.md"', '"../../etc/passwd"'),
        ":13:68: $.active_tasks[0].deliverables[1]:",
        "is not a path inside the repository",
    ),
    (
        "text too long",
        lambda t: t.replace('"Create comprehensive', '"' + "x" * 20001),
        ":6:22: $.active_tasks[0].description:",
        "longer than the limit of 20000",
    ),
]


@pytest.mark.parametrize(("edit", "where", "words"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_hand_broken_files_get_a_precise_error(
    seed_repo: Path, coord: Coord, edit: Callable[[str], str], where: str, words: str
) -> None:
    path = seed_repo / TASKS
    path.write_text(edit(path.read_text()))
    before = files_in(seed_repo)
    result = coord(seed_repo, "validate")
    assert result.code == 1, result
    assert f"{TASKS}{where}" in result.out, result
    assert words in result.out, result
    assert files_in(seed_repo) == before
    assert "Traceback" not in result.out + result.err


def test_bytes_that_are_not_utf8(seed_repo: Path, coord: Coord) -> None:
    path = seed_repo / TASKS
    path.write_bytes(path.read_bytes().replace(b"Design BikeNode", b"Design Bike\xffNode"))
    result = coord(seed_repo, "validate")
    assert result.code == 1
    assert f"{TASKS}:5:28: byte 0xff is not UTF-8" in result.out


def test_every_problem_is_reported_at_once(seed_repo: Path, coord: Coord) -> None:
    (seed_repo / "coordination" / model.DECISIONS).write_text("{")
    tasks = seed_repo / TASKS
    tasks.write_text(tasks.read_text().replace('"high"', '"urgent"'))
    result = coord(seed_repo, "validate", "--json")
    assert result.code == 1
    data = json.loads(result.out)["data"]
    assert data["valid"] is False
    assert [(f["file"], f["rule"], f["line"]) for f in data["findings"]] == [
        (TASKS, "schema", 9),
        (TASKS, "schema", 23),
        (f"coordination/{model.DECISIONS}", "parse", 1),
    ]


def test_clean_store(seed_repo: Path, coord: Coord) -> None:
    result = coord(seed_repo, "validate")
    assert (result.code, result.out) == (0, "4 file(s) valid\n")
    assert json.loads(coord(seed_repo, "validate", "--json").out)["data"] == {
        "valid": True,
        "files_checked": 4,
        "findings": [],
    }


def test_default_path_is_the_repository_store_from_any_subdirectory(seed_repo: Path, coord: Coord) -> None:
    sub = seed_repo / "src" / "deep"
    sub.mkdir(parents=True)
    result = coord(sub, "validate")
    assert result.code == 0
    (seed_repo / TASKS).write_text("[")
    assert "../../coordination/task-queue.json:1:2:" in coord(sub, "validate").out


def test_single_files_and_other_directories(tmp_path: Path, coord: Coord) -> None:
    assert coord(tmp_path, "validate", str(SEED / model.TASKS)).code == 0
    assert coord(tmp_path, "validate", str(SEED)).code == 0
    missing = coord(tmp_path, "validate", str(tmp_path))
    assert missing.code == 1
    assert "does not exist: `coord init` starts a store" in missing.out
    other = tmp_path / "notes.json"
    other.write_text("{}")
    assert "not a coordination file" in coord(tmp_path, "validate", str(other)).err
    assert "no such file" in coord(tmp_path, "validate", str(tmp_path / "nope.json")).err


def test_a_missing_file_in_a_store(seed_repo: Path, coord: Coord) -> None:
    (seed_repo / "coordination" / model.MESSAGES).unlink()
    result = coord(seed_repo, "validate")
    assert result.code == 1
    assert "coordination/communication-log.json: coordination/communication-log.json does not exist" in result.out


def test_since_checks_only_what_changed(seed_repo: Path, coord: Coord) -> None:
    from testing.repos import git

    assert coord(seed_repo, "validate", "--since", "HEAD").out == "4 file(s) valid\n"
    tasks = seed_repo / TASKS
    tasks.write_text(tasks.read_text().replace('"priority": "high",', '"priority": "high", "priority": "low",', 1))
    assert "duplicate key 'priority'" in coord(seed_repo, "validate", "--since", "HEAD").out
    tasks.write_text(tasks.read_text().replace('"priority": "high", "priority": "low",', '"priority": "urgent",', 1))
    result = coord(seed_repo, "validate", "--since", "HEAD")
    assert result.code == 1
    assert f"{TASKS}:9:19: $.active_tasks[0].priority:" in result.out
    git(seed_repo, "commit", "-q", "--no-verify", "-am", "a bad record, past the hooks")
    assert coord(seed_repo, "validate", "--since", "HEAD").code == 0, "HEAD is taken as valid: CI is what catches this"
    assert coord(seed_repo, "validate").code == 1, "a full check still does"
    assert coord(seed_repo, "validate", "--since", "no-such-rev").code == 1, "an unknown base means a full check"


def _imported(cwd: Path, *args: str) -> set[str]:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gitcoord", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}


def test_help_and_reads_start_without_the_validator(seed_repo: Path) -> None:
    for args in (["--help"], ["task", "ready", "--json"], ["status"]):
        imported = _imported(seed_repo, *args)
        assert {"jsonschema_rs", "jsonschema"} & imported == set(), args
    assert "jsonschema_rs" in _imported(seed_repo, "validate")


def test_since_tells_true_from_one(seed_repo: Path, coord: Coord) -> None:
    registry = seed_repo / "coordination" / model.REGISTRY
    registry.write_text(
        registry.read_text().replace('"available_for_consultation": true', '"available_for_consultation": 1', 1)
    )
    result = coord(seed_repo, "validate", "--since", "HEAD")
    assert result.code == 1, result
    assert "available_for_consultation: 1 is not true or false [schema]" in result.out + result.err


def test_a_store_committed_broken_says_how_to_go_back_not_to_fix_it_on_top(seed_repo: Path, coord: Coord) -> None:
    """A commit on top of a file that does not parse cannot be judged against it, so the advice is
    to take the breaking commit off the branch, which then works again."""
    path = seed_repo / "coordination" / model.TASKS
    good = git(seed_repo, "rev-parse", "HEAD")
    path.write_text(path.read_text().replace('"task_id"', '"task_id",', 1))
    git(seed_repo, "commit", "-qam", "a stray comma\n\nCoord-Instance: instance-1", "--no-verify")
    broken = git(seed_repo, "rev-parse", "HEAD")
    read = coord(seed_repo, "task", "list")
    assert read.code == 1, read
    assert f"It is committed so at {broken[:12]}, and a commit on top cannot repair it" in read.err, read.err
    assert "`git reset --keep GOOD`" in read.err
    git(seed_repo, "reset", "-q", "--keep", good)
    assert coord(seed_repo, "task", "list").code == 0
