"""Reading and writing JSON the one canonical way, and saying where in a file things are.

Parsing is strict: a duplicate key, a git conflict marker, an empty file, a byte that is
not UTF-8, a number that is not finite (NaN, Infinity, 1e999), a lone UTF-16 surrogate, a
file or a nesting past the limits below: each is an error with a line and a column, never a
silent guess and never a crash later. The canonical form is what every writer produces, so
an unchanged document keeps every byte and a diff shows only what changed. Positions are
worked out only when there is an error to report: the hot path is the C parser.
"""

from __future__ import annotations

import gc
import json
import operator
import re
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any
from typing import NamedTuple

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


def record_text(record: dict[str, Any], shape: Shape) -> str:
    """The text of one record of a top-level list, as `dumps` writes it there: what `Reuse` holds."""
    out: list[str] = []
    _write(record, shape, "\n    ", out, {})
    return "".join(out)


class _Run(NamedTuple):
    """The records of one top-level list and where their text lies: side by side, from `start` to `end`."""

    records: list[Any]
    start: int
    end: int
    head: str  # what each record's text starts with, after the separator before it


class Spans(Mapping[int, str]):
    """Where each record's text lies in the file it was parsed from (id() of the record -> its
    text). The writer copies a run of records that were neighbours there as one slice: a step
    that changes a handful of 50,000 records copies the rest in a few pieces, and a step that
    only adds records after them (a message sent) copies the whole list in one, without
    looking up where each record lies."""

    def __init__(self, text: str, runs: Sequence[_Run] = ()) -> None:
        self.text = text
        self._runs = list(runs)
        self._firsts = {id(run.records[0]): run for run in runs}
        self._owners: dict[int, int] | None = None  # id() of a record -> the index of its run
        self._tables: dict[int, dict[int, tuple[int, int]]] = {}  # run index -> each record's span

    def _span(self, key: int) -> tuple[int, int] | None:
        """Where the text of the record with id() `key` lies, if it is one of the file's records."""
        if self._owners is None:
            self._owners = {id(r): n for n, run in enumerate(self._runs) for r in run.records}
        n = self._owners.get(key)
        return None if n is None else self._table(n)[key]

    def _table(self, n: int) -> dict[int, tuple[int, int]]:
        if n not in self._tables:
            run, text = self._runs[n], self.text
            starts = []
            at = text.find(run.head, run.start - len(_INDENT), run.end)
            while at >= 0:  # the heads were checked already: one per record, in their order
                starts.append(at + len(_INDENT))
                at = text.find(run.head, at + len(run.head), run.end)
            ends = [s - len(_SEPARATOR) for s in starts[1:]] + [run.end]
            self._tables[n] = {id(r): (s, e) for r, s, e in zip(run.records, starts, ends, strict=True)}
        return self._tables[n]

    def __getitem__(self, key: int) -> str:
        span = self._span(key)
        if span is None:
            raise KeyError(key)
        return self.text[span[0] : span[1]]

    def __iter__(self) -> Iterator[int]:
        return (id(r) for run in self._runs for r in run.records)

    def __len__(self) -> int:
        return sum(len(run.records) for run in self._runs)

    def pieces(self, items: Sequence[Any]) -> list[Any]:
        """`items` as the writer should put them, separated by ",\n    ": the text of each run of
        records that sat side by side in the file, and each record it must write itself."""
        run = self._firsts.get(id(items[0])) if items else None
        if run is not None and len(items) >= len(run.records) and all(map(operator.is_, items, run.records)):
            return [self.text[run.start : run.end], *items[len(run.records) :]]  # the list as it was, then what is new
        found: list[Any] = []
        text = self.text
        run_start = run_end = -1  # the run of neighbours being gathered, if any
        for item in items:
            span = self._span(id(item))
            if span is not None and run_start >= 0 and span[0] == run_end + len(_SEPARATOR):
                run_end = span[1]
                continue
            if run_start >= 0:
                found.append(text[run_start:run_end])
                run_start = -1
            if span is None:
                found.append(item)
            else:
                run_start, run_end = span
        if run_start >= 0:
            found.append(text[run_start:run_end])
        return found


_SEPARATOR = ",\n    "  # between two records of a top-level list
_INDENT = "\n    "  # before each record of a top-level list


def record_texts(text: str, doc: dict[str, Any], lists: Mapping[str, str]) -> Spans:
    """The text of each record of `doc`'s top-level `lists` (list name -> the key each of its
    records starts with), in the file `doc` was parsed from.

    In the canonical layout a record of a top-level list is exactly the text between
    "\n    {" and "\n    }" (nested records are indented deeper; strings hold no raw line
    breaks), so an unchanged record's text can be reused when the file is written again.
    A file laid out any other way gives nothing to reuse, and is simply written in full.
    """
    runs: list[_Run] = []
    for name, key in lists.items():
        records = doc.get(name)
        start = text.find(f'\n  "{name}": [\n    {{\n')
        if not records or start < 0:
            continue
        first = text.index("[", start) + 1
        end = text.find("\n  ]", first)
        if end < 0:
            continue
        # Each record starts on its own line with its key, and ends where the next one starts,
        # or where the list does: as many heads as records, each with its record's id, in order,
        # the first right after the bracket, and between each two the separator. (Scanned in C.)
        head = f'\n    {{\n      "{key}": "'
        said = re.compile(re.escape(head) + '([^"]*)",').findall(text, first, end)
        if said != [r.get(key) if isinstance(r, dict) else None for r in records]:
            continue
        if not text.startswith(head, first) or text.count(head, first, end) != len(records):
            continue
        if text.count("\n    }" + _SEPARATOR + "{", first, end) != len(records) - 1:
            continue
        if not text.startswith("\n    }", end - len("\n    }")):
            continue
        runs.append(_Run(records, first + len(_INDENT), end, head))
    return Spans(text, runs)


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
        if isinstance(reuse, Spans):
            pieces = reuse.pieces(items)
            out.append("[")
            for n, piece in enumerate(pieces):
                out.append(inner if not n else "," + inner)
                if isinstance(piece, str):
                    out.append(piece)
                else:
                    _write(piece, shape.values or EMPTY_SHAPE, inner, out, reuse)
            out.append(newline + "]")
            return
        # A step changes a handful of a file's records: the others' text is copied, in one go
        # when every record is known.
        texts = [reuse.get(id(item)) for item in items] if reuse else [None] * len(items)
        if texts and None not in texts:
            out.append("[" + inner + ("," + inner).join(texts) + newline + "]")  # type: ignore[arg-type]
            return
        child = shape.values or EMPTY_SHAPE
        out.append("[")
        last = len(items) - 1
        for n, item in enumerate(items):
            out.append(inner)
            known = texts[n]
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
