"""The second implementation the runtime validator is checked against: Python's `jsonschema`.

Two things make it an oracle rather than an echo:

- formats are really checked: jsonschema's FormatChecker checks `date-time` only when
  `rfc3339-validator` is installed (a test dependency), and `test_the_oracle_checks_dates`
  fails if it ever stops;
- patterns are read as the standard says (ECMA 262, JSON Schema's regex dialect), where `$`
  is the end of the text. jsonschema hands them to Python's `re.search`, whose `$` also
  matches before a final newline, so it would take "instance-1\\n" for an instance id.

Nothing of gitcoord's timestamp code is used here: the dates are rfc3339-validator's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
from jsonschema import validators
from referencing import Registry
from referencing import Resource

from gitcoord import model
from gitcoord import schemas

DOCUMENTS = (schemas.COMMON, *model.FILES)


def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """`pattern` in Python's dialect: an unescaped `$` outside a class becomes `\\Z` (end of text)."""
    out, escaped, in_class = [], False, False
    for c in pattern:
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "$" and not in_class:
            out.append(r"\Z")
            continue
        out.append(c)
    return re.compile("".join(out))


_compiled = functools.cache(ecma_pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[jsonschema.ValidationError]:
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


Reference = validators.extend(jsonschema.Draft202012Validator, {"pattern": _pattern})


@functools.cache
def registry() -> Registry[Any]:
    return Registry().with_resources(
        (schemas.document(n)["$id"], Resource.from_contents(schemas.document(n))) for n in DOCUMENTS
    )


def format_checker() -> jsonschema.FormatChecker:
    return jsonschema.FormatChecker()


@functools.cache
def validator(file: str) -> Any:
    return Reference(schemas.document(file), registry=registry(), format_checker=format_checker())


def errors(file: str, doc: Any) -> set[str]:
    """The JSON paths at which the oracle finds `doc` invalid against the schema of `file`."""
    return {e.json_path for e in validator(file).iter_errors(doc)}


def is_valid(schema: Any, instance: Any) -> bool:
    return bool(Reference(schema, registry=registry(), format_checker=format_checker()).is_valid(instance))
