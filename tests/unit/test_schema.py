from __future__ import annotations

import json
import math
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
from tests import oracle
from tests.conftest import SEED

from gitcoord import jsonio
from gitcoord import model
from gitcoord import rulebook
from gitcoord import schema
from gitcoord import schemas

SCHEMA_FILES = ("common.json", *model.FILES)


def _seed(file: str) -> Any:
    return json.loads((SEED / file).read_text())


def _ours(file: str, doc: Any) -> set[str]:
    return {jsonio.format_path(v.path) for v in schema.validate(file, doc)}


def _messages(file: str, doc: Any) -> dict[str, str]:
    return {jsonio.format_path(v.path): v.message for v in schema.validate(file, doc)}


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schemas_are_valid_draft_2020_12(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schemas.document(name))
    assert jsonschema_rs.meta.is_valid(schemas.document(name))


@pytest.mark.parametrize("file", model.FILES)
def test_the_seed_examples_validate_unchanged(file: str) -> None:
    assert schema.validate(file, _seed(file)) == []
    assert oracle.errors(file, _seed(file)) == set()


def _enum(node: dict[str, Any]) -> list[str]:
    return list(node["enum"])


def test_statuses_in_the_schemas_are_the_ones_the_core_declares() -> None:
    tasks = schemas.document(model.TASKS)["$defs"]["task"]["properties"]
    assert _enum(tasks["status"]) == list(rulebook.TASK_STATUSES)
    assert _enum(tasks["contested"]["items"]["properties"]["status"]) == list(rulebook.TASK_STATUSES)
    registry = schemas.document(model.REGISTRY)["$defs"]["instance"]["properties"]
    assert _enum(registry["status"]) == list(rulebook.INSTANCE_STATUSES)
    message = schemas.document(model.MESSAGES)["$defs"]["message"]["properties"]
    assert _enum(message["type"]) == list(rulebook.MESSAGE_TYPES)
    assert _enum(message["status"]) == list(rulebook.MESSAGE_STATUSES)
    queued = schemas.document(model.MESSAGES)["$defs"]["queued_response"]["properties"]
    assert _enum(queued["status"]) == list(model.QUEUE_STATUSES)
    decision = schemas.document(model.DECISIONS)["$defs"]["decision"]["properties"]
    assert _enum(decision["status"]) == list(rulebook.DECISION_STATUSES)
    assert _enum(schemas.document("common.json")["$defs"]["priority"]) == list(rulebook.PRIORITIES)
    assert set(model.TASK_LIST) == set(rulebook.TASK_STATUSES)
    assert set(model.DECISION_LIST) == set(rulebook.DECISION_STATUSES)


def test_every_status_is_reachable_by_a_declared_move() -> None:
    targets = {name: {m.target for m in kind.moves.values()} for name, kind in rulebook.KINDS.items()}
    assert targets["task"] == set(rulebook.TASK_STATUSES)
    assert targets["decision"] == set(rulebook.DECISION_STATUSES)
    assert targets["message"] == set(rulebook.MESSAGE_STATUSES)
    assert targets["instance"] | {"offline"} == set(rulebook.INSTANCE_STATUSES)


@pytest.mark.parametrize(
    "broken",
    [
        {"type": 12},
        {"$ref": "#/nowhere"},
        {"$ref": "common.json#/$defs/missing"},
        {"$ref": "https://example.com/elsewhere.json"},  # never fetched: the validator is offline
        {"format": "no-such-format"},
    ],
)
def test_a_broken_schema_is_our_bug_not_the_users(broken: dict[str, Any]) -> None:
    with pytest.raises(schema.SchemaError):
        schema.compile_schema(broken)


def test_schemas_refer_to_each_other_by_name() -> None:
    check = schema.compile_schema({"$ref": "common.json#/$defs/instance_id"})
    assert check.is_valid("instance-1")
    assert not check.is_valid("-rf")


def test_messages_say_what_to_fix() -> None:
    doc = _seed(model.TASKS)
    task = doc["pending_tasks"][0]
    task["stauts"] = task.pop("status")
    task["priority"] = "urgent"
    task["title"] = "x" * 201
    doc["active_tasks"][0]["status"] = "in_progres"
    messages = _messages(model.TASKS, doc)
    assert messages["$.pending_tasks[0]"] in (
        "missing required field 'status'",
        "unknown field 'stauts' (did you mean 'status'?)",
    )
    assert "is not one of: high, medium, low" in messages["$.pending_tasks[0].priority"]
    assert "longer than the limit of 200" in messages["$.pending_tasks[0].title"]
    assert "(did you mean 'in_progress'?)" in messages["$.active_tasks[0].status"]


def test_every_error_at_once_each_in_words() -> None:
    doc = _seed(model.TASKS)
    task = doc["pending_tasks"][0]
    task.update(assigned_to="-rf", due="2024-02-30T10:00:00Z", dependencies=["task_001", "task_001"], extra=1)
    del task["priority"]
    found = sorted(schema.validate(model.TASKS, doc))
    assert [(jsonio.format_path(v.path), v.message) for v in found] == [
        ("$.pending_tasks[0]", "missing required field 'priority'"),
        ("$.pending_tasks[0]", "unknown field 'extra'; expected one of " + ", ".join(_task_fields())),
        # The closest alternative of an anyOf is the one explained, in the schema's own words.
        (
            "$.pending_tasks[0].assigned_to",
            "\"-rf\" is not an instance name: letters, digits, '.', '_' or '-', not starting with '-'",
        ),
        ("$.pending_tasks[0].dependencies", '"task_001" appears more than once'),
        ("$.pending_tasks[0].due", '"2024-02-30T10:00:00Z" is not a date that exists'),
    ]


def _task_fields() -> list[str]:
    return list(schemas.document(model.TASKS)["$defs"]["task"]["properties"])


def test_a_bad_name_is_reported_at_the_name() -> None:
    doc = _seed(model.REGISTRY)
    doc["instances"]["-bad"] = doc["instances"].pop("instance-1")
    assert _messages(model.REGISTRY, doc) == {
        "$.instances['-bad']": "\"-bad\" is not an instance name: letters, digits, '.', '_' or '-', not starting with '-'"
    }


def test_a_malformed_timestamp_gets_one_message_not_two() -> None:
    doc = _seed(model.TASKS)
    doc["pending_tasks"][0]["created"] = "2024-01-15 10:00:00Z"
    assert _messages(model.TASKS, doc) == {
        "$.pending_tasks[0].created": '"2024-01-15 10:00:00Z" is not RFC 3339 date and time with a zone, '
        "e.g. 2024-01-15T10:30:00Z"
    }


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
        ("2024-01-15T10:30:60Z", False),
        ("0000-01-15T10:30:00Z", False),
        ("2024-01-15T10:30:00Z\n", False),
        ("2100-02-29T10:30:00Z", False),
    ],
)
def test_timestamps(value: str, valid: bool) -> None:
    doc = _seed(model.TASKS)
    doc["pending_tasks"][0]["due"] = value
    assert (schema.validate(model.TASKS, doc) == []) is valid
    assert (oracle.errors(model.TASKS, doc) == set()) is valid


def test_hostile_ids_and_paths_are_refused() -> None:
    doc = _seed(model.MESSAGES)
    message = doc["messages"][0]
    message["to"] = "-rf"
    message["from"] = "instance-1\n"
    message["context"]["related_files"] = ["../../etc/passwd", "docs/../../x", "-o", "ok/fine.md", "/docs/", "a.md\n"]
    message["message_id"] = "msg_../x"
    message["in_reply_to"] = "msg_001\n"
    paths = _ours(model.MESSAGES, doc)
    assert paths == {
        "$.messages[0].to",
        "$.messages[0].from",
        "$.messages[0].context.related_files[0]",
        "$.messages[0].context.related_files[1]",
        "$.messages[0].context.related_files[2]",
        "$.messages[0].context.related_files[5]",
        "$.messages[0].message_id",
        "$.messages[0].in_reply_to",
    }
    assert paths == oracle.errors(model.MESSAGES, doc)


def test_unique_items_compares_as_json_does() -> None:
    check = schema.compile_schema({"uniqueItems": True})
    assert [v.message for v in schema.violations(check, [1, 1.0])] == ["1.0 appears more than once"]
    assert schema.violations(check, [True, 1]) == []
    assert schema.violations(check, [{"a": 1}, {"a": 1.0}]) != []


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_numbers_must_be_finite(value: float) -> None:
    doc = _seed(model.REGISTRY)
    doc["settings"] = {"checkin_hours": value}
    assert list(_messages(model.REGISTRY, doc).values()) == [
        f"{json.dumps(value)} is not a number that exists; numbers must be finite"
    ]
    # Deliberately stricter than the oracle, which takes NaN for a number in range (every
    # comparison with NaN is false). A file never brings one: the parser refuses NaN.
    assert oracle.errors(model.REGISTRY, doc) == (set() if math.isnan(value) else {"$.settings.checkin_hours"})


def test_text_utf8_cannot_hold_is_a_violation_not_a_crash() -> None:
    old = _seed(model.TASKS)
    new = {**old, "pending_tasks": [old["pending_tasks"][0], {**old["pending_tasks"][1], "title": "a\udcff"}]}
    # What a command line of bytes that are not UTF-8 gives a step.
    found = schema.validate_changes(model.TASKS, new, schema.shared(old))
    assert found == [schema.Violation(("pending_tasks", 1, "title"), jsonio.SURROGATE)]
    new["pending_tasks"][1]["task_id"] = "task_\ud800"
    assert [v.message for v in schema.validate(model.TASKS, new)] == [jsonio.SURROGATE]


def test_only_what_changed_is_checked_and_found_where_it_is() -> None:
    old = _seed(model.TASKS)
    new = {**old, "pending_tasks": [{**old["pending_tasks"][0], "priority": "urgent"}, old["pending_tasks"][1]]}
    assert _ours(model.TASKS, new) == {"$.pending_tasks[0].priority"}
    trusted = schema.shared(old)
    assert [v.path for v in schema.validate_changes(model.TASKS, new, trusted)] == [("pending_tasks", 0, "priority")]
    # The changed record is the second of its list: its path is mapped back to it.
    swapped = {**new, "pending_tasks": [old["pending_tasks"][1], new["pending_tasks"][0]]}
    assert [v.path for v in schema.validate_changes(model.TASKS, swapped, trusted)] == [
        ("pending_tasks", 1, "priority")
    ]
    # A trusted record is not checked again, and the rest of the file is.
    assert schema.validate_changes(model.TASKS, old, trusted) == []
    assert schema.validate_changes(model.TASKS, {**old, "extra": 1}, trusted) != []


def test_a_list_past_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "MAX_RECORDS", 1)
    doc = _seed(model.TASKS)
    found = schema.validate(model.TASKS, doc)
    assert [v.path for v in found] == [("pending_tasks",)]
    assert "too many records: 2 is more than the limit of 1; `coord archive`" in found[0].message
    assert schema.validate_changes(model.TASKS, doc, schema.shared(doc)) == found


def _nested(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


def test_a_conflict_nested_past_the_limit_is_refused() -> None:
    doc = _seed(model.TASKS)
    # The file, merge_conflicts, the entry and its values are four levels: the rest may be 60.
    doc["merge_conflicts"] = [{"record": "task_001", "field": "title", "values": ["a", _nested(60)], "reason": "r"}]
    assert schema.validate(model.TASKS, doc) == []
    doc["merge_conflicts"][0]["values"][1] = _nested(61)
    found = schema.validate(model.TASKS, doc)
    assert [v.path for v in found] == [("merge_conflicts", 0)]
    assert f"nested more than {jsonio.MAX_DEPTH} levels deep" in found[0].message


def test_the_schemas_leave_open_only_a_conflicts_candidates() -> None:
    """The depth limit looks at merge_conflicts only: everything else has a depth the schemas fix."""
    open_at = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node == {} or (node.get("type") == "array" and "items" not in node):
                open_at.append(where)
            for key, sub in node.items():
                walk(sub, f"{where}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{where}/{i}")

    for name in SCHEMA_FILES:
        walk(schemas.document(name), name)
    assert open_at == [
        "common.json/$defs/merge_conflicts/items/properties/base",
        "common.json/$defs/merge_conflicts/items/properties/values",
    ]
