"""The JSON Schemas of the four files, compiled into plain Python checks.

The schemas (draft 2020-12, in `schemas/`) are the contract other tools can read. Checking
a large store with the `jsonschema` package costs about five times the parse itself, so the
few keywords our schemas use are compiled here into closures; a schema that uses any other
keyword is refused at compile time, and the test suite checks that this validator and
`jsonschema` agree. The same walk gives the canonical layout of each file (`shape`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any
from typing import NamedTuple

from gitcoord import model
from gitcoord import timestamps
from gitcoord.jsonio import JsonPath
from gitcoord.jsonio import Shape


class SchemaError(Exception):
    """A schema uses something this compiler does not implement: our bug, not the user's."""


class Violation(NamedTuple):
    path: JsonPath
    message: str


Errors = list[Violation]
Ok = Callable[[Any], bool]
Explain = Callable[[Any, JsonPath, Errors], None]


class Node(NamedTuple):
    """A compiled schema: `ok` answers fast; `explain` says what is wrong, only when it is."""

    ok: Ok
    explain: Explain


_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "default"})
_KEYWORDS = frozenset(
    {
        "$ref",
        "type",
        "enum",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "properties",
        "required",
        "additionalProperties",
        "propertyNames",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "anyOf",
        "allOf",
        "format",
    }
)
_TYPES: dict[str, Ok] = {
    "string": lambda v: type(v) is str,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "number": lambda v: type(v) in (int, float),
    "integer": lambda v: type(v) is int or (type(v) is float and v.is_integer()),
}
_ARTICLE = {
    "string": "a string",
    "boolean": "true or false",
    "null": "null",
    "object": "an object",
    "array": "a list",
    "number": "a number",
    "integer": "an integer",
}


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


@functools.cache
def document(name: str) -> dict[str, Any]:
    from importlib.resources import files  # here, not at the top: importing it costs every read ~4 ms

    loaded: dict[str, Any] = json.loads(files("gitcoord.schemas").joinpath(name).read_text("utf-8"))
    return loaded


def _resolve(ref: str, base: str) -> tuple[str, dict[str, Any]]:
    name, _, pointer = ref.partition("#")
    name = name or base
    node: Any = document(name)
    for part in filter(None, pointer.split("/")):
        node = node[part]
    return name, node


class _Compiler:
    def __init__(self) -> None:
        self._refs: dict[str, Node] = {}

    def compile(self, schema: Any, base: str) -> Node:
        if schema is True or schema == {}:
            return _ACCEPT
        if not isinstance(schema, dict):
            raise SchemaError(f"unsupported schema {schema!r} in {base}")
        unknown = set(schema) - _KEYWORDS - _ANNOTATIONS
        if unknown:
            raise SchemaError(f"unsupported keywords {sorted(unknown)} in {base}")
        s, has = schema, schema.keys()
        if s.get("type") == "string" and has <= _STRING_KEYWORDS:
            return _string(s)
        nodes: list[Node] = []
        if "$ref" in s:
            nodes.append(self._ref(s["$ref"], base))
        if "type" in s:
            nodes.append(_type([s["type"]] if isinstance(s["type"], str) else s["type"]))
        if "enum" in s:
            nodes.append(_enum(s["enum"]))
        if "pattern" in s:
            nodes.append(_pattern(s["pattern"], s.get("description")))
        if "format" in s:
            nodes.append(_format(s["format"]))
        if has & {"minLength", "maxLength"}:
            nodes.append(_length(s.get("minLength", 0), s.get("maxLength")))
        if has & {"minimum", "maximum", "exclusiveMinimum"}:
            nodes.append(_bounds(s.get("minimum"), s.get("maximum"), s.get("exclusiveMinimum")))
        if has & {"properties", "required", "additionalProperties"}:
            nodes.append(self._object(s, base))
        if "propertyNames" in s:
            nodes.append(_property_names(self.compile(s["propertyNames"], base)))
        if "items" in s:
            nodes.append(_items(self.compile(s["items"], base)))
        if has & {"minItems", "maxItems"}:
            nodes.append(_count(s.get("minItems", 0), s.get("maxItems")))
        if s.get("uniqueItems"):
            nodes.append(_UNIQUE)
        if "anyOf" in s:
            nodes.append(_any_of([self.compile(x, base) for x in s["anyOf"]]))
        if "allOf" in s:
            nodes.extend(self.compile(x, base) for x in s["allOf"])
        return _all(nodes)

    def _ref(self, ref: str, base: str) -> Node:
        name, node = _resolve(ref, base)
        key = name + "#" + ref.partition("#")[2]
        if key not in self._refs:
            late: list[Node] = []  # a schema that refers to itself sees the node once compiled

            def ok(v: Any) -> bool:
                return late[0].ok(v)

            def explain(v: Any, p: JsonPath, e: Errors) -> None:
                late[0].explain(v, p, e)

            self._refs[key] = Node(ok, explain)
            late.append(self.compile(node, name))
            self._refs[key] = late[0]
        return self._refs[key]

    def _object(self, s: dict[str, Any], base: str) -> Node:
        props = {k: self.compile(sub, base) for k, sub in s.get("properties", {}).items()}
        oks = {k: n.ok for k, n in props.items()}
        required = tuple(s.get("required", ()))
        extra = s.get("additionalProperties", True)
        more = None if extra in (True, False) else self.compile(extra, base)
        more_ok = more.ok if more else None
        known = list(props)

        def ok(value: Any) -> bool:
            if type(value) is not dict:
                return True
            for name in required:
                if name not in value:
                    return False
            for name, item in value.items():
                sub = oks.get(name)
                if sub is not None:
                    if not sub(item):
                        return False
                elif more_ok is not None:
                    if not more_ok(item):
                        return False
                elif extra is False:
                    return False
            return True

        def explain(value: Any, path: JsonPath, errors: Errors) -> None:
            if type(value) is not dict:
                return
            for name in required:
                if name not in value:
                    errors.append(Violation(path, f"missing required field {name!r}"))
            for name, item in value.items():
                sub = props.get(name) or more
                if sub is not None:
                    sub.explain(item, (*path, name), errors)
                elif extra is False:
                    errors.append(Violation(path, _unknown_field(name, known)))

        return Node(ok, explain)


def _unknown_field(name: str, known: list[str]) -> str:
    import difflib  # only when explaining an error

    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f"; expected one of {', '.join(known)}"
    return f"unknown field {name!r}{hint}"


def _leaf(ok: Ok, message: Callable[[Any], str]) -> Node:
    def explain(value: Any, path: JsonPath, errors: Errors) -> None:
        if not ok(value):
            errors.append(Violation(path, message(value)))

    return Node(ok, explain)


_ACCEPT = Node(lambda v: True, lambda v, p, e: None)


def _all(nodes: list[Node]) -> Node:
    if not nodes:
        return _ACCEPT
    if len(nodes) == 1:
        return nodes[0]
    oks = tuple(n.ok for n in nodes)
    if len(oks) == 2:
        first, second = oks

        def both(value: Any) -> bool:
            return first(value) and second(value)

        ok = both
    else:

        def ok(value: Any) -> bool:
            for f in oks:
                if not f(value):
                    return False
            return True

    def explain(value: Any, path: JsonPath, errors: Errors) -> None:
        for n in nodes:
            n.explain(value, path, errors)

    return Node(ok, explain)


def _type(names: list[str]) -> Node:
    tests = [_TYPES[n] for n in names]
    expected = " or ".join(_ARTICLE[n] for n in names)
    ok = tests[0] if len(tests) == 1 else lambda v: any(t(v) for t in tests)
    return _leaf(ok, lambda v: f"{_show(v)} is not {expected}")


def _enum(allowed: list[Any]) -> Node:
    if not all(isinstance(a, str) for a in allowed):
        raise SchemaError(f"enum values must be strings: {allowed!r}")
    members = frozenset(allowed)
    listed = ", ".join(allowed)

    def message(value: Any) -> str:
        import difflib  # only when explaining an error

        close = difflib.get_close_matches(value, allowed, n=1) if isinstance(value, str) else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{_show(value)} is not one of: {listed}{hint}"

    return _leaf(lambda v: type(v) is str and v in members, message)


def _pattern(regex: str, description: str | None) -> Node:
    search = re.compile(regex).search
    expected = f"is not {description[0].lower()}{description[1:]}" if description else f"does not match {regex}"
    return _leaf(lambda v: type(v) is not str or search(v) is not None, lambda v: f"{_show(v)} {expected}")


def _format(name: str) -> Node:
    if name != "date-time":
        raise SchemaError(f"unsupported format {name!r}")
    return _leaf(
        lambda v: type(v) is not str or timestamps.is_calendar_date(v),
        lambda v: f"{_show(v)} is not a date that exists",
    )


def _length(low: int, high: int | None) -> Node:
    top = high if high is not None else float("inf")

    def message(value: str) -> str:
        if len(value) < low:
            return f"{_show(value)} is shorter than {low} characters"
        return f"text of {len(value)} characters is longer than the limit of {high}"

    return _leaf(lambda v: type(v) is not str or low <= len(v) <= top, message)


def _bounds(low: float | None, high: float | None, above: float | None) -> Node:
    def ok(value: Any) -> bool:
        if type(value) not in (int, float):
            return True
        return not (
            (low is not None and value < low)
            or (above is not None and value <= above)
            or (high is not None and value > high)
        )

    def message(value: float) -> str:
        limits = [
            f"at least {low}" if low is not None else "",
            f"more than {above}" if above is not None else "",
            f"at most {high}" if high is not None else "",
        ]
        return f"{value} is out of range: it must be {' and '.join(filter(None, limits))}"

    return _leaf(ok, message)


def _property_names(sub: Node) -> Node:
    def explain(value: Any, path: JsonPath, errors: Errors) -> None:
        if type(value) is dict:
            for name in value:
                sub.explain(name, (*path, name), errors)

    return Node(lambda v: type(v) is not dict or all(map(sub.ok, v)), explain)


def _items(sub: Node) -> Node:
    def explain(value: Any, path: JsonPath, errors: Errors) -> None:
        if type(value) is list:
            for i, item in enumerate(value):
                sub.explain(item, (*path, i), errors)

    return Node(lambda v: type(v) is not list or all(map(sub.ok, v)), explain)


def _count(low: int, high: int | None) -> Node:
    top = high if high is not None else float("inf")

    def message(value: list[Any]) -> str:
        if len(value) < low:
            return f"a list of {len(value)} items is shorter than {low}"
        return f"a list of {len(value)} items is longer than the limit of {high}"

    return _leaf(lambda v: type(v) is not list or low <= len(v) <= top, message)


def _unique_ok(value: Any) -> bool:
    if type(value) is not list or len(value) < 2:
        return True
    if all(type(item) is str for item in value):  # the common case: a list of names
        return len(set(value)) == len(value)
    keys = [json.dumps(item, sort_keys=True) for item in value]
    return len(set(keys)) == len(keys)


def _first_repeat(value: list[Any]) -> str:
    seen: set[str] = set()
    for item in value:  # pragma: no branch (called only when there is a repeat)
        key = json.dumps(item, sort_keys=True)
        if key in seen:
            return f"{_show(item)} appears more than once"
        seen.add(key)
    raise AssertionError("no repeat")  # pragma: no cover


_UNIQUE = _leaf(_unique_ok, _first_repeat)


def _any_of(options: list[Node]) -> Node:
    oks = tuple(o.ok for o in options)

    def explain(value: Any, path: JsonPath, errors: Errors) -> None:
        found: list[Errors] = []
        for option in options:
            sub: Errors = []
            option.explain(value, path, sub)
            if not sub:
                return
            found.append(sub)
        # Say why the closest alternative failed: it is nearly always the one that was meant.
        closest: Errors = min(found, key=len)
        errors.extend(closest)

    if len(oks) == 2:
        first, second = oks
        return Node(lambda v: first(v) or second(v), explain)
    return Node(lambda v: any(f(v) for f in oks), explain)


_STRING_KEYWORDS = frozenset({"type", "pattern", "format", "minLength", "maxLength"}) | _ANNOTATIONS


def _string(s: dict[str, Any]) -> Node:
    """A string with its pattern, length and format checked in one step: most fields are these."""
    search = re.compile(s["pattern"]).search if "pattern" in s else None
    low, high = s.get("minLength", 0), s.get("maxLength")
    top = high if high is not None else float("inf")
    dated = s.get("format") == "date-time"
    if "format" in s and not dated:
        raise SchemaError(f"unsupported format {s['format']!r}")

    def ok(v: Any) -> bool:
        return (
            type(v) is str
            and low <= len(v) <= top
            and (search is None or search(v) is not None)
            and (not dated or timestamps.is_calendar_date(v))
        )

    # What is wrong is worked out by the keyword checks one by one (only when something is).
    parts = [_type(["string"])]
    if "pattern" in s:
        parts.append(_pattern(s["pattern"], s.get("description")))
    if "format" in s:
        parts.append(_format(s["format"]))
    if "minLength" in s or "maxLength" in s:
        parts.append(_length(low, high))
    detailed = _all(parts)
    return Node(ok, detailed.explain)


@functools.cache
def compiled(file: str) -> Node:
    return _Compiler().compile(document(file), file)


@functools.cache
def compiled_at(file: str, pointer: str) -> Node:
    """The check for one part of a file's schema, e.g. "/properties/messages/items"."""
    node: Any = document(file)
    for part in filter(None, pointer.split("/")):
        node = node[part]
    return _Compiler().compile(node, file)


def validate_changes(file: str, new: dict[str, Any], trusted: set[int]) -> Errors:
    """Like `validate(file, new)`, but the records in `trusted` (by id()) are known to be valid.

    A protocol step copies only what it changes, and a commit changes a handful of records:
    on a large store this checks those instead of every one.
    """
    top = document(file)
    errors: Errors = [Violation((), f"missing required field {k!r}") for k in top.get("required", ()) if k not in new]
    for key, value in new.items():
        if key not in top["properties"]:
            errors.append(Violation((), _unknown_field(key, list(top["properties"]))))
            continue
        prop = top["properties"][key]
        if isinstance(value, list) and "items" in prop:
            item = compiled_at(file, f"/properties/{key}/items")
            for i, r in enumerate(value):
                if id(r) not in trusted:
                    item.explain(r, (key, i), errors)
        elif isinstance(value, dict) and isinstance(prop.get("additionalProperties"), dict):
            names = compiled_at(file, f"/properties/{key}/propertyNames")
            entry = compiled_at(file, f"/properties/{key}/additionalProperties")
            for name, r in value.items():
                if id(r) not in trusted:
                    names.explain(name, (key, name), errors)
                    entry.explain(r, (key, name), errors)
        else:
            compiled_at(file, f"/properties/{key}").explain(value, (key,), errors)
    return errors


def shared(old: dict[str, Any]) -> set[int]:
    """The id() of every record of `old`: a protocol step's new document shares those it kept."""
    return {
        id(r) for v in old.values() if isinstance(v, (list, dict)) for r in (v if isinstance(v, list) else v.values())
    }


def validate(file: str, doc: Any) -> Errors:
    node = compiled(file)
    if node.ok(doc):
        return []
    errors: Errors = []
    node.explain(doc, (), errors)
    return errors


# The canonical layout, read from the same schemas ----------------------------------------


def _object_schema(schema: dict[str, Any], base: str) -> tuple[dict[str, Any], str]:
    """Follow $ref, allOf and anyOf down to the schema that describes an object or a list."""
    while True:
        if "$ref" in schema:
            base, schema = _resolve(schema["$ref"], base)
        elif "allOf" in schema:
            schema = schema["allOf"][0]
        elif "anyOf" in schema:
            schema = schema["anyOf"][0]
        else:
            return schema, base


def _shape(schema: dict[str, Any], base: str, sort_key: tuple[str, ...] = ()) -> Shape:
    schema, base = _object_schema(schema, base)
    props = schema.get("properties", {})
    children = {k: _shape(v, base, _SORT_KEYS.get(k, ())) for k, v in props.items()}
    values = None
    if isinstance(schema.get("additionalProperties"), dict):
        values = _shape(schema["additionalProperties"], base)
    elif isinstance(schema.get("items"), dict):
        values = _shape(schema["items"], base)
    return Shape({k: n for n, k in enumerate(props)}, children, values, sort_key)


# Lists of records are kept in id order, so that every writer and every merge agrees.
_SORT_KEYS: dict[str, tuple[str, ...]] = {
    **{name: (c.id_key,) for c in model.COLLECTIONS.values() if c.id_key for name in c.lists},
    "response_queue": ("responding_to",),
    "merge_conflicts": ("record", "field"),
}


@functools.cache
def shape(file: str) -> Shape:
    return _shape(document(file), file)
