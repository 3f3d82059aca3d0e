from __future__ import annotations

import json
import re
from pathlib import Path

from testing.repos import git
from tests.conftest import Coord


def test_the_board_shows_everything_at_a_glance(seed_repo: Path, coord: Coord) -> None:
    result = coord(seed_repo, "status")
    assert result.code == 0, result
    out = result.out
    for row in (
        "instance-1 active architecture-backend",
        "task_001 in_progress instance-2",
        "task_002 pending_assignment",
        "msg_001 instance-2 -> instance-1 pending_response 2024-01-15T11:20:00Z API Design for Agent Coordination",
        "dec_002 pending Agent Communication Protocol REST API | GraphQL Federation",
    ):
        assert re.search(r"\s+".join(map(re.escape, row.split())), out), (row, out)
    assert "waiting for instance-1, instance-3" in out


def test_the_board_as_json(seed_repo: Path, coord: Coord) -> None:
    data = json.loads(coord(seed_repo, "status", "--json").out)["data"]
    assert data["branch"] == "main"
    assert data["commit"] == git(seed_repo, "rev-parse", "HEAD")
    assert [i["instance"] for i in data["instances"]] == [f"instance-{n}" for n in range(1, 7)]
    assert [t["task_id"] for t in data["tasks"]["pending_assignment"]] == ["task_002", "task_003"]
    assert data["pending_decisions"][0]["inputs_missing"] == ["instance-1", "instance-3"]
    assert data["open_messages"][0]["message_id"] == "msg_001"


def test_status_reads_the_shared_branch_from_any_branch(seed_repo: Path, coord: Coord) -> None:
    git(seed_repo, "checkout", "-q", "-b", "feature")
    git(seed_repo, "rm", "-q", "-r", "coordination")
    git(seed_repo, "commit", "-q", "-m", "feature work without coordination files")
    assert "task_001" in coord(seed_repo, "status").out


def test_status_before_init_says_what_to_do(repo: Path, coord: Coord) -> None:
    result = coord(repo, "status")
    assert result.code == 1
    assert "coord init" in result.err


def test_terminal_escapes_in_text_are_shown_not_obeyed(seed_repo: Path, coord: Coord) -> None:
    hostile = "API \x1b]0;pwned\x07 \u202eevil"
    assert (
        coord(
            seed_repo,
            "--as",
            "instance-3",
            "msg",
            "send",
            "--to",
            "instance-1",
            "--subject",
            hostile,
            "--body",
            "\x1b[2J",
        ).code
        == 0
    )
    out = coord(seed_repo, "status").out
    assert "\x1b" not in out
    assert "\u202e" not in out
    assert "API \\u001b]0;pwned\\u0007 \\u202eevil" in out
    assert "\\u202e" in coord(seed_repo, "status", "--json").out


def test_a_malformed_committed_store_is_reported_not_crashed_on(seed_repo: Path, coord: Coord) -> None:
    path = seed_repo / "coordination" / "task-queue.json"
    path.write_text(path.read_text().replace('"status": "in_progress"', '"state": "in_progress"'))
    git(seed_repo, "commit", "-q", "--no-verify", "-am", "broken by hand, past the hooks")
    result = coord(seed_repo, "status")
    assert result.code == 1
    assert "task-queue.json:3:5: $.active_tasks[0]: missing required field 'status'" in result.err
    assert "Traceback" not in result.err


def test_the_log_shows_every_side_of_a_merge_and_commits_by_hand(seed_repo: Path, coord: Coord) -> None:
    base = git(seed_repo, "rev-parse", "main")
    assert coord(seed_repo, "--as", "instance-1", "task", "add", "on a side").code == 0
    side = git(seed_repo, "rev-parse", "main")
    # A merge that keeps one side's store as it was: git's default walk would follow that side only.
    merge = git(seed_repo, "commit-tree", f"{base}^{{tree}}", "-p", base, "-p", side, "-m", "Merge, keeping ours")
    git(seed_repo, "reset", "-q", "--hard", merge)
    registry = seed_repo / "coordination" / "instance-registry.json"
    registry.write_text(registry.read_text().replace('"role": "architecture-backend"', '"role": "backend"', 1))
    git(seed_repo, "commit", "-q", "--no-verify", "-am", "Rename a role by hand")
    result = coord(seed_repo, "log", "--json")
    assert result.code == 0, result
    events = json.loads(result.out)["data"]
    by_event = {e["summary"]: e["event"] for e in events}
    assert by_event["Rename a role by hand"] == "by-hand"
    assert by_event["Merge, keeping ours"] == "by-hand"
    assert by_event[f"coord(task): instance-1 adds {_added(events)}: on a side"] == "task.add", "the side it left"


def _added(events: list[dict[str, str]]) -> str:
    return next(e["subject"] for e in events if e["event"] == "task.add")
