"""The rulebook covers every field the schemas allow: nothing changes without a rule saying who may."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest

from gitcoord import model
from gitcoord import rulebook


def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(files("gitcoord.schemas").joinpath(name).read_text("utf-8"))
    return loaded


RECORDS = {
    "instance": (model.REGISTRY, "instance"),
    "task": (model.TASKS, "task"),
    "message": (model.MESSAGES, "message"),
    "decision": (model.DECISIONS, "decision"),
}


@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_every_field_of_a_record_has_a_rule(kind: str) -> None:
    file, definition = RECORDS[kind]
    fields = set(_schema(file)["$defs"][definition]["properties"])
    rules = rulebook.KINDS[kind]
    covered = rules.immutable | rulebook.changeable(rules)
    assert fields - covered == set(), f"fields of a {kind} that no rule lets change, nor declares immutable"
    assert {f.split(".")[0] for f in rules.edits} <= fields


def test_every_setting_and_file_field_has_a_rule() -> None:
    settings = set(_schema(model.REGISTRY)["$defs"]["settings"]["properties"])
    assert settings == set(rulebook.SETTINGS_FIELDS)
    assert set(model.Settings._fields) == settings
    for file in model.FILES:
        own = set(_schema(file)["properties"]) - set(model.COLLECTIONS[file].lists)
        assert own <= set(rulebook.FILE_FIELDS), file


def test_every_status_is_reached_by_a_move_and_progress_ranks_them_all() -> None:
    for kind in rulebook.KINDS.values():
        assert {m.target for m in kind.moves.values()} == set(kind.statuses), kind.name
        assert sorted(kind.progress) == sorted(kind.statuses), kind.name
        for move in kind.moves.values():
            assert set(move.sources) - {None} <= set(kind.statuses)
            assert move.roles <= set(rulebook.ROLE_NAMES)
        for edit in kind.edits.values():
            assert edit.roles <= set(rulebook.ROLE_NAMES)
