from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from testing.repos import commit_all
from testing.repos import files_in
from testing.repos import git
from tests.conftest import SEED
from tests.conftest import Coord

from gitcoord import model
from gitcoord.commands import agents


def test_init_on_the_code_branch_creates_a_valid_empty_store_in_one_commit(repo: Path, coord: Coord) -> None:
    result = coord(repo, "init", "--branch", "main")
    assert result.code == 0, result
    assert sorted(p.name for p in (repo / "coordination").iterdir()) == sorted(model.FILES)
    assert coord(repo, "validate").code == 0
    assert git(repo, "rev-list", "--count", "HEAD") == "1"
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("coord(init): ")
    assert "Coord-Event: init" in message
    assert git(repo, "status", "--porcelain") == ""
    assert "coordination/*.json merge=coord" in (repo / ".gitattributes").read_text()
    assert "id: coord-validate" in (repo / ".pre-commit-config.yaml").read_text()
    assert git(repo, "config", "merge.coord.driver").endswith("-I -m gitcoord merge-driver %O %A %B %P")
    assert git(repo, "config", "coord.branch") == "main"


def test_init_example_loads_the_seed(repo: Path, coord: Coord) -> None:
    assert coord(repo, "init", "--example", "--branch", "main").code == 0
    for file in model.FILES:
        assert json.loads((repo / "coordination" / file).read_text()) == json.loads((SEED / file).read_text())


def test_init_twice_is_safe_and_says_so(seed_repo: Path, coord: Coord) -> None:
    before = files_in(seed_repo)
    head = git(seed_repo, "rev-parse", "HEAD")
    result = coord(seed_repo, "init")
    assert result.code == 0, result
    assert "already initialised" in result.out
    assert files_in(seed_repo) == before
    assert git(seed_repo, "rev-parse", "HEAD") == head
    assert coord(seed_repo, "init", "--json").out.count('"initialised": false') == 1


def test_init_example_refuses_to_replace_a_store(seed_repo: Path, coord: Coord) -> None:
    result = coord(seed_repo, "init", "--example")
    assert result.code == 1
    assert "--example only fills an empty one" in result.err


def test_init_refuses_to_touch_an_invalid_store(seed_repo: Path, coord: Coord) -> None:
    (seed_repo / "coordination" / model.TASKS).write_text('{"active_tasks": [}')
    before = files_in(seed_repo)
    result = coord(seed_repo, "init")
    assert result.code == 1
    assert "task-queue.json:1:" in result.err
    assert "nothing was changed" in result.err
    assert files_in(seed_repo) == before


def test_init_completes_a_partial_store(seed_repo: Path, coord: Coord) -> None:
    git(seed_repo, "rm", "-q", f"coordination/{model.DECISIONS}")
    commit_all(seed_repo, "remove decisions")
    result = coord(seed_repo, "init")
    assert result.code == 0, result
    assert f"coordination/{model.DECISIONS}" in result.out
    assert coord(seed_repo, "validate").code == 0


def test_init_keeps_existing_attributes_and_pre_commit_config(repo: Path, coord: Coord) -> None:
    (repo / ".gitattributes").write_text("*.png binary")
    (repo / ".pre-commit-config.yaml").write_text(
        "default_stages: [pre-commit]\nrepos:\n  - repo: local\n    hooks: []\n"
    )
    commit_all(repo, "existing setup")
    assert coord(repo, "init").code == 0
    assert (repo / ".gitattributes").read_text().startswith("*.png binary\ncoordination/*.json merge=coord\n")
    config = (repo / ".pre-commit-config.yaml").read_text()
    assert config.startswith("default_stages: [pre-commit]\nrepos:\n  - repo: local\n    hooks: []\n")
    assert "id: coord-validate" in config


def test_init_says_how_to_add_hooks_it_cannot_place(repo: Path, coord: Coord) -> None:
    original = "repos:\n  - repo: local\n    hooks: []\nci:\n  skip: []\n"
    (repo / ".pre-commit-config.yaml").write_text(original)
    result = coord(repo, "init")
    assert result.code == 0
    assert "add gitcoord's hooks under `repos:` by hand" in result.err
    assert (repo / ".pre-commit-config.yaml").read_text() == original


def test_outside_a_repository_it_says_what_to_do(tmp_path: Path, coord: Coord) -> None:
    result = coord(tmp_path, "init")
    assert result.code == 1
    assert "not in a git repository; run `git init`" in result.err
    assert list(tmp_path.iterdir()) == []


def test_a_directory_that_is_not_there_is_a_usage_error_not_a_missing_git(tmp_path: Path, coord: Coord) -> None:
    result = coord(tmp_path, "-C", "nowhere", "status")
    assert result.code == 2, result
    assert f"{tmp_path / 'nowhere'} is not a directory" in result.err, result.err
    assert "git is not installed" not in result.err


def test_a_bare_repository_is_refused(tmp_path: Path, coord: Coord) -> None:
    git(tmp_path, "init", "-q", "--bare", "shared.git")
    result = coord(tmp_path / "shared.git", "init")
    assert result.code == 1
    assert "bare repository" in result.err


def test_install_is_idempotent(seed_repo: Path, coord: Coord) -> None:
    git(seed_repo, "config", "--unset", "merge.coord.driver")
    first = coord(seed_repo, "install")
    assert first.code == 0
    assert "merge.coord.driver" in first.out
    assert "already installed" in coord(seed_repo, "install").out
    assert "coordination/*.json merge=coord" in (seed_repo / ".git" / "info" / "attributes").read_text()


def test_init_agents_writes_the_loop_and_the_session_hooks(seed_repo: Path, coord: Coord) -> None:
    (seed_repo / "CLAUDE.md").write_text("# Project\n\nUse tabs.\n")
    (seed_repo / ".claude").mkdir()
    (seed_repo / ".claude" / "settings.json").write_text('{"permissions": {"allow": ["Bash(make test)"]}}')
    commit_all(seed_repo, "existing agent setup")
    result = coord(seed_repo, "init", "--agents")
    assert result.code == 0, result
    claude = (seed_repo / "CLAUDE.md").read_text()
    assert claude.startswith("# Project\n\nUse tabs.\n\n<!-- gitcoord:start -->\n")
    assert "1. Start: `coord checkin`" in claude
    assert (seed_repo / "AGENTS.md").read_text().startswith("<!-- gitcoord:start -->")
    settings = json.loads((seed_repo / ".claude" / "settings.json").read_text())
    assert settings["permissions"] == {"allow": ["Bash(make test)"]}
    assert settings["hooks"]["SessionStart"] == [
        {
            "matcher": "startup|resume|clear|compact|fork",
            "hooks": [
                {"type": "command", "command": agents.hook_command("session-start", say_missing=True), "timeout": 60}
            ],
        }
    ]
    assert sorted(settings["hooks"]) == ["PostToolUse", "SessionStart", "Stop", "UserPromptSubmit"]
    assert _valid_claude_settings(settings) == []
    assert "CLAUDE.md" in git(seed_repo, "show", "--name-only", "--format=", "HEAD").split()
    before = files_in(seed_repo)
    again = coord(seed_repo, "init", "--agents")
    assert "already initialised" in again.out
    assert files_in(seed_repo) == before


# The settings' shape as Claude Code documents it (https://json.schemastore.org/claude-code-settings.json,
# `hookMatcher` and the command `hookCommand`; https://code.claude.com/docs/en/hooks, "Hook handler
# fields"): for each event a list of matcher groups, each with its command hooks and their timeout in seconds.
CLAUDE_HOOKS_SCHEMA = {
    "type": "object",
    "properties": {
        "hooks": {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["hooks"],
                    "properties": {
                        "matcher": {"type": "string"},
                        "hooks": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["type", "command"],
                                "properties": {
                                    "type": {"const": "command"},
                                    "command": {"type": "string", "minLength": 1},
                                    "timeout": {"type": "number", "exclusiveMinimum": 0},
                                },
                            },
                        },
                    },
                },
            },
            "propertyNames": {"enum": ["SessionStart", "UserPromptSubmit", "PostToolUse", "Stop"]},
        }
    },
}


def _valid_claude_settings(settings: Any) -> list[str]:
    import jsonschema

    return [e.message for e in jsonschema.Draft7Validator(CLAUDE_HOOKS_SCHEMA).iter_errors(settings)]


def test_the_checklist_section_is_updated_in_place(seed_repo: Path, coord: Coord) -> None:
    (seed_repo / "AGENTS.md").write_text("intro\n<!-- gitcoord:start -->\nold text\n<!-- gitcoord:end -->\noutro\n")
    assert coord(seed_repo, "init", "--agents").code == 0
    text = (seed_repo / "AGENTS.md").read_text()
    assert text.startswith("intro\n<!-- gitcoord:start -->\n## Coordinating")
    assert text.endswith("<!-- gitcoord:end -->\noutro\n")
    assert "old text" not in text


def test_broken_claude_settings_are_not_clobbered(seed_repo: Path, coord: Coord) -> None:
    (seed_repo / ".claude").mkdir()
    (seed_repo / ".claude" / "settings.json").write_text("{oops")
    before = files_in(seed_repo)
    result = coord(seed_repo, "init", "--agents")
    assert result.code == 1
    assert "settings.json is not valid JSON" in result.err
    assert files_in(seed_repo) == before, "a refused init writes nothing at all"


def test_init_agents_registers_the_mcp_server_beside_the_others(seed_repo: Path, coord: Coord) -> None:
    others = {"mcpServers": {"docs": {"type": "http", "url": "https://example.com/mcp"}}, "extra": 1}
    (seed_repo / ".mcp.json").write_text(json.dumps(others))
    commit_all(seed_repo, "another MCP server")
    assert coord(seed_repo, "init", "--agents").code == 0
    config = json.loads((seed_repo / ".mcp.json").read_text())
    assert config == {
        "mcpServers": {
            "docs": {"type": "http", "url": "https://example.com/mcp"},
            "gitcoord": {"command": "coord", "args": ["mcp"]},
        },
        "extra": 1,
    }
    assert ".mcp.json" in git(seed_repo, "show", "--name-only", "--format=", "HEAD").split()
    before = files_in(seed_repo)
    assert "already initialised" in coord(seed_repo, "init", "--agents").out
    assert files_in(seed_repo) == before


def test_an_mcp_entry_of_ones_own_keeps_what_else_it_says(repo: Path, coord: Coord) -> None:
    mine = {"mcpServers": {"gitcoord": {"command": "/opt/bin/coord", "args": [], "env": {"NO_COLOR": "1"}}}}
    (repo / ".mcp.json").write_text(json.dumps(mine))
    assert coord(repo, "init", "--agents", "--branch", "main").code == 0
    entry = json.loads((repo / ".mcp.json").read_text())["mcpServers"]["gitcoord"]
    assert entry == {"command": "coord", "args": ["mcp"], "env": {"NO_COLOR": "1"}}


@pytest.mark.parametrize(
    ("text", "said"),
    [("{oops", ".mcp.json is not valid JSON"), ('{"mcpServers": []}', "does not hold an object with an mcpServers")],
)
def test_a_broken_mcp_config_is_not_clobbered(seed_repo: Path, coord: Coord, text: str, said: str) -> None:
    (seed_repo / ".mcp.json").write_text(text)
    before = files_in(seed_repo)
    result = coord(seed_repo, "init", "--agents")
    assert result.code == 1
    assert said in result.err
    assert files_in(seed_repo) == before, "a refused init writes nothing at all"


def _shared_store(tmp_path: Path, coord: Coord) -> Path:
    """A bare remote holding a store on its own branch, `coord`, pushed by the first clone."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    first = tmp_path / "first"
    git(tmp_path, "init", "-q", "-b", "main", str(first))
    git(first, "remote", "add", "origin", str(remote))
    assert coord(first, "init").code == 0
    assert coord(first, "sync").code == 0
    git(first, "push", "-q", "--no-verify", "origin", "main")
    return remote


def test_a_single_branch_clone_is_told_to_join_the_shared_store_not_to_start_another(
    tmp_path: Path, coord: Coord
) -> None:
    """`git clone --single-branch` leaves the store's own branch behind: before `coord install` the
    clone reads no store, and `coord init` would make a second one, from nothing, that can never
    merge with the team's. It is told to install, and init refuses."""
    remote = _shared_store(tmp_path, coord)
    newcomer = tmp_path / "newcomer"
    git(tmp_path, "clone", "-q", "--single-branch", str(remote), str(newcomer))
    read = coord(newcomer, "status")
    assert read.code == 1, read
    assert "`coord install` finds it" in read.err, read.err
    before = files_in(newcomer)
    refused = coord(newcomer, "init")
    assert refused.code == 1, refused
    assert "origin already shares the store's branch 'coord'" in refused.err, refused.err
    assert "`coord install`" in refused.err, refused.err
    assert git(newcomer, "branch", "--list", "coord") == ""
    assert files_in(newcomer) == before, "nothing was changed"
    assert coord(newcomer, "install").code == 0
    assert coord(newcomer, "status").code == 0


def test_a_clone_set_up_before_any_store_keeps_no_store_branch(tmp_path: Path, coord: Coord) -> None:
    """`coord install` before the store exists (the human getting a key to tell the gate, an agent
    set up before the human's first push) records no branch: init then starts the store on its own
    branch, and the agent's next install finds the store where it went."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    early = tmp_path / "early"
    git(tmp_path, "clone", "-q", str(remote), str(early))
    human = tmp_path / "human"
    git(tmp_path, "clone", "-q", str(remote), str(human))
    for clone in (early, human):
        assert coord(clone, "install").code == 0
        assert git(clone, "config", "--get", "coord.branch", check=False) == ""
    assert coord(human, "init").code == 0
    assert json.loads(coord(human, "init", "--json").out)["data"]["layout"] == "own branch"
    assert coord(human, "sync").code == 0
    assert coord(early, "install").code == 0
    assert git(early, "config", "coord.branch") == "coord"
    assert coord(early, "status").code == 0
