"""Nothing an agent says is lost: repeats refused, notes kept, edits, long text from files, times, short ids."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from testing.repos import commit_all
from testing.repos import git
from tests.conftest import Coord
from tests.conftest import Result


def _json(result: Result) -> Any:
    assert result.out.count("\n") == 1, result
    return json.loads(result.out)


def _ok(coord: Coord, repo: Path, *args: str, stdin: str | None = None) -> Any:
    result = coord(repo, *args, "--json", stdin=stdin)
    assert result.code == 0, result
    return _json(result)


def _usage(coord: Coord, repo: Path, *args: str) -> str:
    """A usage error (exit 2) that commits nothing; its message."""
    head = git(repo, "rev-parse", "HEAD")
    result = coord(repo, *args)
    assert result.code == 2, result
    assert git(repo, "rev-parse", "HEAD") == head
    return result.err


def _task(coord: Coord, repo: Path, task_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = _ok(coord, repo, "task", "show", task_id)["data"]
    return shown


def _add(coord: Coord, repo: Path, who: str = "instance-1", *more: str) -> str:
    task: str = _ok(coord, repo, "--as", who, "task", "add", "Write it", *more)["data"]["task_id"]
    return task


# Repeats -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        [
            "msg",
            "send",
            "--to",
            "instance-2",
            "--subject",
            "s",
            "--body",
            "b",
            "--task",
            "task_001",
            "--task",
            "task_002",
        ],
        ["msg", "send", "--to", "instance-2", "--subject", "s", "--subject=t", "--body", "b"],
        ["task", "add", "T", "--priority", "high", "--priority", "low"],
        ["decision", "list", "--pending", "--all"],
        ["task", "complete", "task_001", "--sync", "--no-sync"],
    ],
)
def test_a_one_value_option_given_twice_is_refused(seed_repo: Path, coord: Coord, args: list[str]) -> None:
    said = _usage(coord, seed_repo, "--as", "instance-1", *args)
    assert "give it once" in said or "give one of them" in said


def test_an_option_value_that_looks_like_an_option_is_a_value(seed_repo: Path, coord: Coord) -> None:
    sent = _ok(
        coord,
        seed_repo,
        "--as",
        "instance-1",
        "msg",
        "send",
        "--to",
        "instance-2",
        "--subject",
        "--task",
        "--body",
        "--task",
    )
    assert (sent["data"]["record"]["subject"], sent["data"]["record"]["message"]) == ("--task", "--task")


def test_a_repeated_minus_c_is_relative_to_the_one_before_as_in_git(seed_repo: Path, coord: Coord) -> None:
    (seed_repo / "sub").mkdir()
    assert coord(seed_repo.parent, "-C", seed_repo.name, "-C", "sub", "status").code == 0


# task complete --note --commit ---------------------------------------------------------------


def test_complete_keeps_the_note_and_the_commit_and_looks_for_the_deliverables(seed_repo: Path, coord: Coord) -> None:
    task = _add(coord, seed_repo, "instance-1", "--deliverable", "docs/api.md", "--deliverable", "/src/app.py")
    _ok(coord, seed_repo, "--as", "instance-1", "task", "claim", task[:10])
    _ok(coord, seed_repo, "--as", "instance-1", "task", "start", task)
    (seed_repo / "docs").mkdir()
    (seed_repo / "docs" / "api.md").write_text("the API\n")
    work = commit_all(seed_repo, "the API")
    done = _ok(
        coord,
        seed_repo,
        "--as",
        "instance-1",
        "task",
        "complete",
        task,
        "--note-file",
        "-",
        "--commit",
        "HEAD",
        stdin="documented\n",
    )
    assert done["data"]["record"]["status"] == "completed"
    [note] = _task(coord, seed_repo, task)["notes"]
    assert note == {"from": "instance-1", "at": note["at"], "text": "documented\n", "commit": work}
    assert done["notes"] == [f"not in {work[:12]}: /src/app.py (deliverables of {task})"]


def test_a_commit_this_clone_lacks_is_kept_with_a_warning(seed_repo: Path, coord: Coord) -> None:
    result = coord(seed_repo, "--as", "instance-2", "task", "complete", "task_001", "--commit", "ABCDEF1234")
    assert result.code == 0, result
    assert "note: commit ABCDEF1234 is not in this clone" in result.err
    assert _task(coord, seed_repo, "task_001")["notes"][0]["commit"] == "abcdef1234"
    assert "names no commit" in _usage(
        coord, seed_repo, "--as", "instance-2", "task", "complete", "task_001", "--commit", "main~9"
    )


# task edit ------------------------------------------------------------------------------------


def test_the_creator_edits_a_task_and_the_rulebook_judges_who_may(
    seed_repo: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COORD_NOW", "2024-01-15T12:00:00Z")
    task = _add(coord, seed_repo, "instance-1", "--depends", "task_001", "--expertise", "api")
    edited = _ok(
        coord, seed_repo, "--as", "instance-1", "task", "edit", task, "--title", "Write it well", "--due", "+2d",
        "--no-depends", "task_001", "--depends", "002", "--expertise", "docs", "--no-expertise", "api", "--suggest", "instance-2",
    )  # fmt: skip
    record = edited["data"]["record"]
    assert (record["title"], record["due"], record["dependencies"]) == (
        "Write it well",
        "2024-01-17T12:00:00Z",
        ["task_002"],
    )
    assert (record["required_expertise"], record["suggested_assignee"]) == (["docs"], "instance-2")
    assert edited["data"]["event"] == "task.edit"
    assert git(seed_repo, "log", "-1", "--format=%s").startswith("coord(task): instance-1 edits")
    # Someone who neither created nor holds it may not; its holder may edit details, not the suggestion.
    refused = coord(seed_repo, "--as", "instance-2", "task", "edit", task, "--title", "Mine now")
    assert refused.code == 1
    assert "its creator (instance-1)" in refused.err
    assert (
        "nothing to change"
        in coord(seed_repo, "--as", "instance-1", "task", "edit", task, "--title", "Write it well").err
    )
    assert "contradict" in _usage(
        coord, seed_repo, "--as", "instance-1", "task", "edit", task, "--due", "+1d", "--no-due"
    )
    assert (
        _ok(coord, seed_repo, "--as", "instance-1", "task", "edit", task, "--no-due", "--no-suggest")["data"]["record"][
            "due"
        ]
        is None
    )


def test_an_edit_that_makes_a_dependency_cycle_is_refused(seed_repo: Path, coord: Coord) -> None:
    first = _add(coord, seed_repo)
    second = _add(coord, seed_repo, "instance-1", "--depends", first)
    result = coord(seed_repo, "--as", "instance-1", "task", "edit", first, "--depends", second, "--json")
    assert result.code == 1
    error = _json(result)["error"]
    assert error["kind"] == "refused"
    assert "cycle" in error["message"]


def test_a_holder_edits_neither_the_details_nor_whom_it_is_suggested_for(seed_repo: Path, coord: Coord) -> None:
    for option in (("--priority", "low"), ("--suggest", "instance-1")):
        refused = coord(seed_repo, "--as", "instance-2", "task", "edit", "task_001", *option)
        assert refused.code == 1, refused
        assert "instance-2 may not change its" in refused.err, refused
    _ok(coord, seed_repo, "--as", "human", "task", "edit", "task_001", "--priority", "low")


# decision note --------------------------------------------------------------------------------


def test_a_decision_note_is_appended_by_those_the_rulebook_names(seed_repo: Path, coord: Coord) -> None:
    _ok(
        coord, seed_repo, "--as", "human", "decision", "note", "dec_001", "--text-file", "-", stdin="revisit in March\n"
    )
    refused = coord(seed_repo, "--as", "instance-3", "decision", "note", "dec_001", "--text", "mine")
    assert refused.code == 1
    notes = _ok(coord, seed_repo, "decision", "show", "dec_001")["data"]["notes"]
    assert [(n["from"], n["text"]) for n in notes] == [("human", "revisit in March\n")]


# Long text from files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["task", "add", "T", "--description-file", "-"], ("record", "description")),
        (["task", "block", "task_001", "--reason-file", "-"], ("record", "status_reason")),
        (["decision", "input", "dec_002", "--option", "REST API", "--comment-file", "-"], ("record", "comment")),
        (["msg", "send", "--to", "instance-1", "--subject", "s", "--body-file", "-"], ("record", "message")),
    ],
)
def test_every_long_text_has_a_file_twin_reading_stdin(
    seed_repo: Path, coord: Coord, args: list[str], field: tuple[str, str]
) -> None:
    text = "line one\n'quoted' $(not run) `either`\n"
    who = "instance-2" if "task_001" in args else "instance-1"
    data = _ok(coord, seed_repo, "--as", who, *args, stdin=text)["data"]
    assert data[field[0]][field[1]] == text


def test_a_text_and_its_file_together_are_refused(seed_repo: Path, coord: Coord, tmp_path: Path) -> None:
    (tmp_path / "why.txt").write_text("because")
    said = _usage(
        coord,
        seed_repo,
        "--as",
        "instance-2",
        "task",
        "block",
        "task_001",
        "--reason",
        "x",
        "--reason-file",
        str(tmp_path / "why.txt"),
    )
    assert "not both" in said
    assert "cannot read" in _usage(
        coord, seed_repo, "--as", "instance-2", "task", "block", "task_001", "--reason-file", str(tmp_path / "none")
    )


# Times ----------------------------------------------------------------------------------------


@pytest.fixture
def two_hours_east(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "EAST-2")  # POSIX: two hours ahead of UTC, no summer time
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("two_hours_east")
@pytest.mark.parametrize(
    ("given", "due"),
    [
        ("+2h", "2024-01-15T12:00:00Z"),
        ("+90m", "2024-01-15T11:30:00Z"),
        ("+3d", "2024-01-18T10:00:00Z"),
        ("+1d12h", "2024-01-16T22:00:00Z"),
        ("2024-01-16T18:00", "2024-01-16T16:00:00Z"),
        ("2024-01-16 18:00:30", "2024-01-16T16:00:30Z"),
        ("2024-01-16 18:00-05:00", "2024-01-16T23:00:00Z"),
        ("2024-01-16T18:00:00+01:00", "2024-01-16T17:00:00Z"),
        ("2024-01-16T18:00:00Z", "2024-01-16T18:00:00Z"),
    ],
)
def test_due_takes_relative_and_local_times(
    seed_repo: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch, given: str, due: str
) -> None:
    monkeypatch.setenv("COORD_NOW", "2024-01-15T10:00:00Z")
    added = _ok(coord, seed_repo, "--as", "instance-1", "task", "add", "T", f"--due={given}")
    assert added["data"]["record"]["due"] == due


@pytest.mark.parametrize(
    "option",
    [["task", "add", "T", "--due"], ["decision", "propose", "T", "--option", "a", "--option", "b", "--deadline"]],
)
def test_a_time_no_one_can_read_is_a_usage_error_naming_the_option(
    seed_repo: Path, coord: Coord, option: list[str]
) -> None:
    result = coord(seed_repo, "--as", "instance-1", *option, "next tuesday", "--json")
    assert result.code == 2
    error = _json(result)["error"]
    assert error["kind"] == "usage"
    assert error["message"].startswith(f"{option[-1]} 'next tuesday': not a time")


@pytest.mark.parametrize(
    ("words", "said"),
    [
        (["task", "add", ""], "'TITLE': must not be empty"),
        (["task", "add", "   "], "'TITLE': must not be empty"),
        (["task", "add", "x" * 201], "'TITLE': is 201 characters long; a title has at most 200"),
        (["task", "edit", "task_002", "--title", ""], "'--title': must not be empty"),
        (["decision", "propose", "", "--option", "a", "--option", "b"], "'TITLE': must not be empty"),
    ],
)
def test_a_title_the_schema_would_refuse_is_a_usage_error(
    seed_repo: Path, coord: Coord, words: list[str], said: str
) -> None:
    before = git(seed_repo, "rev-parse", "HEAD")
    result = coord(seed_repo, "--as", "instance-1", *words, "--json")
    assert result.code == 2, result
    error = _json(result)["error"]
    assert error["kind"] == "usage"
    assert said in error["message"], error
    assert git(seed_repo, "rev-parse", "HEAD") == before, "nothing committed"


# Ids given in part ----------------------------------------------------------------------------


def test_a_unique_start_of_an_id_names_the_record(seed_repo: Path, coord: Coord) -> None:
    assert _task(coord, seed_repo, "task_002")["task_id"] == "task_002"
    first = _add(coord, seed_repo)
    assert _task(coord, seed_repo, first[:-2])["task_id"] == first
    assert _task(coord, seed_repo, first[len("task_") : -2])["task_id"] == first, "the prefix task_ may be left off"
    second = _add(coord, seed_repo, "instance-1", "--depends", first[:-1])
    assert _task(coord, seed_repo, second)["dependencies"] == [first]
    assert _ok(coord, seed_repo, "decision", "show", "002")["data"]["decision_id"] == "dec_002"


def test_an_ambiguous_start_is_a_usage_error_listing_the_candidates(seed_repo: Path, coord: Coord) -> None:
    result = coord(seed_repo, "task", "show", "task_00", "--json")
    assert result.code == 2
    error = _json(result)["error"]
    assert (error["kind"], error["candidates"]) == ("usage", ["task_001", "task_002", "task_003"])
    assert "give more of it" in error["message"]
    missing = _json(coord(seed_repo, "task", "show", "task_9", "--json"))["error"]
    assert (missing["kind"], missing["record"]) == ("not_found", "task_9")


# msg show --ack -------------------------------------------------------------------------------


def test_reading_a_notice_commits_nothing_unless_acknowledged(seed_repo: Path, coord: Coord) -> None:
    sent = _ok(
        coord, seed_repo, "--as", "instance-1", "msg", "send", "--to", "instance-2", "--subject", "FYI", "--body", "b"
    )
    notice = sent["data"]["message_id"]
    head = git(seed_repo, "rev-parse", "HEAD")
    shown = _ok(coord, seed_repo, "--as", "instance-2", "msg", "show", notice)
    assert git(seed_repo, "rev-parse", "HEAD") == head
    assert shown["data"]["status"] == "sent"
    assert "--ack" in shown["notes"][0]
    acked = _ok(coord, seed_repo, "--as", "instance-2", "msg", "show", notice[:-3], "--ack")
    assert acked["data"]["status"] == "acknowledged"
    assert acked["data"]["ack"]["event"] == "msg.ack"
    assert acked["data"]["ack"]["commit"] == git(seed_repo, "rev-parse", "HEAD")
    again = _ok(
        coord, seed_repo, "--as", "instance-1", "msg", "send", "--to", "instance-2", "--subject", "2", "--body", "b"
    )
    said = coord(seed_repo, "--as", "instance-2", "msg", "show", again["data"]["message_id"], "--ack")
    assert said.code == 0, said
    assert f"(main {git(seed_repo, 'rev-parse', 'HEAD')[:12]})" in said.err, "the step's own line, as every step has"
