"""`coord init --agents`: tell coding agents how to coordinate, and brief each session at start.

The startup checklist goes into CLAUDE.md and AGENTS.md between markers, so that running it
again updates the section in place and leaves the rest of each file as it was; a Claude
Code SessionStart hook runs `coord checkin`, whose briefing becomes the session's context.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitcoord import fileio
from gitcoord.errors import FatalError

START, END = "<!-- gitcoord:start -->", "<!-- gitcoord:end -->"
GUIDES = ("CLAUDE.md", "AGENTS.md")
SETTINGS = ".claude/settings.json"
CHECKIN = "coord checkin"

SECTION = f"""{START}
## Coordinating with the other instances (gitcoord)

Several agents work on this repository. They coordinate through `coordination/`, only with
`coord` commands: never edit those JSON files by hand. Each command is one commit on the
shared branch; `coord sync` exchanges them with the other clones.

Know who you are: `export COORD_INSTANCE=<your instance id>` (or `git config coord.instance`).

At the start of every session (the SessionStart hook runs the first step for you):

1. `coord checkin`: marks you active and prints your briefing.
2. Your tasks: `coord task list --mine`; take ready work with `coord task ready --mine` and
   `coord task claim TASK`, then `coord task start TASK` and `coord task complete TASK`.
3. Your messages: `coord inbox`; answer with `coord msg reply MSG --body-file -`; ask with
   `coord msg send --to INSTANCE --subject ... --requires-response --body-file -`.
4. Decisions: give your view with `coord decision input DEC --option NAME --comment ...`;
   read what was decided with `coord decision list --decided`.

When you disagree with another instance and cannot settle it, `coord escalate ID --reason ...`
hands it to the human coordinator. Every command takes `--json`; `coord --help` lists them all.
{END}
"""


def _section_into(text: str) -> str:
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        return before + SECTION.rstrip("\n") + after
    return (text.rstrip("\n") + "\n\n" if text.strip() else "") + SECTION


def _settings(path: Path) -> dict[str, Any] | None:
    """The settings with the SessionStart hook added; None when it is already there."""
    try:
        settings: dict[str, Any] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    except json.JSONDecodeError as e:
        raise FatalError(
            f"{path} is not valid JSON ({e.msg}, line {e.lineno}); fix it and run `coord init --agents` again"
        ) from None
    starts = settings.setdefault("hooks", {}).setdefault("SessionStart", [])
    if any(h.get("command") == CHECKIN for group in starts for h in group.get("hooks", ())):
        return None
    starts.append({"matcher": "startup|resume|clear|compact", "hooks": [{"type": "command", "command": CHECKIN}]})
    return settings


def plan(root: Path) -> dict[str, bytes]:
    """The files to add or update (repository path -> content), written by the caller."""
    changes = {}
    for name in GUIDES:
        text = fileio.read_text(root / name)
        updated = _section_into(text)
        if updated != text:
            changes[name] = updated.encode("utf-8")
    settings = _settings(root / SETTINGS)
    if settings is not None:
        changes[SETTINGS] = (json.dumps(settings, indent=2) + "\n").encode("utf-8")
    return changes
