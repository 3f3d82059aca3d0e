"""`coord init --agents`: tell coding agents the whole loop, and bring it into each Claude Code session.

The loop goes into CLAUDE.md and AGENTS.md between markers, so that running it again updates
the section in place and leaves the rest of each file as it was. Claude Code hooks go into
.claude/settings.json, merged with what is there (gitcoord's own entries are recognised by
their command and replaced; every other hook and setting is kept):

- SessionStart: `coord hook session-start`, the check-in and the briefing, as context;
- UserPromptSubmit: `coord hook prompt-submit`, news since the last look, and a heartbeat;
- PostToolUse: `coord hook post-tool-use`, news after tool calls (at most once a minute);
- Stop: `coord hook stop`, which holds the turn while answers, offers or inputs are owed.

The shapes follow Claude Code's settings schema (https://json.schemastore.org/claude-code-settings.json:
`hooks.<Event>` is a list of `{"matcher"?, "hooks": [{"type": "command", "command", "timeout"}]}`,
timeout in seconds) and its hooks reference (https://code.claude.com/docs/en/hooks: matchers for
SessionStart are the session's source; `$CLAUDE_PROJECT_DIR` is the project root, quoted in shell form).

The MCP server, `coord mcp`, goes into .mcp.json, the project's MCP servers in Claude Code's
documented format (https://code.claude.com/docs/en/mcp, project scope: `mcpServers.<name>`
with `command` and `args`), merged with the servers already there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gitcoord import fileio
from gitcoord.errors import FatalError

START, END = "<!-- gitcoord:start -->", "<!-- gitcoord:end -->"
GUIDES = ("CLAUDE.md", "AGENTS.md")
SETTINGS = ".claude/settings.json"
MCP_CONFIG = ".mcp.json"
MCP_SERVER = ("gitcoord", {"command": "coord", "args": ["mcp"]})

SECTION = f"""{START}
## Coordinating with the other instances (gitcoord)

Several agents work on this repository. They coordinate through `coordination/`, only with
`coord` commands: never edit those JSON files by hand. Each step is one commit, shared with the
other clones at once (`coord sync` catches up by hand); every read fetches first.

**Who you are.** Run `coord install --as INSTANCE` once in your clone: it sets
`git config coord.instance` and your signing key, and every command and hook then acts as you.
Never `export COORD_INSTANCE`: each shell command starts afresh, so the export is lost.
`coord whoami` says who you are.

**The loop.**

1. Start: `coord checkin` marks you active and briefs you (the SessionStart hook does it for you).
2. `coord next` says the one thing to do now and the exact command (`coord next --all`: everything).
3. A task offered to you: `coord task accept TASK`, or `coord task decline TASK --reason "..."`.
4. A question to you: `coord msg show MSG`, then `coord msg reply MSG --body-file -` (text on stdin).
   An answer or a notice to you stays in `coord inbox` until you `coord msg ack MSG`.
5. Ask someone: `coord msg send --to INSTANCE --subject "..." --requires-response --body-file -`;
   `coord wait --reply MSG` blocks until the answer comes (exit 0; exit 4 on `--timeout`).
6. A choice for several: `coord decision propose "TITLE" --option A --option B --input-from INSTANCE`;
   your view when asked: `coord decision input DEC --option A --comment "..."`; once every input is
   in, the proposer decides: `coord decision decide DEC --option A --rationale "..."`.
7. Work: `coord task claim TASK` (ready work, `coord task ready --mine`), `coord task start TASK`, and
   `coord task complete TASK --note "what was done, and where"`; `coord task block TASK --reason ...`.
8. You disagree with another instance and cannot settle it: `coord escalate ID --reason "..."`
   hands it to the human coordinator, whose ruling reaches you as news.
9. At the end of the session: `coord checkout` (your tasks stay yours).

**Code** goes on a branch of your own (`git switch -c INSTANCE/TASK`), never on the shared
branch; coordination commits are coord's to make, whatever branch you are on.

**News comes to you.** The hooks in `.claude/settings.json` bring what arrived for you (answers,
offers, inputs on your proposals, tasks now ready, decisions, new instances) when the user
writes and after tool calls, and the Stop hook reminds you of answers, offers and inputs you owe
before you end your turn; if one must wait, say why: `coord defer ID --reason "..."`.
`coord news` shows the same by hand and `coord wait` blocks until something arrives; neither
commits, so look with them, never by running `coord checkin` again and again.
Every command takes `--json`; `coord --help` lists them all.
{END}
"""

# The hook commands: coord missing from PATH must still leave the session running, and say so
# where the text reaches the agent (SessionStart and UserPromptSubmit print plain text as context).
_MISSING = "gitcoord: coord is not on PATH, so this session gets no coordination news; install gitcoord (pip)."
HOOKS = {
    "SessionStart": ("session-start", "startup|resume|clear|compact|fork", 60, True),
    "UserPromptSubmit": ("prompt-submit", None, 30, True),
    "PostToolUse": ("post-tool-use", "*", 15, False),
    "Stop": ("stop", None, 30, False),
}
_OURS = re.compile(r"(^coord checkin$)|(\bcoord\b.*\bhook (session-start|prompt-submit|post-tool-use|stop)\b)")


def hook_command(name: str, *, say_missing: bool) -> str:
    missing = f"{{ echo '{_MISSING}'; exit 0; }}" if say_missing else "exit 0"
    return f'command -v coord >/dev/null 2>&1 || {missing}; coord -C "${{CLAUDE_PROJECT_DIR:-.}}" hook {name}'


def _group(event: str) -> dict[str, Any]:
    name, matcher, timeout, say_missing = HOOKS[event]
    hook = {"type": "command", "command": hook_command(name, say_missing=say_missing), "timeout": timeout}
    return {**({"matcher": matcher} if matcher else {}), "hooks": [hook]}


def _section_into(text: str) -> str:
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        return before + SECTION.rstrip("\n") + after
    return (text.rstrip("\n") + "\n\n" if text.strip() else "") + SECTION


def _ours(hook: Any) -> bool:
    return isinstance(hook, dict) and isinstance(hook.get("command"), str) and bool(_OURS.search(hook["command"]))


def _merged(groups: Any, event: str) -> list[Any]:
    """`groups` (one event's) without gitcoord's hooks, then gitcoord's as they should be now."""
    if not isinstance(groups, list):
        raise FatalError(f"{SETTINGS}: hooks.{event} is not a list; fix it and run `coord init --agents` again")
    kept = []
    for group in groups:
        hooks = group.get("hooks") if isinstance(group, dict) else None
        if not isinstance(hooks, list):
            kept.append(group)
            continue
        others = [h for h in hooks if not _ours(h)]
        if others:
            kept.append({**group, "hooks": others} if len(others) != len(hooks) else group)
    return [*kept, _group(event)]


def _json_object(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8")) if path.exists() else {}
    except json.JSONDecodeError as e:
        raise FatalError(
            f"{path} is not valid JSON ({e.msg}, line {e.lineno}); fix it and run `coord init --agents` again"
        ) from None


def _mcp_config(path: Path) -> dict[str, Any] | None:
    """The project's MCP servers with gitcoord's (what else its entry says is kept); None when it is there."""
    config = _json_object(path)
    if not isinstance(config, dict) or not isinstance(config.get("mcpServers", {}), dict):
        raise FatalError(
            f"{path} does not hold an object with an mcpServers object; fix it and run `coord init --agents` again"
        )
    name, server = MCP_SERVER
    servers = dict(config.get("mcpServers", {}))
    entry = servers.get(name)
    servers[name] = {**(entry if isinstance(entry, dict) else {}), **server}
    if servers == config.get("mcpServers"):
        return None
    return {**config, "mcpServers": servers}


def _settings(path: Path) -> dict[str, Any] | None:
    """The settings with gitcoord's hooks as they should be; None when they are so already."""
    settings = _json_object(path)
    if not isinstance(settings, dict) or not isinstance(settings.get("hooks", {}), dict):
        raise FatalError(
            f"{path} does not hold a settings object with a hooks object; fix it and run `coord init --agents` again"
        )
    hooks = dict(settings.get("hooks", {}))
    for event in HOOKS:
        hooks[event] = _merged(hooks.get(event, []), event)
    if hooks == settings.get("hooks"):
        return None
    return {**settings, "hooks": hooks}


def plan(root: Path) -> dict[str, bytes]:
    """The files to add or update (repository path -> content), written by the caller."""
    changes = {}
    for name in GUIDES:
        text = fileio.read_text(root / name)
        updated = _section_into(text)
        if updated != text:
            changes[name] = updated.encode("utf-8")
    for name, merged in ((SETTINGS, _settings(root / SETTINGS)), (MCP_CONFIG, _mcp_config(root / MCP_CONFIG))):
        if merged is not None:
            changes[name] = (json.dumps(merged, indent=2) + "\n").encode("utf-8")
    return changes
