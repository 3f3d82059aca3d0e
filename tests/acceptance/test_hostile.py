"""Hostile values in a committed store (past the hooks, with --no-verify): a clear error, never a crash.

Each value goes through the check (`coord validate`), a read (`coord health`), the range check
CI runs (`coord check --range`) and a protocol step (`coord task add`): exit 1 with what is
wrong and where, never exit 3 (a bug). The values the parser refuses stop every command that
reads their file; the ones only the schema refuses stop the check, the range check and any
command that reads them, and are otherwise trusted as the committed store is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from testing.repos import git
from tests.conftest import Coord

from gitcoord import jsonio
from gitcoord import model
from gitcoord import schema

REGISTRY = f"coordination/{model.REGISTRY}"
TASKS = f"coordination/{model.TASKS}"
DEEP = '{"record": "task_001", "field": "title", "values": ["a", ' + "[" * 100_000 + "]" * 100_000 + '], "reason": "r"}'


def _settings(value: str) -> Callable[[str], str]:
    return lambda text: text.replace("{", '{\n  "settings": {"checkin_hours": ' + value + "},", 1)


# (name, file, edit of its text, words the error must contain)
PARSER_REFUSES = [
    ("NaN", REGISTRY, _settings("NaN"), ":2:33: NaN is not a JSON number; numbers must be finite"),
    ("Infinity", REGISTRY, _settings("Infinity"), ":2:33: Infinity is not a JSON number"),
    ("-Infinity", REGISTRY, _settings("-Infinity"), ":2:33: -Infinity is not a JSON number"),
    ("1e400", REGISTRY, _settings("1e400"), ":2:33: 1e400 is too large a number to hold"),
    ("5000 digits", REGISTRY, _settings("9" * 5000), ":2:33: a number of 5000 characters is longer than the limit"),
    (
        "lone surrogate",
        TASKS,
        lambda t: t.replace('"Design BikeNode AI Agent Architecture"', '"\\ud800"'),
        ":5:16: $.active_tasks[0].title: text holds a lone surrogate",
    ),
    (
        "100,000 levels deep",
        TASKS,
        lambda t: t.replace('"completed_tasks": []', '"completed_tasks": [], "merge_conflicts": [' + DEEP + "]"),
        f"nested more than {jsonio.MAX_DEPTH} levels deep here, past the limit",
    ),
]
SCHEMA_REFUSES = [
    ("second 60", "2024-01-15T18:00:60Z", "is not RFC 3339 date and time"),
    ("year 0000", "0000-01-15T18:00:00Z", "is not a date that exists"),
    ("trailing newline", "2024-01-15T18:00:00Z\\n", "is not RFC 3339 date and time"),
    ("February 30", "2024-02-30T18:00:00Z", "is not a date that exists"),
]


def _commit_past_the_hooks(repo: Path, file: str, edit: Callable[[str], str]) -> None:
    path = repo / file
    path.write_text(edit(path.read_text()))
    git(repo, "commit", "-q", "--no-verify", "-am", "a hostile value, past the hooks")


def _everything(repo: Path, coord: Coord) -> dict[str, tuple[int, str]]:
    runs = {
        "validate": coord(repo, "validate"),
        "check": coord(repo, "check", "--range", "HEAD~1..HEAD"),
        "health": coord(repo, "health", "--now", "2024-01-16T12:00:00Z"),
        "task add": coord(repo, "--as", "instance-2", "task", "add", "One more task"),
    }
    for name, result in runs.items():
        assert result.code != 3, (name, result)
        assert "Traceback" not in result.err, (name, result)
    return {name: (r.code, r.out + r.err) for name, r in runs.items()}


@pytest.mark.parametrize(("file", "edit", "words"), [c[1:] for c in PARSER_REFUSES], ids=[c[0] for c in PARSER_REFUSES])
def test_what_the_parser_refuses_stops_every_command(
    seed_repo: Path, coord: Coord, file: str, edit: Callable[[str], str], words: str
) -> None:
    _commit_past_the_hooks(seed_repo, file, edit)
    for name, (code, said) in _everything(seed_repo, coord).items():
        assert code == 1, (name, said)
        assert f"{file}" in said, (name, said)
        assert words in said, (name, said)


@pytest.mark.parametrize(("value", "words"), [c[1:] for c in SCHEMA_REFUSES], ids=[c[0] for c in SCHEMA_REFUSES])
def test_what_the_schema_refuses_is_found_and_never_crashes(
    seed_repo: Path, coord: Coord, value: str, words: str
) -> None:
    # The due date of an open task: health reads it, a new task does not.
    _commit_past_the_hooks(seed_repo, TASKS, lambda t: t.replace('"due": "2024-01-16T18:00:00Z"', f'"due": "{value}"'))
    runs = _everything(seed_repo, coord)
    where = f"{TASKS}:25:14: $.pending_tasks[0].due:"
    for name in ("validate", "check", "health"):
        code, said = runs[name]
        assert code == 1, (name, said)
        assert where in said, (name, said)
        assert words in said, (name, said)
    assert runs["task add"][0] == 0, "a step trusts the committed store, and checks what it changes"
    assert coord(seed_repo, "validate").code == 1, "which the check still refuses"


def test_a_file_past_the_size_limit(seed_repo: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonio, "MAX_FILE_BYTES", 3000)
    _commit_past_the_hooks(seed_repo, TASKS, lambda t: t.replace('"Build REST', '"' + "x" * 2000 + " Build REST"))
    for name, (code, said) in _everything(seed_repo, coord).items():
        assert code == 1, (name, said)
        assert f"{TASKS}:1:1: the file is 3,550 bytes, more than the limit of 3,000 bytes" in said, (name, said)


def test_a_list_past_the_record_limit(seed_repo: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "MAX_RECORDS", 2)
    runs = _everything(seed_repo, coord)
    assert runs["validate"][0] == 1
    assert "$.instances: too many records: 6 is more than the limit of 2" in runs["validate"][1]
    assert runs["task add"][0] == 1
    assert "$.pending_tasks: too many records: 3 is more than the limit of 2" in runs["task add"][1]


@pytest.mark.parametrize(
    "args",
    [
        ["health", "--now", "9999-12-31T23:59:59-01:00"],
        ["archive", "--dry-run", "--before", "0001-01-01T00:00:00+01:00"],
        ["archive", "--dry-run", "--older-than", "99999999999"],
    ],
)
def test_moments_past_the_calendar_are_refused(seed_repo: Path, coord: Coord, args: list[str]) -> None:
    result = coord(seed_repo, "--as", "instance-1", *args)
    assert result.code == 2, result  # a moment no command can use: a usage error naming the option
    assert "error: --" in result.err
