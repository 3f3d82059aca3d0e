"""The runtime validator (jsonschema-rs, through gitcoord.schema) against a second implementation.

Documents are the seed's files edited at random, with the values that break validators:
a second 60, year 0000, trailing newlines, NaN and the infinities, true against 1 against
1.0, huge integers, characters outside the BMP and lone surrogates, deep nesting. The
verdicts must agree, except where gitcoord is deliberately stricter, each said below.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from tests import oracle
from tests.conftest import SEED

from gitcoord import jsonio
from gitcoord import model
from gitcoord import schema


def test_the_oracle_checks_dates() -> None:
    """Without rfc3339-validator, jsonschema's FormatChecker passes any date-time: the oracle would be blind."""
    checker = oracle.format_checker()
    assert "date-time" in checker.checkers
    assert checker.conforms("2024-01-15T10:30:00Z", "date-time")
    for bad in ("2024-02-30T10:00:00Z", "2024-01-15T10:30:60Z", "0000-01-15T10:30:00Z", "yesterday"):
        assert not checker.conforms(bad, "date-time"), bad


def test_the_oracle_reads_patterns_as_the_standard_does() -> None:
    assert jsonschema.Draft202012Validator({"pattern": "^a$"}).is_valid("a\n"), (
        "jsonschema reads $ right: drop the shim"
    )
    assert not oracle.is_valid({"pattern": "^a$"}, "a\n")
    assert oracle.is_valid({"pattern": "^a$"}, "a")
    assert oracle.is_valid({"pattern": "^[$]x$"}, "$x")
    assert oracle.ecma_pattern(r"(^|/)\.\.(/|$)").search("a/..")


def _nested(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


EDGE_STRINGS = [
    "",
    "x",
    "active",
    "high",
    "instance-1",
    "instance-1\n",
    "task_001",
    "task_001\n",
    "msg_001",
    "dec_001",
    "-rf",
    "docs/a.md",
    "docs/a.md\n",
    "../etc/passwd",
    "2024-01-15T10:30:00Z",
    "2024-01-15T10:30:60Z",
    "2016-12-31T23:59:60Z",
    "0000-01-15T10:30:00Z",
    "2024-01-15T10:30:00Z\n",
    "2024-02-30T10:00:00Z",
    "2023-02-29T10:00:00Z",
    "2024-02-29T10:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2024-01-15t10:30:00z",
    "\U0001f600",
    "\U0001f600" * 120,
    "\U0001f600" * 121,
    "x" * 200,
    "x" * 201,
    "\ud800",
    "a\udcffb",
]
EDGE_NUMBERS = [0, 1, -1, 1.0, 0.5, 24, 8760, 8760.0, 8760.5, 10**30, 10**4000, -(10**30), 1e308, math.nan, math.inf]
LEAVES = (
    st.none()
    | st.booleans()
    | st.sampled_from(EDGE_NUMBERS)
    | st.integers(-5, 5)
    | st.floats()
    | st.sampled_from(EDGE_STRINGS)
    | st.text(max_size=5)
)
VALUES = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["status", "x", "title", "record", "field"]), children, max_size=2)
    ),
    max_leaves=6,
) | st.integers(50, 100).map(_nested)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += _paths(v, (*prefix, i))
    return found


def _edit(data: st.DataObject, doc: Any) -> None:
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(doc)))
        if not path:
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent[path[-1]], str) and data.draw(st.booleans()):
            parent[path[-1]] = data.draw(st.sampled_from(EDGE_STRINGS))  # a string field: an edge string
        elif data.draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1])
        else:
            parent[path[-1]] = copy.deepcopy(data.draw(VALUES))


def _refused_by_the_parser(doc: Any) -> bool:
    """NaN and the infinities: the parser refuses them before any validation (jsonschema-rs reads NaN as null)."""
    text = json.dumps(doc)
    try:
        jsonio.parse(text.encode())
    except jsonio.ParseError:
        return True
    return False


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data(), file=st.sampled_from(model.FILES))
def test_the_runtime_validator_agrees_with_the_oracle(data: st.DataObject, file: str) -> None:
    doc = json.loads((SEED / file).read_text())
    if data.draw(st.booleans()):
        doc["merge_conflicts"] = [{"record": "task_001", "field": "title", "values": ["a", "b"], "reason": "both"}]
    _edit(data, doc)
    if jsonio.find_surrogate(doc) is not None:
        # Stricter: text UTF-8 cannot encode could never be written. The parser refuses it in
        # a file (see test_jsonio), and validate_changes in what a step brings in.
        assert schema.validate_changes(file, doc, set()), "a lone surrogate passed"
        return
    ours = {jsonio.format_path(v.path) for v in schema.validate(file, doc)}
    if any(isinstance(v, float) and not math.isfinite(v) for v in _leaves(doc)):
        assert _refused_by_the_parser(doc)
        return
    if isinstance(doc.get("merge_conflicts"), list) and schema._depth(doc["merge_conflicts"]) > jsonio.MAX_DEPTH - 1:
        # Stricter: a conflict's candidates (the one place the schemas leave open) nest MAX_DEPTH at most.
        assert any(o.startswith("$.merge_conflicts[") for o in ours)
        return
    if any(isinstance(v, str) and v in OUT_OF_TIME for v in _leaves(doc)):
        return  # stricter on days outside the years 1-9999 in UTC: test_every_edge_value_in_every_field
    reference = oracle.errors(file, doc)
    assert (not ours) == (not reference), (ours, reference)
    # Both report anyOf failures where the anyOf is; ours names the closest branch's fault.
    assert {p for p in reference if not any(o.startswith(p) for o in ours)} == set()
    assert {o for o in ours if not any(o.startswith(p) for p in reference)} == set()


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


@pytest.mark.parametrize("value", [True, 1, 1.0, 10**4000, "1"])
def test_true_one_and_one_point_zero_are_told_apart(value: Any) -> None:
    doc = json.loads((SEED / model.REGISTRY).read_text())
    doc["instances"]["instance-1"]["available_for_consultation"] = value
    ours = {jsonio.format_path(v.path) for v in schema.validate(model.REGISTRY, doc)}
    expected = set() if value is True else {"$.instances['instance-1'].available_for_consultation"}
    assert ours == expected == oracle.errors(model.REGISTRY, doc)


def _fields(file: str) -> list[tuple[Any, ...]]:
    """One path to each kind of leaf of the seed's file (the first record of each list stands for all)."""
    doc = json.loads((SEED / file).read_text())
    seen, found = set(), []
    for path in _paths(doc):
        kind = tuple(0 if isinstance(p, int) else p for p in path)
        value = _at(doc, path)
        if path and not isinstance(value, (dict, list)) and kind not in seen:
            seen.add(kind)
            found.append(path)
    return found


# Days of the calendar whose instants in UTC fall before the year 1 or after 9999.
OUT_OF_TIME = frozenset({"0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"})


def _takes_timestamps(file: str, path: tuple[Any, ...]) -> bool:
    """Whether the field at `path` holds a timestamp: the oracle takes one there, and not other text."""

    def with_value(value: str) -> bool:
        doc = json.loads((SEED / file).read_text())
        _at(doc, path[:-1])[path[-1]] = value
        return not oracle.errors(file, doc)

    return with_value("2024-01-15T10:30:00Z") and not with_value("2024-01-15")


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


FIELD_CASES = [(file, path) for file in model.FILES for path in _fields(file)]


@pytest.mark.parametrize(("file", "path"), FIELD_CASES, ids=[f"{f}:{jsonio.format_path(p)}" for f, p in FIELD_CASES])
def test_every_edge_value_in_every_field(file: str, path: tuple[Any, ...]) -> None:
    for value in [*EDGE_STRINGS, *EDGE_NUMBERS, True, False, None, [], {}, _nested(70)]:
        doc = json.loads((SEED / file).read_text())
        _at(doc, path[:-1])[path[-1]] = value
        ours = {jsonio.format_path(v.path) for v in schema.validate_changes(file, doc, set())}
        if jsonio.find_surrogate(doc) is not None:
            assert ours, f"{value!r} passed"  # stricter: see test_the_runtime_validator_agrees_with_the_oracle
        elif isinstance(value, float) and not math.isfinite(value):
            assert _refused_by_the_parser(doc)
        elif isinstance(value, str) and value in OUT_OF_TIME and _takes_timestamps(file, path):
            # Stricter: a day whose instant in UTC falls outside the years 0001 to 9999 could
            # be neither compared nor printed, so no timestamp may name it.
            assert ours, f"{value!r} passed"
        else:
            assert (not ours) == (not oracle.errors(file, doc)), (value, ours, oracle.errors(file, doc))
