"""Each file checked against its JSON Schema by jsonschema-rs, a complete draft 2020-12 validator.

This module is the only one that knows the library. It compiles each file's schema once,
asks the fast question first (is the document valid?), and only when it is not, turns the
library's errors into the project's: every error, at its JSON path, in words that say what
to fix (the field that was probably meant, the schema's own description of a pattern, the
`anyOf` alternative that came closest). The `date-time` format is checked by the very
parser every command uses (`timestamps`), so what validates never fails a command later.

On top of the schemas it keeps two limits the standard cannot say: how many records one
list may hold, and how deep the values the schemas leave open (a merge conflict's
candidates) may nest.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple

from gitcoord import jsonio
from gitcoord import model
from gitcoord import schemas
from gitcoord import timestamps
from gitcoord.jsonio import JsonPath
from gitcoord.schemas import SchemaError as SchemaError  # raised here, so callers find it here

if TYPE_CHECKING:
    import jsonschema_rs

MAX_RECORDS = 1_000_000  # per list (or map) of records; the L benchmark store has 50,000 messages


class Violation(NamedTuple):
    path: JsonPath
    message: str


_DOCUMENTS = (schemas.COMMON, *model.FILES)
_BASE = "https://gitcoord.dev/schemas/"  # where the schemas' $ids live: "common.json" names one of them


@functools.cache
def validator(file: str) -> jsonschema_rs.Validator:
    """The compiled check of one file's schema (a live file's name)."""
    # Every date-time of these schemas carries timestamps.PATTERN (a test says so), which the
    # library checks in Rust: the format needs only the calendar half of the parser, which
    # halves what Python does per timestamp.
    return compile_schema(schemas.document(file), date_time=timestamps.day_exists)


def compile_schema(
    schema: dict[str, Any] | bool, *, date_time: Callable[[str], bool] = timestamps.is_valid
) -> jsonschema_rs.Validator:
    """A validator for `schema`, which may refer to the project's schemas by name; SchemaError if it is broken."""
    import jsonschema_rs  # here, not at the top: `coord --help`, reads and the merge driver never need it

    try:
        return jsonschema_rs.validator_for(
            schema,
            registry=_registry(),
            base_uri=schema.get("$id", _BASE) if isinstance(schema, dict) else _BASE,
            offline=True,  # the schemas refer only to each other: never fetch anything
            validate_formats=True,
            ignore_unknown_formats=False,  # a format nobody checks would pass anything
            formats={"date-time": date_time},
        )
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as e:
        raise SchemaError(f"a schema does not compile: {e}") from e


@functools.cache
def _registry() -> jsonschema_rs.Registry:
    import jsonschema_rs

    return jsonschema_rs.Registry([(schemas.document(n)["$id"], schemas.document(n)) for n in _DOCUMENTS])


def validate(file: str, doc: Any) -> list[Violation]:
    """Every way `doc` breaks the schema of `file` (a live file's name); none when it is valid.

    For a parsed document, which holds no lone surrogate (the parser refuses them).
    """
    return [*violations(validator(file), doc), *_too_many(doc), *_too_deep(doc)]


def violations(check: jsonschema_rs.Validator, doc: Any) -> list[Violation]:
    """Every way `doc` breaks the schema `check` was compiled from, in the project's words."""
    try:
        if check.is_valid(doc):
            return []
        return [v for e in _relevant(check.iter_errors(doc)) for v in _explain(e, _finder(doc))]
    except UnicodeEncodeError:  # a lone surrogate: see validate_changes
        return [Violation(jsonio.find_surrogate(doc) or (), jsonio.SURROGATE)]


def validate_changes(file: str, new: dict[str, Any], trusted: set[int]) -> list[Violation]:
    """Like `validate(file, new)`, but the records in `trusted` (by id()) are known to be valid.

    A protocol step copies only what it changes, and a commit changes a handful of records:
    on a large store this checks those instead of every one. The document is checked with
    the trusted records left out, and the paths of what is found are mapped back.
    """
    top = schemas.document(file)["properties"]
    kept: dict[str, Any] = {}
    where: dict[str, list[int]] = {}  # list name -> the index in `new` of each record kept
    for key, value in new.items():
        prop = top.get(key, {})
        if isinstance(value, list) and "items" in prop:
            where[key] = [i for i, r in enumerate(value) if id(r) not in trusted]
            kept[key] = [value[i] for i in where[key]]
        elif isinstance(value, dict) and isinstance(prop.get("additionalProperties"), dict):
            kept[key] = {name: r for name, r in value.items() if id(r) not in trusted}
        else:
            kept[key] = value
    # What a step brings in may come from a command line of bytes that are not UTF-8, which
    # Python holds as lone surrogates; the library does not always notice them.
    text = jsonio.find_surrogate(kept)
    if text is not None:
        return [Violation(_original(text, where), jsonio.SURROGATE)]
    found = [*violations(validator(file), kept), *_too_deep(kept)]
    return [*(v._replace(path=_original(v.path, where)) for v in found), *_too_many(new)]


def _original(path: JsonPath, where: dict[str, list[int]]) -> JsonPath:
    if len(path) > 1 and path[0] in where and isinstance(path[1], int):
        return (path[0], where[str(path[0])][path[1]], *path[2:])
    return path


def shared(old: dict[str, Any]) -> set[int]:
    """The id() of every record of `old`: a protocol step's new document shares those it kept."""
    return {
        id(r) for v in old.values() if isinstance(v, (list, dict)) for r in (v if isinstance(v, list) else v.values())
    }


# Limits ----------------------------------------------------------------------------------


def _too_many(doc: Any) -> Iterator[Violation]:
    for key, value in doc.items() if isinstance(doc, dict) else ():
        if isinstance(value, (list, dict)) and len(value) > MAX_RECORDS:
            yield Violation(
                (key,),
                f"too many records: {len(value):,} is more than the limit of {MAX_RECORDS:,}; "
                "`coord archive` moves closed records out of the live files",
            )


def _too_deep(doc: Any) -> Iterator[Violation]:
    # The schemas fix the depth of everything but a conflict's candidates, which may be anything.
    conflicts = doc.get("merge_conflicts") if isinstance(doc, dict) else None
    for i, conflict in enumerate(conflicts if isinstance(conflicts, list) else ()):
        if _depth(conflict) > jsonio.MAX_DEPTH - 2:
            message = f"nested more than {jsonio.MAX_DEPTH} levels deep, past the limit; settle it with `coord resolve`"
            yield Violation(("merge_conflicts", i), message)


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, level = stack.pop()
        if isinstance(v, (dict, list)):
            deepest = max(deepest, level)
            if level <= jsonio.MAX_DEPTH:
                stack.extend((item, level + 1) for item in (v.values() if isinstance(v, dict) else v))
    return deepest


# The library's errors, in the project's words ---------------------------------------------


def _relevant(errors: Iterable[jsonschema_rs.ValidationError]) -> list[jsonschema_rs.ValidationError]:
    """The errors minus a `format` failure where the same schema's pattern already says why."""
    errors = list(errors)
    patterns = {(tuple(e.instance_path), _parent(e)) for e in errors if e.kind.name == "pattern"}
    return [e for e in errors if e.kind.name != "format" or (tuple(e.instance_path), _parent(e)) not in patterns]


def _parent(e: jsonschema_rs.ValidationError) -> str:
    return (e.absolute_keyword_location or "").rpartition("/")[0]


def _node(e: jsonschema_rs.ValidationError) -> dict[str, Any]:
    """The schema object holding the keyword that failed, found by its absolute location."""
    uri, _, fragment = _parent(e).partition("#")
    name = next((n for n in _DOCUMENTS if schemas.document(n)["$id"] == uri), None)
    node = schemas.pointer(schemas.document(name), fragment) if name else {}
    return node if isinstance(node, dict) else {}


Finder = Callable[[JsonPath], Any]


def _finder(doc: Any) -> Finder:
    """The value at a path of `doc`: the document's own, where the library's copy would show NaN as null."""

    def at(path: JsonPath) -> Any:
        value = doc
        for part in path:
            value = value[part]
        return value

    return at


def _explain(e: jsonschema_rs.ValidationError, at: Finder) -> Iterator[Violation]:
    path: JsonPath = tuple(e.instance_path)
    kind: Any = e.kind  # one subclass per keyword, each with its own fields
    name = kind.name
    if name == "anyOf":
        # Say why the closest alternative failed: it is nearly always the one that was meant.
        options = [[v for sub in _relevant(branch) for v in _explain(sub, at)] for branch in kind.context]
        yield from min(options, key=len) or [Violation(path, e.message)]
    elif name == "additionalProperties":
        known = list(_node(e).get("properties", {}))
        for field in kind.unexpected:
            yield Violation(path, unknown_field(field, known))
    elif name == "propertyNames":
        key = kind.error.instance  # the library reports a bad key at its object: say it at the key
        for v in _explain(kind.error, lambda _: key):
            yield Violation((*path, key), v.message)
    elif name == "required":
        yield Violation(path, f"missing required field {kind.property!r}")
    else:
        yield Violation(path, _message(name, kind, at(path), _node(e), e.message))


def _message(name: str, kind: Any, value: Any, node: dict[str, Any], fallback: str) -> str:
    shown = _show(value)
    if name == "type":
        if isinstance(value, float) and not math.isfinite(value):  # the library sees null in NaN
            return f"{shown} is not a number that exists; numbers must be finite"
        return f"{shown} is not {' or '.join(_ARTICLE.get(t, t) for t in kind.types)}"
    if name == "enum":
        return f"{shown} is not one of: {', '.join(map(str, kind.options))}{_hint(value, kind.options)}"
    if name == "pattern":
        described = node.get("description")
        return f"{shown} is not {_lower(described)}" if described else f"{shown} does not match {kind.pattern}"
    if name == "format":
        return f"{shown} is not a date that exists" if kind.format == "date-time" else f"{shown} is not {kind.format}"
    if name == "minLength":
        return f"{shown} is shorter than {kind.limit} characters"
    if name == "maxLength":
        return f"text of {len(value)} characters is longer than the limit of {kind.limit}"
    if name in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{shown} is out of range: it must be {_range(node)}"
    if name == "minItems":
        return f"a list of {len(value)} items is shorter than {kind.limit}"
    if name == "maxItems":
        return f"a list of {len(value)} items is longer than the limit of {kind.limit}"
    if name == "uniqueItems":
        return f"{_show(_first_repeat(value))} appears more than once"
    return fallback  # a keyword these schemas do not use: the library's own words


def _lower(description: str) -> str:
    """ "A task id: ..." reads on as "is not a task id: ..."; "RFC 3339 ..." keeps its capitals."""
    return description if description[1:2].isupper() else description[0].lower() + description[1:]


def _range(node: dict[str, Any]) -> str:
    words = {
        "minimum": "at least",
        "exclusiveMinimum": "more than",
        "maximum": "at most",
        "exclusiveMaximum": "less than",
    }
    return " and ".join(f"{w} {node[k]}" for k, w in words.items() if k in node)


def _first_repeat(items: list[Any]) -> Any:
    seen: list[Any] = []
    for item in items:  # pragma: no branch (called only when there is a repeat)
        # JSON equality: 1 and 1.0 are one number, true is not 1.
        if any(jsonio.same(_number(item), _number(s)) for s in seen):
            return item
        seen.append(item)
    raise AssertionError("no repeat")  # pragma: no cover


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_number(v) for v in value]
    if isinstance(value, dict):
        return {k: _number(v) for k, v in value.items()}
    return value


def unknown_field(name: str, known: list[str]) -> str:
    import difflib  # only when explaining an error

    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f"; expected one of {', '.join(known)}"
    return f"unknown field {name!r}{hint}"


def _hint(value: Any, allowed: list[Any]) -> str:
    import difflib  # only when explaining an error

    names = [a for a in allowed if isinstance(a, str)]
    close = difflib.get_close_matches(value, names, n=1) if isinstance(value, str) else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def _show(value: Any) -> str:
    if isinstance(value, (list, dict)) and len(value) > 20:  # a whole document: say what it is
        return f"{_ARTICLE['array' if isinstance(value, list) else 'object']} of {len(value)} items"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


_ARTICLE = {
    "string": "a string",
    "boolean": "true or false",
    "null": "null",
    "object": "an object",
    "array": "a list",
    "number": "a number",
    "integer": "an integer",
}
