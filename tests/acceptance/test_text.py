"""Text for people: colour only where wanted, columns that line up, every field of a record in words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from testing.repos import git
from tests.conftest import Coord

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_colour_follows_color_and_no_color(seed_repo: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not ANSI.search(coord(seed_repo, "task", "list").out), "piped: no colour"
    coloured = coord(seed_repo, "--color=always", "task", "list").out
    assert "\x1b[33min_progress\x1b[0m" in coloured
    assert not ANSI.search(coord(seed_repo, "--color", "never", "task", "list").out)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not ANSI.search(coord(seed_repo, "task", "list").out)
    assert ANSI.search(coord(seed_repo, "--color=always", "task", "list").out), "asked for, it wins over NO_COLOR"


def test_an_error_is_coloured_only_when_asked(seed_repo: Path, coord: Coord) -> None:
    assert coord(seed_repo, "task", "show", "task_404").err == (
        "error: there is no task 'task_404'; `coord task list` shows them (an id, or its start after the prefix)\n"
    )
    assert coord(seed_repo, "--color=always", "task", "show", "task_404").err.startswith("\x1b[31m\x1b[1merror:")
    assert not ANSI.search(coord(seed_repo, "--color=never", "task", "show", "task_404").err)


def test_columns_line_up_whatever_the_names_and_titles(seed_repo: Path, coord: Coord) -> None:
    for title in ("A title with 世界 in it", "Short"):
        assert coord(seed_repo, "--as", "instance-1", "task", "add", title, "--priority", "low").code == 0
    assert coord(seed_repo, "--as", "human", "register", "a-rather-long-instance-name", "--role", "r").code == 0
    rows = coord(seed_repo, "task", "list").out.splitlines()
    due = [line.index("due ") for line in rows if "due " in line]
    assert len(set(due)) == 1, rows
    lines = coord(seed_repo, "status").out.splitlines()
    instances = lines[lines.index("Instances") + 1 : lines.index("Tasks")]
    assert len({line.index("seen ") for line in instances}) == 1, instances


def test_open_work_comes_before_closed_work(seed_repo: Path, coord: Coord) -> None:
    assert coord(seed_repo, "--as", "instance-2", "task", "complete", "task_001").code == 0
    ids = [line.split()[0] for line in coord(seed_repo, "task", "list").out.splitlines()]
    assert ids == ["task_002", "task_003", "task_001"]


def test_text_from_instances_cannot_repaint_the_terminal_from_a_table(seed_repo: Path, coord: Coord) -> None:
    assert coord(seed_repo, "--as", "instance-1", "task", "add", "evil \x1b[2J\x1b]0;owned\x07 title").code == 0
    listed = coord(seed_repo, "--color=always", "task", "list").out
    assert "\x1b[2J" not in listed
    assert "\x1b]0;" not in listed
    assert "\\u001b[2J" in listed


def test_task_show_says_every_field_in_words(seed_repo: Path, coord: Coord) -> None:
    shown = coord(seed_repo, "task", "show", "task_002").out
    assert "None" not in shown
    assert "['" not in shown
    assert "required_expertise:  backend, api-design" in shown
    assert "dependencies:        task_001 (in_progress)" in shown
    assert "needed by:           task_003" in shown
    assert "assigned_to:         -" in shown


def test_decision_show_says_every_field_and_what_decided_means(seed_repo: Path, coord: Coord) -> None:
    shown = coord(seed_repo, "decision", "show", "dec_001").out
    assert "status:             decided, and in force (active)" in shown
    assert "affects_instances:  all" in shown
    assert "related_tasks:      task_001" in shown
    pending = coord(seed_repo, "decision", "show", "dec_002").out
    assert "pending: waiting for input from instance-1, instance-3" in pending
    assert "+ Simple" in pending
    listed = coord(seed_repo, "decision", "list", "--all").out
    assert re.search(r"dec_001\s+decided\s", listed), listed


def test_msg_show_says_its_context_and_its_body(seed_repo: Path, coord: Coord) -> None:
    shown = coord(seed_repo, "msg", "show", "msg_001").out
    assert "related_task:       task_002" in shown
    assert "requires_response:  yes" in shown
    assert "      | Need architectural input" in shown
    assert git(seed_repo, "status", "--porcelain") == ""
