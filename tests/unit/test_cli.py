"""The command line: every command wired to exactly its function, and `coord --help` starting fast."""

from __future__ import annotations

import importlib
import inspect
import io
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from gitcoord.cli import main
from gitcoord.cli.base import cli

# Each leaf command, the function it hands its arguments to, and the fewest arguments it takes.
WIRING: dict[tuple[str, ...], tuple[str, list[str]]] = {
    ("archive",): ("gitcoord.commands.archive:archive", []),
    ("board",): ("gitcoord.commands.board:board", ["--html", "board.html"]),
    ("check",): ("gitcoord.commands.check:check", []),
    ("briefing",): ("gitcoord.commands.registry:briefing", []),
    ("checkin",): ("gitcoord.commands.registry:checkin", []),
    ("checkout",): ("gitcoord.commands.registry:checkout", []),
    ("decision", "assign"): ("gitcoord.commands.decisions:assign", ["D", "I"]),
    ("decision", "decide"): ("gitcoord.commands.decisions:decide", ["D", "--option", "a", "--rationale", "r"]),
    ("decision", "input"): ("gitcoord.commands.decisions:give_input", ["D", "--option", "a"]),
    ("decision", "list"): ("gitcoord.commands.reads:decisions", []),
    ("decision", "note"): ("gitcoord.commands.decisions:note", ["D", "--text", "t"]),
    ("decision", "pr"): ("gitcoord.commands.decision_pr:decision_pr", ["--range", "a..b"]),
    ("decision", "propose"): ("gitcoord.commands.decisions:propose", ["T"]),
    ("decision", "show"): ("gitcoord.commands.reads:decision", ["D"]),
    ("defer",): ("gitcoord.commands.agent:defer", ["M", "--reason", "r"]),
    ("demo",): ("gitcoord.commands.demo:demo", []),
    ("edit",): ("gitcoord.commands.branch:edit", []),
    ("migrate",): ("gitcoord.commands.branch:migrate", ["--branch", "coord"]),
    ("show",): ("gitcoord.commands.branch:show", ["task-queue.json"]),
    ("doctor",): ("gitcoord.commands.doctor:doctor", []),
    ("escalate",): ("gitcoord.commands.decisions:escalate", ["T", "--reason", "r"]),
    ("health",): ("gitcoord.commands.health:health", []),
    ("hook", "pre-receive"): ("gitcoord.commands.hook:pre_receive", []),
    ("hook", "session-start"): ("gitcoord.commands.agent_hooks:run", []),
    ("hook", "prompt-submit"): ("gitcoord.commands.agent_hooks:run", []),
    ("hook", "post-tool-use"): ("gitcoord.commands.agent_hooks:run", []),
    ("hook", "stop"): ("gitcoord.commands.agent_hooks:run", []),
    ("key", "publish"): ("gitcoord.commands.key:publish", []),
    ("key", "require"): ("gitcoord.commands.key:require", []),
    ("key", "rotate"): ("gitcoord.commands.key:rotate", []),
    ("key", "set"): ("gitcoord.commands.key:set_key", ["I", "ssh-ed25519 AAAA"]),
    ("key", "show"): ("gitcoord.commands.key:show", []),
    ("hook", "prepare-commit-msg"): ("gitcoord.commands.hook:prepare_commit_msg", ["MSG_FILE"]),
    ("hook", "run"): ("gitcoord.commands.hook:run_checks", ["pre-push", "origin", "URL"]),
    ("inbox",): ("gitcoord.commands.reads:inbox", []),
    ("init",): ("gitcoord.commands.init:init", []),
    ("install",): ("gitcoord.commands.install:install", []),
    ("log",): ("gitcoord.commands.log:log", []),
    ("mcp",): ("gitcoord.commands.mcp_server:serve", []),
    ("merge-driver",): ("gitcoord.driver:merge_paths", ["O", "A", "B", "P"]),
    ("news",): ("gitcoord.commands.agent:news", []),
    ("next",): ("gitcoord.commands.agent:next_step", []),
    ("msg", "ack"): ("gitcoord.commands.messages:ack", ["M"]),
    ("msg", "reply"): ("gitcoord.commands.messages:reply", ["M", "--body", "b"]),
    ("msg", "send"): ("gitcoord.commands.messages:send", ["--to", "x", "--subject", "s", "--body", "b"]),
    ("msg", "show"): ("gitcoord.commands.messages:show", ["M"]),
    ("reclaim",): ("gitcoord.commands.health:reclaim", []),
    ("register",): ("gitcoord.commands.key:register", ["x", "--role", "r"]),
    ("resolve",): ("gitcoord.commands.resolve:resolve", []),
    ("status",): ("gitcoord.commands.status:status", []),
    ("sync",): ("gitcoord.commands.sync:sync", []),
    ("task", "accept"): ("gitcoord.commands.tasks:accept", ["T"]),
    ("task", "add"): ("gitcoord.commands.tasks:add", ["T"]),
    ("task", "assign"): ("gitcoord.commands.tasks:assign", ["T", "I"]),
    ("task", "block"): ("gitcoord.commands.tasks:block", ["T", "--reason", "r"]),
    ("task", "cancel"): ("gitcoord.commands.tasks:cancel", ["T", "--reason", "r"]),
    ("task", "claim"): ("gitcoord.commands.tasks:claim", ["T"]),
    ("msg", "list"): ("gitcoord.commands.reads:messages", []),
    ("task", "complete"): ("gitcoord.commands.tasks:complete", ["T"]),
    ("task", "decline"): ("gitcoord.commands.tasks:decline", ["T", "--reason", "r"]),
    ("task", "edit"): ("gitcoord.commands.tasks:edit", ["T", "--title", "t"]),
    ("task", "list"): ("gitcoord.commands.reads:tasks", []),
    ("task", "ready"): ("gitcoord.commands.reads:ready", []),
    ("task", "release"): ("gitcoord.commands.tasks:release", ["T", "--reason", "r"]),
    ("task", "show"): ("gitcoord.commands.reads:task", ["T"]),
    ("task", "start"): ("gitcoord.commands.tasks:start", ["T"]),
    ("wait",): ("gitcoord.commands.agent:wait", []),
    ("validate",): ("gitcoord.commands.validate:validate", []),
    ("whoami",): ("gitcoord.commands.reads:whoami", []),
}


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _leaves(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_the_table_names_every_command() -> None:
    assert sorted(_leaves(cli)) == sorted(WIRING)


@pytest.mark.parametrize("path", sorted(WIRING), ids=" ".join)
def test_each_command_calls_exactly_its_function(path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    target, args = WIRING[path]
    module_name, _, name = target.partition(":")
    module = importlib.import_module(module_name)
    signature = inspect.signature(getattr(module, name))
    calls: list[inspect.BoundArguments] = []

    def called(*given: Any, **options: Any) -> int:
        calls.append(signature.bind(*given, **options))  # the real function would take these arguments
        return 0

    monkeypatch.setattr(module, name, called)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # what a hook reads, as git would give it
    assert main([*path, *args]) == 0
    assert len(calls) == 1


def test_help_loads_neither_the_store_nor_git_nor_the_schema_library() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gitcoord", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    ours = {m for m in imported if m.startswith("gitcoord")}
    light = {
        "gitcoord",
        "gitcoord.errors",
        "gitcoord.output",
        "gitcoord.escape",
        "gitcoord.hooks",  # the hook table: the stages `coord hook run` takes
        "gitcoord.model",
        "gitcoord.rulebook",
        "gitcoord.timestamps",
    }
    assert ours - light == {m for m in ours if m.startswith("gitcoord.cli")}
    assert "jsonschema" not in imported
    assert not {m for m in imported if m.split(".")[0] in ("mcp", "anyio", "pydantic")}, (
        "only `coord mcp` needs the SDK"
    )


def test_a_bug_leaves_a_private_crash_log_of_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gitcoord.commands import reads

    def bug(**options: Any) -> int:
        raise RuntimeError("a bug in a command")

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(reads, "whoami", bug)
    assert [main(["whoami"]), main(["whoami"])] == [3, 3]
    directory = tmp_path / "state" / "gitcoord"
    logs = sorted(directory.iterdir())
    assert len(logs) == 2, "one file per crash"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert {stat.S_IMODE(log.stat().st_mode) for log in logs} == {0o600}
    assert "RuntimeError: a bug in a command" in logs[0].read_text()
    assert f"details in {logs[0]}" in capsys.readouterr().err


def test_without_xdg_state_home_crash_logs_go_under_the_home_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    from gitcoord.cli import crash_dir

    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    assert crash_dir() == Path.home() / ".local" / "state" / "gitcoord"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-C", "x", "--as", "i", "task", "claim", "T", "--json"], ("task claim", True)),
        (["--as", "i", "--json", "task", "claim", "T"], ("task claim", True)),
        (["--as", "--json", "task", "claim", "T"], ("task claim", False)),  # --as's value
        (["--color=never", "status"], ("status", False)),
        (["--color", "never", "health", "--format", "json"], ("health", True)),
        (["check", "--format=json"], ("check", True)),
        (["nonsense", "--json"], ("", True)),
        (["task"], ("task", False)),
    ],
)
def test_the_command_and_json_are_read_from_the_words(args: list[str], expected: tuple[str, bool]) -> None:
    from gitcoord.cli import invoked

    assert invoked(args) == expected


def test_a_failure_raised_while_handling_another_keeps_its_kind() -> None:
    from gitcoord.errors import FatalError
    from gitcoord.errors import NotFound
    from gitcoord.errors import described

    def wrapping() -> None:
        try:
            raise NotFound("there is no task 'x'", details={"record": "x"})
        except FatalError as e:
            raise FatalError(f"committed, not shared: {e}") from None

    with pytest.raises(FatalError) as wrapped:
        wrapping()
    assert described(wrapped.value) == ("not_found", {"record": "x"})
    assert described(FatalError("plain")) == ("failed", {})


def test_a_bug_under_json_is_an_envelope_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from gitcoord.commands import reads

    def bug(**options: Any) -> int:
        raise RuntimeError("a bug in a command")

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(reads, "whoami", bug)
    assert main(["whoami", "--json"]) == 3
    out, err = capsys.readouterr()
    envelope = json.loads(out)
    assert (envelope["ok"], envelope["command"], envelope["error"]["kind"]) == (False, "whoami", "unexpected")
    assert envelope["error"]["exit_code"] == 3
    assert err == ""


@pytest.mark.parametrize(
    "args", [["--json", "task", "--help"], ["task", "claim", "--help", "--json"], ["--json", "--version"]]
)
def test_help_and_the_version_under_json_are_the_text_alone(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith(("Usage: coord", "coord, version")), out
    assert '"version": 1' not in out, "one document, not the text and an envelope"
