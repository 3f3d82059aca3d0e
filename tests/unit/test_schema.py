from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from referencing import Registry
from referencing import Resource
from tests.conftest import SEED

from gitcoord import jsonio
from gitcoord import model
from gitcoord import rulebook
from gitcoord import schema

SCHEMA_FILES = ("common.json", *model.FILES)


def _registry() -> Registry:  # type: ignore[type-arg]
    resources = [(schema.document(n)["$id"], Resource.from_contents(schema.document(n))) for n in SCHEMA_FILES]
    return Registry().with_resources(resources)


def _reference(file: str, doc: Any) -> set[str]:
    """The paths at which jsonschema, the reference implementation, finds the document invalid."""
    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(lambda v: not isinstance(v, str) or _parses(v))
    validator = jsonschema.Draft202012Validator(schema.document(file), registry=_registry(), format_checker=checker)
    return {e.json_path for e in validator.iter_errors(doc)}


def _parses(value: str) -> bool:
    from gitcoord import timestamps

    try:
        timestamps.parse(value)
    except ValueError:
        return False
    return True


def _ours(file: str, doc: Any) -> set[str]:
    return {jsonio.format_path(v.path) for v in schema.validate(file, doc)}


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schemas_are_valid_draft_2020_12(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema.document(name))


@pytest.mark.parametrize("file", model.FILES)
def test_the_seed_examples_validate_unchanged(file: str) -> None:
    doc = json.loads((SEED / file).read_text())
    assert schema.validate(file, doc) == []
    assert _reference(file, doc) == set()


def _enum(node: dict[str, Any]) -> list[str]:
    return list(node["enum"])


def test_statuses_in_the_schemas_are_the_ones_the_core_declares() -> None:
    tasks = schema.document(model.TASKS)["$defs"]["task"]["properties"]
    assert _enum(tasks["status"]) == list(rulebook.TASK_STATUSES)
    assert _enum(tasks["contested"]["items"]["properties"]["status"]) == list(rulebook.TASK_STATUSES)
    registry = schema.document(model.REGISTRY)["$defs"]["instance"]["properties"]
    assert _enum(registry["status"]) == list(rulebook.INSTANCE_STATUSES)
    message = schema.document(model.MESSAGES)["$defs"]["message"]["properties"]
    assert _enum(message["type"]) == list(rulebook.MESSAGE_TYPES)
    assert _enum(message["status"]) == list(rulebook.MESSAGE_STATUSES)
    queued = schema.document(model.MESSAGES)["$defs"]["queued_response"]["properties"]
    assert _enum(queued["status"]) == list(model.QUEUE_STATUSES)
    decision = schema.document(model.DECISIONS)["$defs"]["decision"]["properties"]
    assert _enum(decision["status"]) == list(rulebook.DECISION_STATUSES)
    assert _enum(schema.document("common.json")["$defs"]["priority"]) == list(rulebook.PRIORITIES)
    assert set(model.TASK_LIST) == set(rulebook.TASK_STATUSES)
    assert set(model.DECISION_LIST) == set(rulebook.DECISION_STATUSES)


def test_every_status_is_reachable_by_a_declared_move() -> None:
    targets = {name: {m.target for m in kind.moves.values()} for name, kind in rulebook.KINDS.items()}
    assert targets["task"] == set(rulebook.TASK_STATUSES)
    assert targets["decision"] == set(rulebook.DECISION_STATUSES)
    assert targets["message"] == set(rulebook.MESSAGE_STATUSES)
    assert targets["instance"] | {"offline"} == set(rulebook.INSTANCE_STATUSES)


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"$ref": "#/nowhere/x"}, KeyError),
        ({"not": {}}, schema.SchemaError),
        ({"enum": [1, 2]}, schema.SchemaError),
        ({"format": "email"}, schema.SchemaError),
        ([], schema.SchemaError),
    ],
)
def test_a_schema_using_what_the_compiler_lacks_is_refused(bad: Any, expected: type[Exception]) -> None:
    with pytest.raises(expected):
        schema._Compiler().compile(bad, model.TASKS)


def test_messages_say_what_to_fix() -> None:
    doc = json.loads((SEED / model.TASKS).read_text())
    task = doc["pending_tasks"][0]
    task["stauts"] = task.pop("status")
    task["priority"] = "urgent"
    task["title"] = "x" * 201
    doc["active_tasks"][0]["status"] = "in_progres"
    messages = {jsonio.format_path(v.path): v.message for v in schema.validate(model.TASKS, doc)}
    assert messages["$.pending_tasks[0]"] in (
        "missing required field 'status'",
        "unknown field 'stauts' (did you mean 'status'?)",
    )
    assert "is not one of: high, medium, low" in messages["$.pending_tasks[0].priority"]
    assert "longer than the limit of 200" in messages["$.pending_tasks[0].title"]
    assert "(did you mean 'in_progress'?)" in messages["$.active_tasks[0].status"]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2024-01-15T10:30:00Z", True),
        ("2024-01-15T10:30:00.123+05:30", True),
        ("2024-02-29T10:30:00Z", True),
        ("2023-02-29T10:30:00Z", False),
        ("2024-13-01T10:30:00Z", False),
        ("2024-01-15 10:30:00Z", False),
        ("2024-01-15T10:30:00", False),
        ("2024-01-15T25:30:00Z", False),
    ],
)
def test_timestamps(value: str, valid: bool) -> None:
    doc = json.loads((SEED / model.TASKS).read_text())
    doc["pending_tasks"][0]["due"] = value
    assert (schema.validate(model.TASKS, doc) == []) is valid
    assert (_reference(model.TASKS, doc) == set()) is valid


def test_hostile_ids_and_paths_are_refused() -> None:
    doc = json.loads((SEED / model.MESSAGES).read_text())
    message = doc["messages"][0]
    message["to"] = "-rf"
    message["context"]["related_files"] = ["../../etc/passwd", "docs/../../x", "-o", "ok/fine.md", "/docs/"]
    message["message_id"] = "msg_../x"
    paths = _ours(model.MESSAGES, doc)
    assert paths == {
        "$.messages[0].to",
        "$.messages[0].context.related_files[0]",
        "$.messages[0].context.related_files[1]",
        "$.messages[0].context.related_files[2]",
        "$.messages[0].message_id",
    }
    assert paths == _reference(model.MESSAGES, doc)


# The compiled validator must agree with jsonschema, on the seed and on any edit of it.
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.sampled_from(["", "x", "active", "task_001", "-x", "2024-01-15T10:30:00Z"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["status", "x", "title"]), children, max_size=2)
    ),
    max_leaves=6,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += _paths(v, (*prefix, i))
    return found


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data(), file=st.sampled_from(model.FILES))
def test_compiled_validator_agrees_with_jsonschema(data: st.DataObject, file: str) -> None:
    doc = json.loads((SEED / file).read_text())
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        value = data.draw(_JSON)
        if not path:
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1])
        else:
            parent[path[-1]] = copy.deepcopy(value)
    ours, reference = _ours(file, doc), _reference(file, doc)
    assert (not ours) == (not reference)
    # Both report anyOf failures where the anyOf is; ours names the closest branch's fault.
    assert {p for p in reference if not any(o.startswith(p) for o in ours)} == set()
    assert {o for o in ours if not any(o.startswith(p) for p in reference)} == set()
