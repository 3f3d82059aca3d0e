"""Reading JSON strictly, and saying where in a file things are (writing it: `canonical.py`).

Parsing is strict: a duplicate key, a git conflict marker, an empty file, a byte that is
not UTF-8, a number that is not finite (NaN, Infinity, 1e999), a lone UTF-16 surrogate, a
file or a nesting past the limits below: each is an error with a line and a column, never a
silent guess and never a crash later. Positions are worked out only when there is an error
to report: the hot path is the C parser.
"""

from __future__ import annotations

import gc
import json
import re
from typing import Any

from gitcoord import jsonpos
from gitcoord.jsonpos import JsonPath as JsonPath  # JsonPath, format_path, line_col and locate are read from here too
from gitcoord.jsonpos import format_path as format_path
from gitcoord.jsonpos import line_col as line_col
from gitcoord.jsonpos import locate as locate

# What a coordination file may hold. The largest file of the benchmarks' L store (10,000
# tasks, 50,000 messages) is 36 MB, and archiving keeps live files far smaller; a limit
# not much above it keeps one hostile push from slowing every later step for good. The
# schemas nest seven levels at most; the numbers are hours. Past a limit a file is refused
# with a message that names it.
MAX_FILE_BYTES = 64 * 2**20
MAX_DEPTH = 64
MAX_NUMBER_LENGTH = 100

_LARGE = 4 * 2**20  # a parse past this many bytes leaves its objects to refcounting alone
_MARKER = re.compile(rb"^(<{7}|={7}|>{7}|\|{7})( |$)", re.MULTILINE)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class ParseError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class Refused(ValueError):
    """A value the parser's hooks refuse; the C parser does not say where, `jsonpos.failure` finds it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DuplicateKey(Refused):
    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
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


def _constant(name: str) -> Any:
    raise Refused(f"{name} is not a JSON number; numbers must be finite")


def _number(text: str) -> None:
    if len(text) > MAX_NUMBER_LENGTH:
        raise Refused(f"a number of {len(text)} characters is longer than the limit of {MAX_NUMBER_LENGTH}")


def _float(text: str) -> float:
    _number(text)
    value = float(text)
    if value in (_INF, -_INF):
        raise Refused(f"{text} is too large a number to hold; numbers must be finite")
    return value


def _int(text: str) -> int:
    _number(text)  # and so never Python's own limit on the digits of an int (4300), a ValueError
    return int(text)


_INF = float("inf")
# The hooks run only for numbers (rare in these files) and for NaN and Infinity, which they refuse.
_HOOKS: dict[str, Any] = {"parse_float": _float, "parse_int": _int, "parse_constant": _constant}
_DECODER = json.JSONDecoder(**_HOOKS)
_STRICT = json.JSONDecoder(object_pairs_hook=_unique_pairs, **_HOOKS)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ParseError(f"byte 0x{data[e.start]:02x} is not UTF-8; save the file as UTF-8", line, column) from None


def parse(data: bytes, *, strict: bool = True) -> Any:
    """Parse a coordination file. `strict=False` (duplicate keys allowed) is for readers that never write back."""
    if len(data) > MAX_FILE_BYTES:
        fix = "`coord archive` moves closed records out of the live files"
        limit = f"more than the limit of {_size(MAX_FILE_BYTES)}"
        raise ParseError(f"the file is {_size(len(data))}, {limit}; {fix}", 1, 1)
    try:
        text = decode(data)
    except ParseError:
        _refuse_markers(data)
        raise
    if not text or text.isspace():
        raise ParseError("the file is empty; it must hold a JSON object", 1, 1)
    decoder = _STRICT if strict else _DECODER
    collecting = gc.isenabled()
    # The parse builds millions of objects and no cycle among them: the cycle collector,
    # running meanwhile, would walk them again and again (more than doubling a large parse).
    gc.disable()
    try:
        doc = decoder.decode(text)
    except json.JSONDecodeError as e:
        # Looked for only now: a conflict marker line never parses (a JSON string holds no
        # raw line break), and the search costs a pass over a big file.
        _refuse_markers(data)
        raise ParseError(f"invalid JSON: {e.msg}", e.lineno, e.colno) from None
    except (Refused, RecursionError):
        found = jsonpos.failure(text, decoder, unique_keys=strict, max_depth=MAX_DEPTH)
        raise ParseError(found.message, *line_col(text, found.offset)) from None
    finally:
        if collecting:
            gc.enable()
    if len(data) > _LARGE:
        # Its objects live as long as the command and hold no cycle: out of the collector's
        # sight (its permanent generation), or every later full collection walks them again.
        gc.freeze()
    _refuse_surrogates(text, doc)
    return doc


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 10 * 2**20 else f"{n:,} bytes"


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


def _refuse_surrogates(text: str, doc: Any) -> None:
    # Text decoded from UTF-8 holds no surrogate: only a \\uD800-style escape can make one.
    if "\\" not in text or not _SURROGATE_ESCAPE.search(text):
        return
    path = find_surrogate(doc)
    if path is not None:
        raise ParseError(f"{format_path(path)}: {SURROGATE}", *line_col(text, locate(text, path)))


SURROGATE = "text holds a lone surrogate (half of a UTF-16 pair, not a character); write the character itself"


def find_surrogate(value: Any) -> JsonPath | None:
    """The path of a string (or key) holding a lone surrogate, which UTF-8 cannot encode."""
    if not _holds_surrogate(value):  # the common case, without a path for every value
        return None
    stack: list[tuple[JsonPath, Any]] = [((), value)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, str):
            if _unencodable(v):
                return path
        elif isinstance(v, dict):
            for k, item in v.items():
                if _unencodable(k):
                    return (*path, k)
                stack.append(((*path, k), item))
        elif isinstance(v, list):
            stack.extend(((*path, i), item) for i, item in enumerate(v))
    return None


def _holds_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is str:
            if not v.isascii() and _unencodable(v):  # ASCII, the common case, holds none
                return True
        elif type(v) is dict:
            if not all(map(str.isascii, v)) and any(map(_unencodable, v)):
                return True
            stack.extend(v.values())
        elif type(v) is list:
            stack.extend(v)
    return False


def _unencodable(text: Any) -> bool:
    if not isinstance(text, str) or text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def same(a: Any, b: Any) -> bool:
    """Whether two JSON values are equal with the same types throughout.

    Python's `==` holds `true == 1 == 1.0`, which JSON and a schema tell apart.
    """
    return a == b and _same_types(a, b)


def _same_types(a: Any, b: Any) -> bool:
    # Called only on equal values, so keys and lengths match; strings equal only strings.
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        for key, value in a.items():
            if type(value) is not str and not _same_types(value, b[key]):
                return False
    elif type(a) is list:
        for value, other in zip(a, b, strict=True):
            if type(value) is not str and not _same_types(value, other):
                return False
    return True
