"""The MCP tools: each one a coord command, every protocol step one of them, their schemas read off
the commands, calls that cannot become options, and results as the command printed them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import click
import jsonschema
import pytest
from mcp import Client
from mcp import types

from gitcoord import mcp_tools
from gitcoord import rulebook
from gitcoord.cli import main
from gitcoord.cli.base import cli
from gitcoord.commands import mcp_server
from gitcoord.commands.mcp_server import Ran

TOOLS = mcp_tools.tools(cli)

# The protocol steps an agent must be able to take through MCP alone.
PROTOCOL = [
    ("checkin",),
    ("next",),
    ("news",),
    ("wait",),
    *[("task", step) for step in ("add", "assign", "accept", "decline", "claim", "start", "block")],
    *[("task", step) for step in ("complete", "release", "cancel", "edit")],
    ("msg", "send"),
    ("msg", "reply"),
    ("msg", "ack"),
    ("decision", "propose"),
    ("decision", "input"),
    ("decision", "decide"),
    ("escalate",),
    ("status",),
    ("health",),
]


@pytest.mark.parametrize("path", mcp_tools.COMMANDS, ids=" ".join)
def test_every_tool_is_a_coord_command(path: tuple[str, ...]) -> None:
    assert mcp_tools.find_command(cli, path) is not None, f"coord {' '.join(path)} is not a command"
    assert TOOLS[mcp_tools.tool_name(path)].path == path


@pytest.mark.parametrize("path", PROTOCOL, ids=" ".join)
def test_every_protocol_step_has_a_tool(path: tuple[str, ...]) -> None:
    assert mcp_tools.tool_name(path) in TOOLS


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_each_schema_is_json_schema_and_takes_no_identity(name: str) -> None:
    schema = mcp_tools.input_schema(TOOLS[name])
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert not {"as_instance", "as_json", "no_commit", "sync"} & set(schema["properties"])
    assert not any(p.endswith("_file") for p in schema["properties"]), "a file or stdin, the transport, is no input"
    assert all(p["description"] for p in schema["properties"].values())


def test_choices_and_ranges_are_the_commands_own() -> None:
    assert mcp_tools.input_schema(TOOLS["task_add"])["properties"]["priority"]["enum"] == list(rulebook.PRIORITIES)
    statuses = mcp_tools.input_schema(TOOLS["task_list"])["properties"]["status"]
    assert statuses["items"]["enum"] == list(rulebook.TASK_STATUSES)
    which = mcp_tools.input_schema(TOOLS["decision_list"])["properties"]["which"]
    assert (which["enum"], which["default"]) == (["pending", "decided", "all"], "pending")
    interval = mcp_tools.input_schema(TOOLS["wait"])["properties"]["interval"]
    assert (interval["type"], interval["minimum"], interval["default"]) == ("number", 0.1, 3)


def test_a_wait_is_bounded_and_by_default_short() -> None:
    wait = TOOLS["wait"]
    assert mcp_tools.problems(wait, {"timeout": mcp_tools.WAIT_LONGEST + 1}) == [
        f"timeout: {mcp_tools.WAIT_LONGEST + 1} is greater than the maximum of {mcp_tools.WAIT_LONGEST}"
    ]
    assert mcp_tools.argv(wait, {"offer": True}) == ["wait", "--offer", "--timeout=50", "--json", "--"]
    assert mcp_tools.argv(wait, {"timeout": 2.5})[1] == "--timeout=2.5"


def test_values_stay_values_and_positionals_come_after_the_end_of_options() -> None:
    argv = mcp_tools.argv(
        TOOLS["task_add"],
        {"title": "--as=instance-2", "depends": ["task_001", "-C /"], "description": "--json", "priority": "low"},
    )
    assert argv == [
        "task",
        "add",
        "--description=--json",
        "--priority=low",
        "--depends=task_001",
        "--depends=-C /",
        "--json",
        "--",
        "--as=instance-2",
    ]
    parsed = TOOLS["task_add"].command.make_context("add", argv[2:])
    assert parsed.params["title"] == "--as=instance-2"
    assert parsed.params["as_instance"] is None
    assert parsed.params["depends"] == ("task_001", "-C /")
    assert mcp_tools.argv(TOOLS["msg_send"], {"requires_response": False, "to": "x"})[2:3] == ["--to=x"]
    assert mcp_tools.argv(TOOLS["log"], {"limit": 5})[1:3] == ["-n", "5"], "a short option takes its value apart"


def test_arguments_the_schema_refuses() -> None:
    assert mcp_tools.problems(TOOLS["task_claim"], {}) == ['"task_id" is a required property']
    assert mcp_tools.problems(TOOLS["task_add"], {"title": "t", "priority": "urgent"}) == [
        'priority: "urgent" is not one of "high", "medium" or "low"'
    ]


# Results --------------------------------------------------------------------------------


def _texts(result: types.CallToolResult) -> list[str]:
    return [c.text for c in result.content if isinstance(c, types.TextContent)]


def test_an_answer_is_the_json_as_printed_with_the_notes_beside_it() -> None:
    printed = '{"task_id": "task_001"}\n'
    answer = mcp_server.result(Ran(0, printed, "note: shared with origin\n"))
    assert not answer.is_error
    assert _texts(answer) == ['{"task_id": "task_001"}', "note: shared with origin"]
    assert answer.structured_content == {"task_id": "task_001"}
    assert not mcp_server.result(Ran(4, '{"event": false}', "")).is_error, "a wait that timed out answered"
    unshared = '{"ok": false, "error": {"kind": "not_shared", "exit_code": 5}}'
    assert not mcp_server.result(Ran(5, unshared, "")).is_error, "committed: a retry would make it twice"


def test_a_refusal_carries_the_reason_and_its_kind() -> None:
    said = mcp_server.result(Ran(1, "", "note: fetched\nerror: task_001 is in_progress; claim needs it\n"))
    assert said.is_error
    assert _texts(said) == ["task_001 is in_progress; claim needs it\n(error: failed, exit code 1)", "note: fetched"]
    envelope = {"ok": False, "data": None, "error": {"kind": "refused", "message": "not yours", "exit_code": 1}}
    said = mcp_server.result(Ran(1, json.dumps(envelope), ""))
    assert _texts(said) == ["not yours\n(error: refused, exit code 1)", json.dumps(envelope)]
    assert said.structured_content == envelope
    assert _texts(mcp_server.result(Ran(2, "", "Usage: coord task claim\nError: Missing argument 'TASK'.\n")))[0] == (
        "Usage: coord task claim\nError: Missing argument 'TASK'.\n(error: usage, exit code 2)"
    )


def test_a_command_prints_nothing_on_the_real_stdout(seed_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    ran = mcp_server.run_command(seed_repo, ["status", "--json"])
    assert ran.code == 0
    assert json.loads(ran.out)  # the command's output, captured
    assert capsys.readouterr() == ("", "")


def test_a_bug_is_a_tool_error_and_the_server_serves_on(seed_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gitcoord.commands import reads

    def bug(**options: Any) -> int:
        raise RuntimeError("a bug in a command")

    monkeypatch.setenv("XDG_STATE_HOME", str(seed_repo.parent / "state"))
    monkeypatch.setattr(reads, "whoami", bug)

    async def calls() -> tuple[types.CallToolResult, types.CallToolResult, types.CallToolResult]:
        async with Client(mcp_server.build_server(seed_repo)) as client:
            return (
                await client.call_tool("whoami", {}),
                await client.call_tool("status", {}),
                await client.call_tool("no_such_tool", {}),
            )

    crashed, status, unknown = anyio.run(calls)
    assert crashed.is_error
    assert "unexpected error: this is a bug in gitcoord" in _texts(crashed)[0]
    assert "(error: unexpected, exit code 3)" in _texts(crashed)[0]
    assert not status.is_error
    assert unknown.is_error
    assert _texts(unknown) == ["there is no tool 'no_such_tool'; tools/list names them"]


def test_the_server_needs_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(tmp_path), "mcp"]) == 1
    assert "is not in a git repository" in capsys.readouterr().err


def test_no_tool_is_a_group() -> None:
    assert not any(isinstance(tool.command, click.Group) for tool in TOOLS.values())


def test_the_readme_lists_every_tool() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
    section = readme.split("### The MCP server", 1)[1].split("\n## ", 1)[0]
    assert [name for name in TOOLS if f"`{name}`" not in section] == []


def test_the_tools_that_commit_nothing_are_the_reads() -> None:
    reads = {name for name, tool in TOOLS.items() if not tool.commits}
    assert reads == {
        *("next", "news", "wait", "inbox", "defer", "status", "health", "log", "whoami"),
        *("task_ready", "task_list", "task_show", "msg_list", "decision_list", "decision_show"),
    }


def test_a_nul_character_in_an_argument_is_a_problem_not_a_crash() -> None:
    tool = TOOLS["task_complete"]
    found = mcp_tools.problems(tool, {"task_id": "task_001", "commit": "abc\x00def"})
    assert found == ["commit: contains a NUL character, which no argument may hold"]
