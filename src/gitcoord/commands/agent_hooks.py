"""`coord hook session-start|prompt-submit|post-tool-use|stop`: gitcoord inside a Claude Code session.

Claude Code runs each as a command hook, with the event's JSON on standard input, and reads
what it prints (https://code.claude.com/docs/en/hooks, "Hook input and output"):

- SessionStart: plain text on stdout becomes context for the agent ("SessionStart decision
  control"): the briefing, or what is wrong and how to fix it.
- UserPromptSubmit, PostToolUse: `{"hookSpecificOutput": {"hookEventName": ..., "additionalContext":
  ...}}` adds the text next to the prompt or the tool result ("Add context for Claude"); nothing
  printed adds nothing.
- Stop: `{"decision": "block", "reason": ...}` keeps the agent from ending its turn, and the reason
  tells it why ("Stop decision control"); nothing printed lets it stop. `stop_hook_active` in the
  input is true when it already goes on because of a Stop hook: then it may always stop, so no
  agent is ever held twice in a row (Claude Code also gives up after 8 blocks in a row).

Every hook exits 0 whatever happens: a hook that fails says so in its text where the event
shows text to the agent (SessionStart, UserPromptSubmit), and stays silent where it would
only get in the way (after a tool call, at a stop).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitcoord import clock
from gitcoord import localstate
from gitcoord import timestamps
from gitcoord import workspace
from gitcoord.errors import FatalError
from gitcoord.escape import safe
from gitcoord.output import Output

# The rest is imported where it is used: after most tool calls this hook only reads a file.

EVENTS = {
    "session-start": "SessionStart",
    "prompt-submit": "UserPromptSubmit",
    "post-tool-use": "PostToolUse",
    "stop": "Stop",
}
POLL_SECONDS = 60.0  # after a tool call, look for news at most this often (`coord.hookPollSeconds`)
HOOK_TIMEOUT = 2.0  # seconds a hook's fetch may take at most

NO_IDENTITY = (
    "gitcoord: this clone acts as no instance, so you were not checked in and got no briefing. "
    "Fix: run `coord install --as INSTANCE` in this clone (it sets `git config coord.instance` and "
    "signing; an exported COORD_INSTANCE does not last from one shell command to the next), then `coord checkin`."
)


class Captured(Output):
    """An Output whose notes are kept, for a hook to put in the text the agent reads."""

    def __init__(self) -> None:
        super().__init__(as_json=False)
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        self.notes.append(text)


def run(name: str, *, cwd: Path, as_instance: str | None, stdin: str, out: Output) -> int:
    """Answer Claude Code's hook `name`; always exit 0."""
    payload = _payload(stdin)
    handler: Callable[[Path, str | None, dict[str, Any]], str] = _HANDLERS[name]
    try:
        text = handler(cwd, as_instance, payload)
    except Exception as e:  # a hook must never fail the session: it says what went wrong instead
        text = _failed(name, e)
    if text:
        out.emit({"hook": EVENTS[name], "output": text}, [text])
    return 0


def _payload(stdin: str) -> dict[str, Any]:
    try:
        found = json.loads(stdin) if stdin.strip() else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _session(payload: dict[str, Any]) -> str | None:
    found = payload.get("session_id")
    return found if isinstance(found, str) and 0 < len(found) <= 100 else None


def _failed(name: str, error: Exception) -> str:
    if name in ("post-tool-use", "stop"):
        return ""
    what = str(error) if isinstance(error, FatalError) else f"an unexpected error ({type(error).__name__}), a bug"
    text = f"gitcoord could not brief you: {what}\nRun `coord checkin` in a shell to see it in full."
    return text if name == "session-start" else _context("prompt-submit", text)


def _context(name: str, text: str) -> str:
    return json.dumps({"hookSpecificOutput": {"hookEventName": EVENTS[name], "additionalContext": text}})


def session_start(cwd: Path, as_instance: str | None, payload: dict[str, Any]) -> str:
    from gitcoord.commands import briefing

    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    if ws.identity is None:
        return NO_IDENTITY
    out = Captured()
    briefed = briefing.check_in(ws, out, sync=None, session=_session(payload))
    intro = f"gitcoord: you act as {safe(ws.identity)} in this clone (git config coord.instance)."
    outro = (
        "The hooks bring what arrives for you while you work; `coord next` says what to do, "
        "`coord wait` blocks until something arrives."
    )
    unshared = [f"note: {safe(str(briefed.unshared))}"] if briefed.unshared is not None else []
    return "\n".join([intro, *out.notes, *briefed.lines, *unshared, outro])


def prompt_submit(cwd: Path, as_instance: str | None, payload: dict[str, Any]) -> str:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    if ws.identity is None:
        return _context("prompt-submit", NO_IDENTITY)
    text = _news(ws, ws.identity, Captured())
    session = _session(payload)
    if session is not None:
        from gitcoord.commands import briefing

        briefing.beat(ws, Captured(), session=session)
    return _context("prompt-submit", text) if text else ""


def post_tool_use(cwd: Path, as_instance: str | None, payload: dict[str, Any]) -> str:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    if ws.identity is None or not _due(ws, ws.identity, clock.now()):
        return ""
    text = _news(ws, ws.identity, Captured())
    return _context("post-tool-use", text) if text else ""


def _due(ws: workspace.Workspace, me: str, now: dt.datetime) -> bool:
    last = localstate.last_fetch(ws.repo.common_dir, me)
    try:
        seconds = float(ws.config.get("coord.hookpollseconds", POLL_SECONDS))
        return last is None or timestamps.older(last, now, dt.timedelta(seconds=seconds))
    except ValueError:
        return True


def _news(ws: workspace.Workspace, me: str, out: Captured) -> str:
    """What arrived for me since I last looked, as text for the agent ("" for nothing); the cursor moves on."""
    from gitcoord import refresh
    from gitcoord import render
    from gitcoord import whatsnew
    from gitcoord.commands.agent import Since

    fresh = refresh.refresh(ws, timeout=min(HOOK_TIMEOUT, refresh.timeout(ws)))
    localstate.set_last_fetch(ws.repo.common_dir, me, now=clock.now())
    since = Since(ws, me, fresh.commit)
    found = since.news()
    since.advance()
    if not found or not whatsnew.worth_telling(found):
        return ""
    lines = [f"gitcoord: new for {safe(me)} since you last looked:", *render.news(found)]
    lines += [f"note: {safe(text)}" for text in refresh.describe(fresh)]
    lines.append("`coord next` says what to do first.")
    return "\n".join(lines)


def stop(cwd: Path, as_instance: str | None, payload: dict[str, Any]) -> str:
    from gitcoord import agenda
    from gitcoord import model
    from gitcoord import refresh
    from gitcoord import render
    from gitcoord import validation
    from gitcoord.commands.agent import deferred_reasons

    if payload.get("stop_hook_active") is True:
        return ""  # already going on because a Stop hook held it: it may stop now
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    if ws.identity is None:
        return ""
    me = ws.identity
    fresh = refresh.refresh(ws, timeout=min(HOOK_TIMEOUT, refresh.timeout(ws)))
    state = workspace.snapshot(ws, strict=False, commit=fresh.commit)
    state.prefetch(list(model.FILES))
    with validation.reading(state):
        owed = agenda.owed(agenda.agenda(state, me, deferred=deferred_reasons(ws, me)))
    if not owed:
        return ""
    lines = [f"gitcoord: before you stop, {safe(me)} still owes the other instances:"]
    for item in owed:
        lines += render.agenda_item(item)
    lines.append(
        "Do these now; or, for one you cannot do in this session, say why with "
        "`coord defer ID --reason '...'` and then stop."
    )
    return json.dumps({"decision": "block", "reason": "\n".join(lines)})


_HANDLERS: dict[str, Callable[[Path, str | None, dict[str, Any]], str]] = {
    "session-start": session_start,
    "prompt-submit": prompt_submit,
    "post-tool-use": post_tool_use,
    "stop": stop,
}
