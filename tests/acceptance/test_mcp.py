"""`coord mcp` as an MCP client meets it: the SDK's own client, over a real stdio transport, starting
`python -m gitcoord mcp` in clones of one bare remote, while other clones use the command line."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession
from mcp import StdioServerParameters
from mcp import types
from mcp.client.stdio import stdio_client
from testing.repos import git
from tests.acceptance.test_agent_loop import STORE
from tests.acceptance.test_agent_loop import Team
from tests.conftest import Coord

from gitcoord import mcp_tools
from gitcoord import rulebook
from gitcoord.cli.base import cli


@pytest.fixture
def team(tmp_path: Path, coord: Coord) -> Team:
    return Team(tmp_path, coord, ["instance-2", "instance-1"])


@contextlib.asynccontextmanager
async def connected(clone: Path) -> AsyncIterator[ClientSession]:
    """A session with `coord mcp` started in `clone`, as Claude Code starts it (.mcp.json)."""
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "gitcoord", "mcp"], cwd=str(clone), env=dict(os.environ)
    )
    with (clone.parent / f"{clone.name}-mcp.log").open("a") as log:
        async with stdio_client(server, errlog=log) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session


def served(clone: Path, scenario: Callable[[ClientSession], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        async with connected(clone) as session:
            return await scenario(session)

    return anyio.run(run)


def printed(result: types.CallToolResult, block: int = 0) -> Any:
    content = result.content[block]
    assert isinstance(content, types.TextContent)
    return json.loads(content.text)


def data(result: types.CallToolResult) -> Any:
    assert not result.is_error, result.content
    return unwrapped(printed(result))


def unwrapped(found: Any) -> Any:
    """The command's result: the JSON it printed, or that envelope's data."""
    return found["data"] if isinstance(found, dict) and {"version", "data"} <= found.keys() else found


def said(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


def trailers(repo: Path) -> list[str]:
    """Who made each commit on the store's branch, newest first."""
    return git(repo, "log", "--format=%(trailers:key=Coord-Instance,valueonly)", STORE).split()


def test_the_tools_are_the_commands_with_their_own_parameters(team: Team) -> None:
    async def scenario(session: ClientSession) -> types.ListToolsResult:
        return await session.list_tools()

    listed = {t.name: t for t in served(team.clones["instance-1"], scenario).tools}
    assert set(listed) == set(mcp_tools.tools(cli))
    add = listed["task_add"].input_schema
    assert add["required"] == ["title"]
    assert add["properties"]["priority"]["enum"] == list(rulebook.PRIORITIES)
    assert add["properties"]["depends"] == {
        "description": "A task that must be completed first (repeat for more).",
        "type": "array",
        "items": {"type": "string"},
    }
    assert add["additionalProperties"] is False
    assert listed["wait"].input_schema["properties"]["timeout"]["maximum"] == mcp_tools.WAIT_LONGEST
    assert listed["task_claim"].description.startswith("`coord task claim`: Take TASK myself")
    for tool in listed.values():
        assert not {"as", "as_instance", "json", "as_json"} & set(tool.input_schema["properties"]), tool.name
    assert listed["status"].annotations is not None
    assert listed["status"].annotations.read_only_hint is True
    assert listed["task_claim"].annotations is not None
    assert listed["task_claim"].annotations.read_only_hint is False


def test_an_agent_coordinates_through_the_tools_with_an_agent_at_the_command_line(team: Team) -> None:
    async def scenario(session: ClientSession) -> dict[str, Any]:
        got: dict[str, Any] = {"checkin": data(await session.call_tool("checkin", {}))}
        got["again"] = data(await session.call_tool("checkin", {}))
        got["task"] = data(await session.call_tool("task_add", {"title": "Write the API docs", "priority": "high"}))
        got["claim"] = data(await session.call_tool("task_claim", {"task_id": got["task"]["task_id"]}))
        asked = {"to": "instance-2", "subject": "Schema?", "body": "Which one?", "requires_response": True}
        got["asked"] = data(await session.call_tool("msg_send", asked))
        message = got["asked"]["message_id"]

        async def wait() -> None:
            got["wait"] = data(await session.call_tool("wait", {"reply": message, "timeout": 120, "interval": 0.2}))

        async with anyio.create_task_group() as waiting:
            waiting.start_soon(wait)
            # The same session answers other calls while the wait blocks, and no answer exists yet.
            got["status"] = data(await session.call_tool("status", {}))
            assert "wait" not in got
            reply = [sys.executable, "-m", "gitcoord", "msg", "reply", message, "--body", "The second, with ids."]
            done = await anyio.run_process(reply, cwd=team.clones["instance-2"], check=False)
            assert done.returncode == 0, done.stderr
        return got

    got = served(team.clones["instance-1"], scenario)
    assert (got["checkin"]["instance"], got["checkin"]["committed"]) == ("instance-1", True)
    assert got["again"]["committed"] is False, "one connection, one session: a second check-in only briefs"
    assert got["again"]["session"] == got["checkin"]["session"]
    assert got["task"]["record"]["title"] == "Write the API docs"
    assert got["claim"]["record"]["assigned_to"] == "instance-1"
    assert got["asked"]["record"]["from"] == "instance-1"
    assert got["wait"]["event"] is True
    assert [r["message"] for r in got["wait"]["found"]["replies"]] == ["The second, with ids."]
    assert unwrapped(team.json("instance-2", "task", "show", got["task"]["task_id"]))["assigned_to"] == "instance-1"
    assert trailers(team.remote)[:4] == ["instance-2", "instance-1", "instance-1", "instance-1"], (
        "each step one commit as instance-1, shared; the answer instance-2's"
    )


def test_a_decision_is_proposed_and_made_through_the_tools_with_an_input_from_the_command_line(team: Team) -> None:
    proposal = {"title": "Which store?", "option": ["files", "sqlite"], "input_from": ["instance-2"]}

    async def propose(session: ClientSession) -> Any:
        return data(await session.call_tool("decision_propose", proposal))

    decision = served(team.clones["instance-1"], propose)["decision_id"]
    team("instance-2", "decision", "input", decision, "--option", "files", "--comment", "Diffable.")

    async def decide(session: ClientSession) -> tuple[Any, Any]:
        todo = data(await session.call_tool("next", {"all": True}))
        made = {"decision_id": decision, "option": "files", "rationale": "As instance-2 says."}
        return todo, data(await session.call_tool("decision_decide", made))

    todo, made = served(team.clones["instance-1"], decide)
    [item] = [i for i in todo["items"] if i["id"] == decision]
    assert (item["kind"], item["command"].split()[:4]) == ("decide", ["coord", "decision", "decide", decision])
    assert (made["record"]["decision"], made["record"]["decided_by"]) == ("files", ["instance-1"])
    shown = unwrapped(team.json("instance-2", "decision", "show", decision))
    assert (shown["decision"], shown["inputs"][0]["comment"]) == ("files", "Diffable."), "seen at the command line"


def test_a_refusal_is_a_tool_error_with_the_rules_reason(team: Team) -> None:
    async def scenario(session: ClientSession) -> types.CallToolResult:
        return await session.call_tool("task_claim", {"task_id": "task_001"})  # instance-2's, in progress

    before = git(team.remote, "rev-parse", STORE)
    refused = served(team.clones["instance-1"], scenario)
    assert refused.is_error
    assert said(refused).startswith(
        "task_001 is in_progress; claim needs it pending_assignment (it is held by instance-2)\n(error: "
    )
    assert git(team.remote, "rev-parse", STORE) == before


def test_no_call_acts_as_another_instance(team: Team) -> None:
    team("instance-2", "checkin")  # task_001 is instance-2's, and instance-2 is here: not to be taken back
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("task_release", {"task_id": "task_001", "reason": "mine now", "as": "instance-2"}),
        ("task_release", {"task_id": "task_001", "reason": "--as=instance-2"}),
        ("task_release", {"task_id": "--as=instance-2", "reason": "x"}),
        ("task_start", {"task_id": "task_001 --as instance-2"}),
        ("task_start", {"task_id": ["--as", "instance-2", "task_001"]}),
    ]

    async def scenario(session: ClientSession) -> list[types.CallToolResult]:
        results = [await session.call_tool(name, arguments) for name, arguments in attempts]
        sent = {"to": "instance-2", "subject": "--as=instance-2", "body": "--as instance-2"}
        return [*results, await session.call_tool("msg_send", sent)]

    before = trailers(team.remote)
    *refused, sent = served(team.clones["instance-1"], scenario)
    assert [r.is_error for r in refused] == [True] * len(attempts)
    assert "Additional properties are not allowed ('as' was unexpected)" in said(refused[0])
    assert said(refused[1]).startswith("instance-1 may not release/reclaim it (in_progress -> pending_assignment)")
    assert "there is no task '--as=instance-2'" in said(refused[2])
    assert "there is no task 'task_001 --as instance-2'" in said(refused[3])
    assert 'task_id: ["--as","instance-2","task_001"] is not of type "string"' in said(refused[4])
    message = data(sent)
    assert (message["record"]["from"], message["record"]["subject"], message["record"]["message"]) == (
        "instance-1",
        "--as=instance-2",
        "--as instance-2",
    )
    assert trailers(team.remote) == ["instance-1", *before], "one commit more, and it is instance-1's"


def test_the_server_itself_cannot_be_started_as_another_instance(team: Team) -> None:
    command = [sys.executable, "-m", "gitcoord", "--as", "instance-2", "mcp"]
    done = subprocess.run(
        command, cwd=team.clones["instance-1"], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 1
    assert "coord mcp acts as this clone's instance, not --as" in done.stderr
    assert done.stdout == ""


def test_a_client_that_closes_its_side_after_writing_gets_every_answer(team: Team) -> None:
    """A script pipes its requests in and closes stdin: the end of the input closes the connection
    only once each request read is answered, a step that takes a while too."""
    opening = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "a script", "version": "1"}}
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": opening},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "checkin", "arguments": {}}},
    ]
    done = subprocess.run(
        [sys.executable, "-m", "gitcoord", "mcp"],
        cwd=team.clones["instance-1"],
        input="".join(json.dumps(r) + "\n" for r in requests),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answers = {a["id"]: a for a in map(json.loads, done.stdout.splitlines())}
    assert sorted(answers) == [1, 2, 3], done.stdout
    assert {t["name"] for t in answers[2]["result"]["tools"]} >= {"checkin", "status"}
    assert answers[3]["result"]["isError"] is False, answers[3]
    assert team.remote_subject().endswith("instance-1 checks in"), "the step ran to the end, and was shared"


def test_two_servers_in_two_clones_commit_at_once_and_see_each_others_steps(team: Team) -> None:
    seen: dict[str, Any] = {}

    async def agent(name: str, title: str, ready: anyio.Event, other: anyio.Event) -> None:
        async with connected(team.clones[name]) as session:
            data(await session.call_tool("checkin", {}))
            seen[f"{name} added"] = data(await session.call_tool("task_add", {"title": title}))["task_id"]
            ready.set()
            await other.wait()
            listed = data(await session.call_tool("task_list", {"status": ["pending_assignment"]}))
            seen[f"{name} sees"] = {t["title"] for t in listed}
            events = data(await session.call_tool("log", {"limit": 10}))
            seen[f"{name} log"] = {(e["event"], e["instance"], e["subject"]) for e in events}

    async def both() -> None:
        one, two = anyio.Event(), anyio.Event()
        async with anyio.create_task_group() as agents:
            agents.start_soon(agent, "instance-1", "Front page", one, two)
            agents.start_soon(agent, "instance-2", "Back end", two, one)

    anyio.run(both)
    assert {"Front page", "Back end"} <= seen["instance-1 sees"]
    assert seen["instance-1 sees"] == seen["instance-2 sees"]
    added = {("task.add", name, seen[f"{name} added"]) for name in ("instance-1", "instance-2")}
    assert added <= seen["instance-1 log"], "each server's event log has the other's step"
    assert added <= seen["instance-2 log"]
    remote_tasks = json.loads(git(team.remote, "show", f"{STORE}:coordination/task-queue.json"))["pending_tasks"]
    assert {seen["instance-1 added"], seen["instance-2 added"]} <= {t["task_id"] for t in remote_tasks}


def test_the_briefing_resource_is_read_without_checking_in(team: Team) -> None:
    team("instance-2", "task", "assign", "task_002", "instance-1")

    async def scenario(session: ClientSession) -> tuple[types.ListResourcesResult, types.ReadResourceResult]:
        return await session.list_resources(), await session.read_resource("coord://briefing")

    clone = team.clones["instance-1"]
    tip, branches = git(team.remote, "rev-parse", STORE), git(clone, "for-each-ref", "refs/heads")
    listed, read = served(clone, scenario)
    assert [str(r.uri) for r in listed.resources] == ["coord://briefing"]
    content = read.contents[0]
    assert isinstance(content, types.TextResourceContents)
    assert content.mime_type == "application/json"
    briefing = unwrapped(json.loads(content.text))["briefing"]
    assert [t["task_id"] for t in briefing["offered_to_me"]] == ["task_002"], "it read the remote first"
    assert git(clone, "rev-parse", f"origin/{STORE}") == tip == git(team.remote, "rev-parse", STORE), "nor pushed"
    assert git(clone, "for-each-ref", "refs/heads") == branches, "nothing committed here"
