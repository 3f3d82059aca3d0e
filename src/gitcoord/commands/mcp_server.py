"""`coord mcp`: the protocols as Model Context Protocol tools, served over standard input and output.

Each tool runs its `coord` command in this process, exactly as the command line does (the
same click command: the same rules, the same commit path), with --json, and answers with the
JSON the command printed, as it printed it; what the command said on stderr comes along. A
command that refuses (a non-zero exit) is a tool error carrying its reason, for the agent to
read; so is a bug (exit 3), and the server goes on serving. The server acts as this clone's
configured instance, as every command does: no tool takes an identity.

Standard output is the transport. While a command runs, what it prints goes to buffers of its
own thread, never to the real stdout; and while it serves, the SDK points file descriptors 0
and 1 away from the transport, so that no child process (git, hooks) can reach it either.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from typing import NamedTuple
from typing import TextIO

import anyio
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream
from anyio.streams.memory import MemoryObjectSendStream
from mcp import types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage

from gitcoord import mcp_tools
from gitcoord import workspace
from gitcoord.errors import ExitCode
from gitcoord.errors import FatalError

BRIEFING = "coord://briefing"
# Exits that answer the call: the command did what was asked (`coord wait` timing out is an answer too).
# What is an answer, not a tool error: a wait that timed out, and a step committed here but not
# shared yet (the next sync shares it): a client that retries errors would make it a second time.
ANSWERS = frozenset({ExitCode.OK, ExitCode.TIMED_OUT, ExitCode.UNSHARED})

INSTRUCTIONS = """\
The coordination of the agents working in this repository (gitcoord), as this clone's instance.
Start with `checkin` (it marks you active and briefs you); `next` says the one thing to do now.
Answer questions to you with `msg_reply`, offers with `task_accept` or `task_decline`; `wait`
blocks until something for you happens; `news` tells what changed since you last looked.
Each step is one commit, shared with the other clones at once. A refused step says why.
Where an answer names a command, `coord task claim task_001` say, the tool of that name does it:
`task_claim` with {"task_id": "task_001"}; its options are the tool's parameters."""


class Ran(NamedTuple):
    code: int
    out: str
    err: str


# Output --------------------------------------------------------------------------------


class _Routed:
    """Stands in for sys.stdout or sys.stderr: a thread running a command writes to its own
    buffer, any other thread to the stream this one replaced."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, name: str, replaced: TextIO) -> None:
        self.name, self.replaced = name, replaced

    def _target(self) -> TextIO:
        buffer: TextIO | None = getattr(_buffers, self.name, None)
        return buffer if buffer is not None else self.replaced

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click asks whether this is a binary stream by writing b""
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


_buffers = threading.local()


class _Router:
    """sys.stdout and sys.stderr routed while any command runs, and put back after the last one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.saved: tuple[TextIO, TextIO] | None = None

    @contextlib.contextmanager
    def routing(self) -> Iterator[None]:
        with self.lock:
            if self.running == 0:
                self.saved = (sys.stdout, sys.stderr)
                sys.stdout = _Routed("out", sys.stdout)
                sys.stderr = _Routed("err", sys.stderr)
            self.running += 1
        try:
            yield
        finally:
            with self.lock:
                self.running -= 1
                if self.running == 0 and self.saved is not None:
                    sys.stdout, sys.stderr = self.saved


_ROUTER = _Router()


@contextlib.contextmanager
def captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """What this thread prints, in two buffers (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    _buffers.out, _buffers.err = out, err
    try:
        with _ROUTER.routing():
            yield out, err
    finally:
        _buffers.out = _buffers.err = None


def run_command(cwd: Path, args: list[str]) -> Ran:
    """`coord -C cwd ARGS...`, in this process, its output captured."""
    from gitcoord.cli import main

    with captured() as (out, err):
        try:
            code = main(["-C", str(cwd), *args])
        except SystemExit as e:  # main maps every error to a code; nothing may end the server
            code = e.code if isinstance(e.code, int) else ExitCode.UNEXPECTED
    return Ran(code, out.getvalue(), err.getvalue())


# Results -------------------------------------------------------------------------------


def result(ran: Ran) -> types.CallToolResult:
    """The command's JSON as it printed it; a refusal as a tool error with its reason first."""
    printed = ran.out.strip()
    envelope = _json(printed)
    structured = envelope if isinstance(envelope, dict) else None
    if ran.code in ANSWERS:
        return types.CallToolResult(content=[_text(printed), *_notes(ran.err)], structured_content=structured)
    reason, notes = _reason(ran, envelope)
    said = f"{reason}\n(error: {_kind(ran.code, envelope)}, exit code {ran.code})"
    content: list[types.ContentBlock] = [_text(said), *([_text(printed)] if printed else []), *_notes(notes)]
    return types.CallToolResult(content=content, structured_content=structured, is_error=True)


def refusal(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[_text(text)], is_error=True)


def _text(text: str) -> types.TextContent:
    return types.TextContent(text=text)


def _notes(err: str) -> list[types.ContentBlock]:
    return [_text(err.strip())] if err.strip() else []


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def _error_of(envelope: Any) -> dict[str, Any]:
    error = envelope.get("error") if isinstance(envelope, dict) else None
    return error if isinstance(error, dict) else {}


def _reason(ran: Ran, envelope: Any) -> tuple[str, str]:
    """Why the command refused, and what else it said on stderr."""
    message = _error_of(envelope).get("message")
    if isinstance(message, str) and message:
        return message, ran.err
    before, marker, after = ran.err.partition("error: ")
    if marker and (not before or before.endswith("\n")):
        return after.strip(), before
    return ran.err.strip() or f"exit code {ran.code}", ""


def _kind(code: int, envelope: Any) -> str:
    kind = _error_of(envelope).get("kind")
    if isinstance(kind, str):
        return kind
    try:
        return ExitCode(code).name.lower()  # the command line's own names for its exits
    except ValueError:
        return "failed"


# The server ----------------------------------------------------------------------------


def build_server(cwd: Path) -> Server[Any]:
    from importlib.metadata import version

    from gitcoord.cli.base import cli

    catalogue = mcp_tools.tools(cli)
    listed = [_listed(tool) for tool in catalogue.values()]
    # One connection is one agent's session: check-ins within it coalesce, as the hooks' do.
    session = {"checkin": {"session": f"mcp-{uuid.uuid4().hex[:12]}"}}

    async def list_tools(ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None) -> Any:
        return types.ListToolsResult(tools=listed)

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> Any:
        tool = catalogue.get(params.name)
        if tool is None:
            return refusal(f"there is no tool {params.name!r}; tools/list names them")
        arguments = {**session.get(tool.name, {}), **(params.arguments or {})}
        wrong = mcp_tools.problems(tool, arguments)
        if wrong:
            return refusal(f"{tool.name}: " + "; ".join(wrong))
        ran = await anyio.to_thread.run_sync(run_command, cwd, mcp_tools.argv(tool, arguments))
        return result(ran)

    async def list_resources(ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None) -> Any:
        briefing = types.Resource(
            uri=BRIEFING,
            name="briefing",
            description="My briefing, as `checkin` gives it, without checking in (`coord briefing --json`).",
            mime_type="application/json",
        )
        return types.ListResourcesResult(resources=[briefing])

    async def read_resource(ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams) -> Any:
        if str(params.uri) != BRIEFING:
            raise MCPError(code=types.INVALID_PARAMS, message=f"no resource {params.uri}; {BRIEFING} is the one")
        ran = await anyio.to_thread.run_sync(run_command, cwd, ["briefing", "--json"])
        if ran.code:
            raise MCPError(code=types.INTERNAL_ERROR, message=_reason(ran, _json(ran.out.strip()))[0])
        text = types.TextResourceContents(uri=BRIEFING, mime_type="application/json", text=ran.out.strip())
        return types.ReadResourceResult(contents=[text])

    return Server(
        "gitcoord",
        version=version("gitcoord"),
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )


def _listed(tool: mcp_tools.Tool) -> types.Tool:
    hints = types.ToolAnnotations(read_only_hint=not tool.commits, open_world_hint=False)
    return types.Tool(
        name=tool.name, description=tool.description, input_schema=mcp_tools.input_schema(tool), annotations=hints
    )


def serve(*, cwd: Path, as_instance: str | None) -> int:
    """Serve over stdio until the client closes the connection."""
    if as_instance:
        raise FatalError(
            "coord mcp acts as this clone's instance, not --as: run `coord install --as INSTANCE` in the clone "
            "(or set COORD_INSTANCE where the client starts the server)"
        )
    ws = workspace.open_workspace(cwd, as_instance=None)
    who = ws.identity or "nobody yet (steps are refused until `coord install --as INSTANCE`)"
    print(f"coord mcp: serving {ws.root} as {who}, over stdio", file=sys.stderr)
    server = build_server(cwd)

    async def run() -> None:
        async with stdio_server() as (read, write):
            await answering_all(server, read, write)

    anyio.run(run)
    return ExitCode.OK


async def answering_all(
    server: Server[Any],
    read: MemoryObjectReceiveStream[SessionMessage | Exception],
    write: MemoryObjectSendStream[SessionMessage],
) -> None:
    """`server.run`, with the end of its input closing the connection only once every request read
    is answered: a client that writes its requests and closes its side (a script, a pipe) gets all
    its answers, where the session alone would cancel those still running."""
    to_server, from_client = anyio.create_memory_object_stream[SessionMessage | Exception]()
    to_client, from_server = anyio.create_memory_object_stream[SessionMessage]()
    pending: set[types.RequestId] = set()
    answered, flushed = anyio.Event(), anyio.Event()

    async def relay_in() -> None:
        nonlocal answered
        async with to_server:
            async for message in read:
                if isinstance(message, SessionMessage) and isinstance(message.message, types.JSONRPCRequest):
                    pending.add(message.message.id)
                await to_server.send(message)
            while pending:
                answered = anyio.Event()
                await answered.wait()

    async def relay_out() -> None:
        async with write:
            async for message in from_server:
                await write.send(message)
                if isinstance(message.message, types.JSONRPCResponse | types.JSONRPCError):
                    pending.discard(message.message.id)
                    answered.set()
        flushed.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(relay_in)
        tasks.start_soon(relay_out)
        await server.run(from_client, to_client, server.create_initialization_options())
        await flushed.wait()  # the loop closed its side: what it wrote has reached the client
        tasks.cancel_scope.cancel()  # stdin may still be open, where the loop ended of itself
