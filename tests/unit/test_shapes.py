"""The record types say what the schemas say: the same fields, the same required ones, the same choices.

The types are for mypy and the schemas for the files; this keeps either from drifting from
the other. The statuses' tuples are the rulebook's `Literal`s, and test_schema.py holds
those to the schemas' enums.
"""

from __future__ import annotations

import typing
from typing import Any

import pytest

from gitcoord import model
from gitcoord import rulebook
from gitcoord import schemas
from gitcoord import shapes


def _node(file: str, *path: str) -> dict[str, Any]:
    node: dict[str, Any] = schemas.document(file)
    for key in path:
        node = node[key]
    return node


def _resolved(node: dict[str, Any], file: str) -> dict[str, Any]:
    """`node` of `file` with its `$ref` (into common.json or `file`'s own $defs) followed."""
    ref = node.get("$ref")
    if ref is None:
        return node
    other, _, pointer = ref.partition("#")
    return _node(other or file, *pointer.strip("/").split("/"))


TASK = (model.TASKS, "$defs", "task")
MESSAGE = (model.MESSAGES, "$defs", "message")
DECISION = (model.DECISIONS, "$defs", "decision")
SHAPES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "note": (shapes.Note, ("common.json", "$defs", "notes", "items")),
    "merge conflict": (shapes.MergeConflict, ("common.json", "$defs", "merge_conflicts", "items")),
    "instance": (shapes.Instance, (model.REGISTRY, "$defs", "instance")),
    "settings": (shapes.Settings, (model.REGISTRY, "$defs", "settings")),
    "registry": (shapes.Registry, (model.REGISTRY,)),
    "task": (shapes.Task, TASK),
    "decline": (shapes.Decline, (*TASK, "properties", "declines", "items")),
    "contest": (shapes.Contest, (*TASK, "properties", "contested", "items")),
    "task queue": (shapes.TaskQueue, (model.TASKS,)),
    "message": (shapes.Message, MESSAGE),
    "message context": (shapes.MessageContext, (*MESSAGE, "properties", "context")),
    "queued response": (shapes.QueuedResponse, (model.MESSAGES, "$defs", "queued_response")),
    "communication log": (shapes.CommunicationLog, (model.MESSAGES,)),
    "decision": (shapes.Decision, DECISION),
    "option": (shapes.Option, (model.DECISIONS, "$defs", "option")),
    "input": (shapes.Input, (model.DECISIONS, "$defs", "input")),
    "escalation": (shapes.Escalation, (model.DECISIONS, "$defs", "escalation")),
    "position": (shapes.Position, (model.DECISIONS, "$defs", "escalation", "properties", "positions", "items")),
    "decision log": (shapes.DecisionLog, (model.DECISIONS,)),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_a_type_has_the_fields_its_schema_allows_and_requires(name: str) -> None:
    shape, path = SHAPES[name]
    node = _node(*path)
    assert set(shape.__required_keys__) | set(shape.__optional_keys__) == set(node["properties"])
    assert set(shape.__required_keys__) == set(node.get("required", ()))


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_a_field_with_choices_is_typed_with_exactly_those(name: str) -> None:
    shape, path = SHAPES[name]
    hints = typing.get_type_hints(shape)
    for field, node in _node(*path)["properties"].items():
        choices = _resolved(node, path[0]).get("enum")
        if choices is not None:
            assert typing.get_origin(hints[field]) is typing.Literal, field
            assert list(typing.get_args(hints[field])) == choices, field


@pytest.mark.parametrize(
    ("literal", "values"),
    [
        (rulebook.InstanceStatus, rulebook.INSTANCE_STATUSES),
        (rulebook.TaskStatus, rulebook.TASK_STATUSES),
        (rulebook.MessageStatus, rulebook.MESSAGE_STATUSES),
        (rulebook.MessageType, rulebook.MESSAGE_TYPES),
        (rulebook.DecisionStatus, rulebook.DECISION_STATUSES),
        (rulebook.Priority, rulebook.PRIORITIES),
        (model.QueueStatus, model.QUEUE_STATUSES),
    ],
)
def test_the_rulebooks_lists_are_its_literal_types(literal: Any, values: tuple[str, ...]) -> None:
    assert typing.get_args(literal) == values
