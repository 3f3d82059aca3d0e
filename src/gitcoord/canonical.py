"""Writing JSON the one canonical way: the layout every writer produces, so that an unchanged
document keeps every byte and a diff shows only what changed; the text of unchanged records is
copied from the file they were read from rather than written again.
"""

from __future__ import annotations

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
        copied = [t for t in texts if t is not None]
        if texts and len(copied) == len(texts):
            out.append("[" + inner + ("," + inner).join(copied) + newline + "]")
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
