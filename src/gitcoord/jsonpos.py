"""Where things are in a JSON text: the line and column of an offset, the offset of a path,
and the path of whatever made a parse fail.

Worked out only when there is an error to report, by walking the text with the standard
library's own scanner (a string with `scanstring`, a value with `raw_decode`), so a
position always agrees with the parser. No maintained library gives the position of a
JSON path in a text (parsers drop positions); see the README's design notes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from collections.abc import Sequence

PathPart = str | int
JsonPath = tuple[PathPart, ...]

_WS = re.compile(r"[ \t\n\r]*")
_SKIP = json.JSONDecoder()  # only skips values that have parsed already
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def format_path(path: Sequence[PathPart]) -> str:
    """JSONPath, as jsonschema and check-jsonschema print it: $.instances['instance-1'].status"""
    return "$" + "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" if _IDENTIFIER.match(p) else f"[{json.dumps(p)[1:-1]!r}]"
        for p in path
    )


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
            key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]  # public, not in typeshed
            i = _skip_ws(text, _skip_ws(text, i) + 1)  # the ':'
        else:
            key, index = index, index + 1
        yield key, where, i
        _, i = _SKIP.raw_decode(text, i)
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


class Failure(Exception):
    """Why a parse failed (`message`) and where: the path of the value, and its offset in the text."""

    def __init__(self, message: str, path: JsonPath, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.offset = offset


def failure(text: str, decoder: json.JSONDecoder, *, unique_keys: bool, max_depth: int) -> Failure:
    """Where `decoder` fails on `text`: descend into whichever member fails, down to the culprit.

    The decoder's hooks raise ValueError for what they refuse, and the C parser raises
    RecursionError for a nesting deeper than the interpreter's stack; neither says where.
    """
    path: JsonPath = ()
    i = _skip_ws(text, 0)
    if text[i] not in "{[":  # a file that is one bad number
        try:
            decoder.raw_decode(text, i)
        except (ValueError, RecursionError) as e:
            return Failure(str(e), path, i)
    while len(path) < max_depth:
        seen: set[str] = set()
        for key, where, value in _members(text, i):
            if unique_keys and isinstance(key, str):
                if key in seen:
                    return Failure(f"duplicate key {key!r} in {format_path(path)}; keep one of them", path, where)
                seen.add(key)
            try:
                decoder.raw_decode(text, value)
            except (ValueError, RecursionError) as e:
                if text[value] not in "{[":
                    return Failure(str(e), (*path, key), value)
                path, i = (*path, key), value
                break
        else:  # pragma: no cover (called only when the decoder failed in this container)
            raise AssertionError("no failure found")
    return Failure(f"the JSON is nested more than {max_depth} levels deep here, past the limit", path, i)
