"""Reading and writing JSON the one canonical way, and saying where in a file things are.

Parsing is strict: a duplicate key, a git conflict marker, an empty file or a byte that is
not UTF-8 is an error with a line and a column, never a silent guess. The canonical form is
what every writer produces, so an unchanged document keeps every byte and a diff shows only
what changed. Positions are worked out only when there is an error to report: the hot path
is the C parser.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any
from typing import NamedTuple

PathPart = str | int
JsonPath = tuple[PathPart, ...]

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")
_MARKER = re.compile(rb"^(<{7}|={7}|>{7}|\|{7})( |$)", re.MULTILINE)


class ParseError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:  # pragma: no branch (a duplicate is there: len differs)
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return obj


_STRICT = json.JSONDecoder(object_pairs_hook=_unique_pairs)


def line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ParseError(f"byte 0x{data[e.start]:02x} is not UTF-8; save the file as UTF-8", line, column) from None


def parse(data: bytes, *, strict: bool = True) -> Any:
    """Parse a coordination file. `strict=False` is for readers that never write back."""
    try:
        text = decode(data)
    except ParseError:
        _refuse_markers(data)
        raise
    if not text.strip():
        raise ParseError("the file is empty; it must hold a JSON object", 1, 1)
    try:
        return (_STRICT if strict else _DECODER).decode(text)
    except json.JSONDecodeError as e:
        # Looked for only now: a conflict marker line never parses (a JSON string holds no
        # raw line break), and the search costs a pass over a big file.
        _refuse_markers(data)
        raise ParseError(f"invalid JSON: {e.msg}", e.lineno, e.colno) from None
    except DuplicateKey as e:
        path, offset = find_duplicate(text)
        line, column = line_col(text, offset)
        where = format_path(path)
        raise ParseError(f"duplicate key {e.key!r} in {where}; keep one of them", line, column) from None


def _refuse_markers(data: bytes) -> None:
    marker = _MARKER.search(data)
    if marker:
        line = data.count(b"\n", 0, marker.start()) + 1
        raise ParseError(
            "git conflict marker: this file was merged as text, without the coord merge driver; "
            "run `coord install`, then `git checkout -m <file>` to merge it again, or resolve by hand",
            line,
            1,
        )


# Positions -------------------------------------------------------------------------------


def _skip_ws(text: str, i: int) -> int:
    m = _WS.match(text, i)
    assert m is not None  # the pattern matches the empty string
    return m.end()


def _members(text: str, start: int) -> Iterator[tuple[PathPart, int, int]]:
    """(key or index, offset of the key or value, offset of the value) for the container at start."""
    i = _skip_ws(text, start + 1)
    opener = text[start]
    closer = "}" if opener == "{" else "]"
    index = 0
    while text[i] != closer:
        where = i
        key: PathPart
        if opener == "{":
            key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            i = _skip_ws(text, _skip_ws(text, i) + 1)  # the ':'
        else:
            key, index = index, index + 1
        yield key, where, i
        _, i = _DECODER.raw_decode(text, i)
        i = _skip_ws(text, i)
        if text[i] == ",":
            i = _skip_ws(text, i + 1)


def locate(text: str, path: Sequence[PathPart]) -> int:
    """The offset of the value at `path` (or of its nearest ancestor that exists)."""
    i = _skip_ws(text, 0)
    for part in path:
        if text[i] not in "{[":
            break
        for key, _, value in _members(text, i):
            if key == part:
                i = value
                break
        else:
            break
    return i


def find_duplicate(text: str) -> tuple[JsonPath, int]:
    """Where the first duplicate key is: the path of its object and the offset of the key."""
    path: JsonPath = ()
    i = _skip_ws(text, 0)
    while True:
        seen: set[str] = set()
        for key, where, value in _members(text, i):
            if isinstance(key, str):
                if key in seen:
                    return path, where
                seen.add(key)
            if text[value] in "{[":
                try:
                    _STRICT.raw_decode(text, value)
                except DuplicateKey:
                    path, i = (*path, key), value
                    break
        else:  # pragma: no cover (called only when the strict parser found a duplicate)
            raise AssertionError("no duplicate key")


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def format_path(path: Sequence[PathPart]) -> str:
    """JSONPath, as jsonschema and check-jsonschema print it: $.instances['instance-1'].status"""
    return "$" + "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" if _IDENTIFIER.match(p) else f"[{json.dumps(p)[1:-1]!r}]"
        for p in path
    )


# Canonical form --------------------------------------------------------------------------


class Shape(NamedTuple):
    """The canonical layout of one JSON value: key order and how lists of records sort."""

    order: dict[str, int]  # property -> rank; unknown keys follow, sorted
    children: dict[str, Shape]
    values: Shape | None  # the shape of every value of a mapping, or of every item of a list
    sort_key: tuple[str, ...]  # a list of records sorts by these fields


EMPTY_SHAPE = Shape({}, {}, None, ())


Reuse = Mapping[int, str]  # id() of a record object -> its text, as the canonical form writes it


def dumps(value: Any, shape: Shape = EMPTY_SHAPE, reuse: Reuse | None = None) -> str:
    """The canonical text; records found in `reuse` are copied, not written again."""
    out: list[str] = []
    _write(value, shape, "\n", out, reuse or {})
    out.append("\n")
    return "".join(out)


def record_texts(text: str, doc: dict[str, Any], lists: Sequence[str], id_key: str) -> dict[int, str]:
    """The text of each record of `doc`'s top-level `lists`, cut from the file it was parsed from.

    In the canonical layout a record of a top-level list is exactly the text between
    "\n    {" and "\n    }" (nested records are indented deeper; strings hold no raw line
    breaks), so an unchanged record's text can be reused when the file is written again.
    A file laid out any other way gives nothing to reuse, and is simply written in full.
    """
    found: dict[int, str] = {}
    for name in lists:
        records = doc.get(name)
        start = text.find(f'\n  "{name}": [\n    {{\n')
        if not records or start < 0:
            continue
        first = text.index("[", start) + 1
        end = text.find("\n  ]", first)
        body = text[first:end]
        if end < 0 or not (body.startswith("\n    {") and body.endswith("\n    }")):
            continue
        chunks = ["{" + piece + "\n    }" for piece in body[len("\n    {") : -len("\n    }")].split("\n    },\n    {")]
        if len(chunks) != len(records):
            continue
        if all(c.startswith(f'{{\n      "{id_key}": "{r[id_key]}",') for c, r in zip(chunks, records, strict=True)):
            found.update((id(r), c) for c, r in zip(chunks, records, strict=True))
    return found


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        s: str = encode_basestring(value)
        return s
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return json.dumps(value)


def _write(value: Any, shape: Shape, newline: str, out: list[str], reuse: Reuse) -> None:
    inner = newline + "  "
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        order = shape.order
        keys = sorted(value, key=lambda k: (order.get(k, len(order)), k)) if order else value
        out.append("{")
        last = len(value) - 1
        for n, key in enumerate(keys):
            out.append(inner)
            out.append(encode_basestring(key))
            out.append(": ")
            child = shape.children.get(key) or shape.values or EMPTY_SHAPE
            _write(value[key], child, inner, out, reuse)
            if n != last:
                out.append(",")
        out.append(newline)
        out.append("}")
    elif isinstance(value, list):
        if not any(isinstance(v, (dict, list)) for v in value):
            out.append("[" + ", ".join(_scalar(v) for v in value) + "]")
            return
        items = sorted(value, key=itemgetter(*shape.sort_key)) if shape.sort_key else value
        child = shape.values or EMPTY_SHAPE
        out.append("[")
        last = len(items) - 1
        for n, item in enumerate(items):
            out.append(inner)
            known = reuse.get(id(item)) if reuse else None
            if known is not None:
                out.append(known)
            else:
                _write(item, child, inner, out, reuse)
            if n != last:
                out.append(",")
        out.append(newline)
        out.append("]")
    else:
        out.append(_scalar(value))
