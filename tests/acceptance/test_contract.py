"""The JSON contract: every command given --json prints one envelope that the published schema accepts.

Each command runs against a real repository (the specification's example, with a bare remote),
once where it succeeds and once where it is refused or fails, where it can be; click's own
usage errors come as JSON too. The schema is the package's `schemas/output.json`, checked by
Python's jsonschema (the oracle), with the store's schemas it refers to.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import referencing
from testing.repos import git
from testing.repos import make_repo
from tests.conftest import Coord
from tests.conftest import Result

from gitcoord import model
from gitcoord import schemas
from gitcoord.cli.base import cli
from gitcoord.errors import KINDS

Setup = Callable[[Coord, Path], Any]


def _validator() -> jsonschema.Draft202012Validator:
    names = ("output.json", schemas.COMMON, *model.FILES)
    resources = [(schemas.document(n)["$id"], referencing.Resource.from_contents(schemas.document(n))) for n in names]
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(resources)
    return jsonschema.Draft202012Validator(schemas.document("output.json"), registry=registry)


VALIDATOR = _validator()


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _leaves(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def json_commands() -> list[str]:
    return sorted(" ".join(path) for path, command in _leaves(cli) if any(p.name == "as_json" for p in command.params))


# Setting up ----------------------------------------------------------------------------------

_TEMPLATE: dict[str, Path] = {}


@pytest.fixture
def world(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, coord: Coord) -> Path:
    """The specification's example in a clone of a bare remote, pushed: built once, copied for each test."""
    if "base" not in _TEMPLATE:
        base = tmp_path_factory.mktemp("contract")
        git(base, "init", "-q", "--bare", "-b", "main", "remote.git")
        repo = make_repo(base / "repo")
        git(repo, "remote", "add", "origin", str(base / "remote.git"))
        assert coord(repo, "init", "--example").code == 0
        assert coord(repo, "--as", "human", "sync").code == 0
        _TEMPLATE["base"] = base
    shutil.copytree(_TEMPLATE["base"], tmp_path / "world", symlinks=True)
    repo = tmp_path / "world" / "repo"
    git(repo, "remote", "set-url", "origin", str(tmp_path / "world" / "remote.git"))
    return repo


def _ok(coord: Coord, repo: Path, *args: str) -> str:
    result = coord(repo, *args)
    assert result.code == 0, result
    return result.out.strip()


def _new_task(coord: Coord, repo: Path, who: str = "instance-1") -> str:
    return _ok(coord, repo, "--as", who, "task", "add", "Write the contract", "--deliverable", "README.md")


def _offered(coord: Coord, repo: Path) -> str:
    task = _new_task(coord, repo, "instance-2")
    _ok(coord, repo, "--as", "instance-2", "task", "assign", task, "instance-1")
    return task


def _held(coord: Coord, repo: Path) -> str:
    task = _new_task(coord, repo)
    _ok(coord, repo, "--as", "instance-1", "task", "claim", task)
    return task


def _started(coord: Coord, repo: Path) -> str:
    task = _held(coord, repo)
    _ok(coord, repo, "--as", "instance-1", "task", "start", task)
    return task


def _question(coord: Coord, repo: Path) -> str:
    return _ok(
        coord, repo, "--as", "instance-1", "msg", "send", "--to", "instance-2", "--subject", "Q", "--body", "?",
        "--requires-response",
    )  # fmt: skip


def _answered(coord: Coord, repo: Path) -> str:
    asked = _question(coord, repo)
    _ok(coord, repo, "--as", "instance-2", "msg", "reply", asked, "--body", "yes")
    return asked


def _keyed(coord: Coord, repo: Path, who: str = "instance-1") -> None:
    _ok(coord, repo, "install", "--as", who)


def _public_key(coord: Coord, repo: Path) -> str:
    _keyed(coord, repo)
    shown = json.loads(_ok(coord, repo, "key", "show", "--json"))
    git(repo, "config", "--unset", "coord.instance")
    key: str = shown["data"]["signing_key"]
    return key


def _corrupt(coord: Coord, repo: Path) -> None:
    """A hand edit that breaks the schema, in the worktree `coord edit` opens on the store's branch."""
    _ok(coord, repo, "edit")
    path = repo / ".coord-edit" / "coordination" / "task-queue.json"
    path.write_text(path.read_text().replace('"priority": "high"', '"priority": "urgent"', 1))


def _human_signing_store(coord: Coord, repo: Path) -> None:
    """A store with no instances, where the human's key is published: ready to require signatures."""
    fresh = make_repo(repo.parent / "fresh")
    _ok(coord, fresh, "init")
    _ok(coord, fresh, "install", "--as", "human")
    _ok(coord, fresh, "key", "publish")


def _same_branch_store(coord: Coord, repo: Path) -> None:
    """A store kept on its code branch, as older stores are: ready to move to a branch of its own."""
    _ok(coord, make_repo(repo.parent / "older"), "init", "--branch", "main", "--example")


# What each command is given: (set-up, arguments) for a success and, where one exists, a failure.
# The set-up returns what `{}` in the arguments stands for (a new task's id, ...).
Case = tuple[Setup | None, list[str]]
Failure = tuple[Setup | None, list[str], str]  # and the error's kind


def _reclaimed(coord: Coord, repo: Path) -> None:
    _ok(coord, repo, "--as", "human", "reclaim")


H, I1, I2 = ["--as", "human"], ["--as", "instance-1"], ["--as", "instance-2"]

CASES: dict[str, tuple[Case, Failure | None]] = {
    "archive": ((None, [*H, "archive", "--dry-run"]), (None, [*H, "archive", "--before", "soon"], "usage")),
    "briefing": ((None, [*I1, "briefing"]), (None, ["--as", "", "briefing"], "failed")),
    "check": ((None, ["check", "--range", "HEAD..HEAD"]), (None, ["check", "--range", "nonsense"], "usage")),
    "checkin": ((None, [*I1, "checkin"]), (None, ["--as", "nobody", "checkin"], "refused")),
    "checkout": ((None, [*I1, "checkout"]), (None, ["--as", "nobody", "checkout"], "refused")),
    "decision assign": ((None, [*H, "decision", "assign", "dec_002", "instance-1"]), (None, [*I1, "decision", "assign", "dec_002", "instance-1"], "refused")),
    "decision decide": ((None, [*H, "decision", "decide", "dec_002", "--option", "REST API", "--rationale", "r", "--force"]), (None, [*I1, "decision", "decide", "dec_002", "--option", "REST API", "--rationale", "r"], "refused")),
    "decision input": ((None, [*I1, "decision", "input", "dec_002", "--option", "REST API"]), (None, [*I1, "decision", "input", "dec_002", "--option", "SOAP"], "refused")),
    "decision list": ((None, ["decision", "list", "--all"]), None),
    "decision note": ((None, [*H, "decision", "note", "dec_001", "--text", "t"]), (None, [*I1, "decision", "note", "dec_001", "--text", "t"], "refused")),
    "decision pr": ((None, ["decision", "pr", "--range", "HEAD..HEAD"]), (None, ["decision", "pr", "--range", "HEAD"], "usage")),
    "decision propose": ((None, [*I1, "decision", "propose", "T", "--option", "a", "--option", "b"]), (None, [*I1, "decision", "propose", "T", "--option", "a"], "refused")),
    "decision show": ((None, ["decision", "show", "dec_002"]), (None, ["decision", "show", "dec_999"], "not_found")),
    "doctor": ((None, [*I1, "doctor"]), (None, ["doctor"], "check_failed")),
    "edit": ((None, ["edit"]), (None, ["edit", "--done"], "not_found")),
    "escalate": ((None, [*I1, "escalate", "dec_002", "--reason", "stuck"]), (None, [*I1, "escalate", "nothing", "--reason", "r"], "refused")),
    "health": ((None, [*H, "health", "--now", "2024-01-15T12:00:00Z"]), (None, ["health"], "check_failed")),
    "inbox": ((None, [*I1, "inbox"]), (None, ["--as", "", "inbox"], "failed")),
    "init": ((None, ["init"]), (None, ["init", "--human-key", "not a key"], "failed")),
    "install": ((None, ["install"]), (None, ["install", "--server"], "failed")),
    "key publish": ((_keyed, ["key", "publish"]), (None, [*I1, "key", "publish"], "failed")),
    "key require": ((_human_signing_store, ["-C", "../fresh", "key", "require"]), (None, [*H, "key", "require"], "refused")),
    "key rotate": ((_keyed, ["key", "rotate"]), (None, [*I1, "key", "rotate"], "failed")),
    "key set": ((_public_key, [*H, "key", "set", "instance-1", "{}"]), (None, [*H, "key", "set", "instance-1", "nonsense"], "refused")),
    "key show": ((None, [*I1, "key", "show"]), None),
    "log": ((None, ["log"]), None),
    "defer": ((_offered, [*I1, "defer", "{}", "--reason", "after the review"]), (None, [*I1, "defer", "task_999", "--reason", "r"], "not_found")),
    "migrate": ((_same_branch_store, ["-C", "../older", *H, "migrate", "--branch", "coord"]), (None, [*H, "migrate", "--branch", "coord"], "refused")),
    "msg ack": ((_answered, [*I1, "msg", "ack", "{}"]), (_question, [*I2, "msg", "ack", "{}"], "refused")),
    "msg list": ((None, [*I1, "msg", "list", "--all"]), None),
    "msg reply": ((_question, [*I2, "msg", "reply", "{}", "--body", "b"]), (_question, [*I1, "msg", "reply", "{}", "--body", "b"], "refused")),
    "msg send": ((None, [*I1, "msg", "send", "--to", "instance-2", "--subject", "s", "--body", "b"]), (None, [*I1, "msg", "send", "--to", "nobody", "--subject", "s", "--body", "b"], "refused")),
    "msg show": ((_answered, [*I1, "msg", "show", "{}", "--ack"]), (None, ["msg", "show", "msg_999"], "not_found")),
    "next": ((_offered, [*I1, "next", "--all"]), (None, ["--as", "", "next"], "failed")),
    "news": ((None, [*I1, "news"]), (None, ["--as", "", "news"], "failed")),
    "reclaim": ((None, [*H, "reclaim"]), (_reclaimed, [*H, "reclaim"], "refused")),
    "register": ((None, [*H, "register", "instance-7", "--role", "tester"]), (None, [*H, "register", "bad name", "--role", "r"], "refused")),
    "resolve": ((None, ["resolve"]), (None, ["resolve", "task_001", "status", "--pick", "1"], "not_found")),
    "show": ((None, ["show", "task-queue.json"]), (None, ["show", "notes.txt"], "usage")),
    "status": ((None, ["status"]), None),
    "sync": ((None, [*I1, "sync"]), (None, [*I1, "-C", "..", "sync"], "git")),
    "task accept": ((_offered, [*I1, "task", "accept", "{}"]), (_offered, [*I2, "task", "accept", "{}"], "refused")),
    "task add": ((None, [*I1, "task", "add", "T", "--depends", "task_001"]), (None, [*I1, "task", "add", "T", "--depends", "task_999"], "not_found")),
    "task assign": ((_new_task, [*I1, "task", "assign", "{}", "instance-2"]), (None, [*I1, "task", "assign", "task_001", "instance-2"], "refused")),
    "task block": ((_held, [*I1, "task", "block", "{}", "--reason", "r"]), (_held, [*I2, "task", "block", "{}", "--reason", "r"], "refused")),
    "task cancel": ((_new_task, [*I1, "task", "cancel", "{}", "--reason", "r"]), (_new_task, [*I2, "task", "cancel", "{}", "--reason", "r"], "refused")),
    "task claim": ((_new_task, [*I2, "task", "claim", "{}"]), (None, [*I1, "task", "claim", "task_002"], "refused")),
    "task complete": ((_started, [*I1, "task", "complete", "{}"]), (_held, [*I1, "task", "complete", "{}"], "refused")),
    "task decline": ((_offered, [*I1, "task", "decline", "{}", "--reason", "busy"]), (_offered, [*I2, "task", "decline", "{}", "--reason", "r"], "refused")),
    "task edit": ((_new_task, [*I1, "task", "edit", "{}", "--due", "+2d", "--expertise", "api"]), (None, [*I1, "task", "edit", "task_001", "--title", "T"], "refused")),
    "task list": ((None, ["task", "list"]), None),
    "task ready": ((None, [*I1, "task", "ready", "--mine"]), (None, ["--as", "", "task", "ready", "--mine"], "failed")),
    "task release": ((_held, [*I1, "task", "release", "{}", "--reason", "r"]), (_new_task, [*I1, "task", "release", "{}", "--reason", "r"], "refused")),
    "task show": ((None, ["task", "show", "task_002"]), (None, ["task", "show", "task_999"], "not_found")),
    "task start": ((_held, [*I1, "task", "start", "{}"]), (None, [*I1, "task", "start", "task_002"], "refused")),
    "validate": ((None, ["validate"]), (_corrupt, ["-C", ".coord-edit", "validate"], "check_failed")),
    "wait": ((_offered, [*I1, "wait", "--offer", "--timeout", "5"]), (None, [*I1, "wait", "--offer", "--timeout", "0.3", "--interval", "0.1"], "timed_out")),
    "whoami": ((None, [*I1, "whoami"]), (None, ["--as", "", "whoami"], "failed")),
}  # fmt: skip


def test_every_json_command_has_its_cases_and_its_shape_in_the_schema() -> None:
    assert sorted(CASES) == json_commands()
    shaped = [part["if"]["properties"]["command"]["const"] for part in schemas.document("output.json")["allOf"][1:]]
    assert sorted(shaped) == json_commands()


def _run(coord: Coord, repo: Path, case: Case) -> Result:
    setup, args = case
    made = setup(coord, repo) if setup else None
    given = [a.replace("{}", str(made)) for a in args]  # a -C in them is relative to the repository, as git's
    return coord(repo, *given, "--json")


def _envelope(result: Result, command: str) -> dict[str, Any]:
    assert result.out.count("\n") == 1, f"one line of JSON on stdout\n{result}"
    envelope: dict[str, Any] = json.loads(result.out)
    errors = sorted(VALIDATOR.iter_errors(envelope), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors) + f"\n{result}"
    assert envelope["command"] == command
    assert envelope["ok"] is (result.code == 0)
    if result.code:
        assert envelope["error"]["exit_code"] == result.code
    assert result.err == "", "with --json nothing goes to stderr"
    return envelope


@pytest.mark.parametrize("command", sorted(CASES))
def test_a_success_is_one_envelope_the_schema_accepts(command: str, world: Path, coord: Coord) -> None:
    envelope = _envelope(_run(coord, world, CASES[command][0]), command)
    assert envelope["ok"], envelope
    assert envelope["data"] is not None


@pytest.mark.parametrize("command", sorted(c for c, (_, fails) in CASES.items() if fails))
def test_a_failure_is_one_envelope_with_its_kind(command: str, world: Path, coord: Coord) -> None:
    failure = CASES[command][1]
    assert failure is not None
    setup, args, kind = failure
    envelope = _envelope(_run(coord, world, (setup, args)), command)
    assert not envelope["ok"]
    assert kind in KINDS
    assert envelope["error"]["kind"] == kind, envelope["error"]


@pytest.mark.parametrize("command", json_commands())
def test_a_usage_error_is_an_envelope_too(command: str, world: Path, coord: Coord) -> None:
    result = coord(world, *command.split(), "--no-such-option", "--json")
    assert result.code == 2
    envelope = _envelope(result, command)
    assert envelope["error"]["kind"] == "usage"
    assert "--no-such-option" in envelope["error"]["message"]


def test_json_before_the_command_asks_for_json_as_after_it(world: Path, coord: Coord) -> None:
    after = _envelope(coord(world, "task", "show", "task_001", "--json"), "task show")
    before = _envelope(coord(world, "--json", "task", "show", "task_001"), "task show")
    assert before == after
    refused = _envelope(coord(world, "--as", "instance-1", "--json", "task", "claim", "task_999"), "task claim")
    assert refused["error"]["kind"] == "not_found"


def test_json_before_a_command_that_prints_none_is_a_usage_error_not_an_empty_envelope(
    world: Path, coord: Coord
) -> None:
    result = coord(world, "--json", "board", "--html", str(world / "board.html"))
    envelope = _envelope(result, "board")
    assert (result.code, envelope["error"]["kind"]) == (2, "usage")
    assert "prints no JSON" in envelope["error"]["message"]
    assert not (world / "board.html").exists(), "nothing was done"


@pytest.mark.parametrize("name", ["../../x", "/tmp/x", ".hidden", "a" * 65, "two words"])
def test_an_acting_name_that_is_no_instance_name_is_a_usage_error_and_writes_nothing(
    world: Path, coord: Coord, name: str
) -> None:
    before = sorted(p for p in (world / ".git").rglob("*") if p.is_file())
    result = coord(world, "--as", name, "news", "--json")
    envelope = _envelope(result, "news")
    assert (result.code, envelope["error"]["kind"]) == (2, "usage")
    assert "is not an instance name" in envelope["error"]["message"]
    assert sorted(p for p in (world / ".git").rglob("*") if p.is_file()) == before
