"""What `coord init --agents` writes into .claude/settings.json, and what a clone keeps in .git/coord/."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from gitcoord import localstate
from gitcoord.commands import agents
from gitcoord.errors import FatalError

NOW = dt.datetime(2024, 1, 15, 12, 0, tzinfo=dt.timezone.utc)


def settings_after(root: Path, before: object) -> dict[str, object]:
    path = root / agents.SETTINGS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(before))
    planned = agents.plan(root)
    return json.loads(planned[agents.SETTINGS]) if agents.SETTINGS in planned else {}


def test_gitcoord_s_hooks_are_replaced_and_everyone_else_s_kept(tmp_path: Path) -> None:
    theirs = {"type": "command", "command": "./format.sh"}
    old = {"type": "command", "command": 'coord -C "$CLAUDE_PROJECT_DIR" hook stop'}
    before = {
        "model": "opus",
        "hooks": {
            "Stop": [{"hooks": [theirs, old]}, {"hooks": [old]}],
            "Notification": [{"hooks": [theirs]}],
            "PreToolUse": [{"matcher": "Bash", "hooks": "not a list"}],
        },
    }
    after = settings_after(tmp_path, before)
    hooks = after["hooks"]
    assert isinstance(hooks, dict)
    assert after["model"] == "opus"
    assert hooks["Notification"] == [{"hooks": [theirs]}]
    assert hooks["PreToolUse"] == [{"matcher": "Bash", "hooks": "not a list"}], "what it cannot read, it leaves"
    assert hooks["Stop"][0] == {"hooks": [theirs]}
    assert hooks["Stop"][1]["hooks"][0]["command"] == agents.hook_command("stop", say_missing=False)
    assert len(hooks["Stop"]) == 2
    assert settings_after(tmp_path, after) == {}, "written once, then nothing to do"


@pytest.mark.parametrize("broken", [[], {"hooks": []}, {"hooks": {"Stop": {}}}])
def test_settings_of_another_shape_are_refused_not_rewritten(tmp_path: Path, broken: object) -> None:
    with pytest.raises(FatalError, match="run `coord init --agents` again"):
        settings_after(tmp_path, broken)


def test_the_hook_commands_find_the_project_and_survive_a_missing_coord() -> None:
    loud = agents.hook_command("session-start", say_missing=True)
    quiet = agents.hook_command("post-tool-use", say_missing=False)
    assert loud.endswith('coord -C "${CLAUDE_PROJECT_DIR:-.}" hook session-start')
    assert "echo 'gitcoord: coord is not on PATH" in loud
    assert quiet.startswith("command -v coord >/dev/null 2>&1 || exit 0; ")


def test_the_cursor_and_deferrals_are_the_clone_s_and_unreadable_files_count_as_absent(tmp_path: Path) -> None:
    assert localstate.cursor(tmp_path, "instance-1") is None
    localstate.set_cursor(tmp_path, "instance-1", "abc123", now=NOW)
    assert localstate.cursor(tmp_path, "instance-1") == "abc123"
    assert localstate.cursor(tmp_path, "instance-2") is None, "each instance its own"
    (tmp_path / "coord" / "news" / "instance-3.json").write_text("{oops")
    assert localstate.cursor(tmp_path, "instance-3") is None
    (tmp_path / "coord" / "news" / "instance-4.json").write_text("[1, 2]")
    assert localstate.cursor(tmp_path, "instance-4") is None
    until = localstate.defer(tmp_path, "instance-1", "msg_001", reason="later", now=NOW, hours=2)
    assert until == "2024-01-15T14:00:00Z"
    assert localstate.deferred(tmp_path, "instance-1", now=NOW)["msg_001"]["reason"] == "later"
    assert localstate.deferred(tmp_path, "instance-1", now=NOW + dt.timedelta(hours=3)) == {}, "it runs out"
    path = tmp_path / "coord" / "deferred" / "instance-1.json"
    path.write_text(json.dumps({"msg_002": {"until": "soon"}, "msg_003": "no"}))
    assert localstate.deferred(tmp_path, "instance-1", now=NOW) == {}
    assert localstate.last_fetch(tmp_path, "instance-1") is None
    localstate.set_last_fetch(tmp_path, "instance-1", now=NOW)
    assert localstate.last_fetch(tmp_path, "instance-1") == "2024-01-15T12:00:00Z"
