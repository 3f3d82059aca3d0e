"""The official JSON-Schema-Test-Suite (draft 2020-12), run against the runtime validator.

Every case goes through `gitcoord.schema`: compiled as the project compiles its own schemas
(formats asserted, `date-time` by gitcoord's timestamp parser, no network) and explained as
the project explains errors, so a valid instance must give no violation and an invalid one
at least one, and the explaining must not fail on any keyword.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from typing import NamedTuple

import pytest

from gitcoord import schema

SUITE = Path(__file__).parents[1] / "fixtures" / "json-schema-test-suite"
TESTS = SUITE / "tests" / "draft2020-12"

# Where gitcoord is deliberately stricter than the standard, and why.
STRICTER = {
    # The project asserts formats (it must check its timestamps), so no format is a mere annotation.
    ("format.json", "only an annotation by default"): "formats are asserted",
    # A leap second is not an instant Python's datetime holds: a command could not read it.
    ("date-time.json", "with a leap second"): "no second 60",
    # The files are written with an upper-case T and Z, as the schema's pattern says.
    ("date-time.json", "case-insensitive T and Z"): "upper-case T and Z",
}


class Case(NamedTuple):
    file: str
    schema: Any
    data: Any
    valid: bool
    name: str


def _cases() -> list[Case]:
    found = []
    for path in sorted(TESTS.rglob("*.json")):
        for group in json.loads(path.read_text("utf-8")):
            for test in group["tests"]:
                name = f"{path.relative_to(TESTS)}: {group['description']}: {test['description']}"
                found.append(Case(path.name, group["schema"], test["data"], test["valid"], name))
    return found


CASES = _cases()


def _stricter(case: Case) -> str | None:
    return next((why for (file, words), why in STRICTER.items() if file == case.file and words in case.name), None)


def test_the_vendored_suite_is_there_with_its_license() -> None:
    assert (SUITE / "LICENSE").read_text().startswith("Copyright (c) 2012 Julian Berman")
    used = {p.stem for p in TESTS.glob("*.json")}
    assert {"ref", "anyOf", "allOf", "pattern", "propertyNames", "uniqueItems", "additionalProperties"} <= used
    assert len(CASES) > 500


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case) -> None:
    check = schema.compile_schema(case.schema)
    found = schema.violations(check, case.data)
    why = _stricter(case)
    if why is not None and case.valid:
        assert found, f"declared stricter ({why}) but accepted"
        return
    assert check.is_valid(case.data) is case.valid
    assert (not found) is case.valid, found
