"""Checking a store: parse, schema and invariants, every problem found and located by line.

Loading for a change is strict (duplicate keys refused, schema checked); loading to read
is the plain C parser, and `reading()` checks the store only if a reader trips over it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gitcoord import invariants
from gitcoord import jsonio
from gitcoord import model
from gitcoord import records
from gitcoord import schema
from gitcoord.errors import FatalError
from gitcoord.findings import Finding
from gitcoord.model import Doc
from gitcoord.store import repo_path

if TYPE_CHECKING:
    from gitcoord.snapshot import Snapshot


def parse_findings(file: str, data: bytes | None, *, strict: bool = True) -> tuple[Doc | None, list[Finding]]:
    """The document, or why it cannot be used: missing, malformed, or (strict) against its schema.

    Not strict is for reading the committed store, which was checked when it was written;
    `reading()` checks it after all if a reader trips over it.
    """
    if data is None:
        said = "`coord init` starts a store; in a clone of a repository that has one, `coord install` finds it"
        return None, [Finding(file, (), "missing-file", f"{repo_path(file)} does not exist: {said}")]
    try:
        doc = jsonio.parse(data, strict=strict)
    except jsonio.ParseError as e:
        return None, [Finding(file, (), "parse", e.message, e.line, e.column)]
    errors = schema.validate(model.base(file), doc) if strict else []
    if errors:
        return None, locate_findings(file, data, [Finding(file, v.path, "schema", v.message) for v in errors])
    return doc, []


def check(snap: Snapshot, files: Sequence[str] = model.FILES, *, whole_archive: bool = False) -> list[Finding]:
    """Every problem in the snapshot's files: parse, schema, then the invariants, located by line
    (`whole_archive`: with every archive shard read, see `invariants.check`)."""
    docs: dict[str, Doc] = {}
    findings: list[Finding] = []
    for file in files:
        doc, problems = parse_findings(file, snap.raw(file))
        findings.extend(problems)
        if doc is not None:
            docs[file] = doc
    by_file: dict[str, list[Finding]] = {}
    for f in invariants.check(docs, files=files, archives=snap.archives, whole_archive=whole_archive):
        by_file.setdefault(f.file, []).append(f)
    for file, problems in by_file.items():
        findings.extend(locate_findings(file, snap.raw(file) or b"", problems))
    return sorted(findings, key=_order)


def _order(f: Finding) -> tuple[int, str, int, int]:
    live = model.FILES.index(f.file) if f.file in model.FILES else len(model.FILES)
    return (live, f.file, f.line, f.column)


def check_since(old: Snapshot, new: Snapshot, files: Sequence[str]) -> list[Finding]:
    """What is wrong with the `files` that changed since the valid state `old`.

    Records equal to their old version are taken as valid; the invariants of the changed
    files run against the whole store, which the other files read from `new` unchecked.
    """
    findings: list[Finding] = []
    docs: dict[str, Doc] = {}
    for file in files:
        data = new.raw(file)
        if data is None:
            findings += parse_findings(file, data)[1]
            continue
        try:
            doc = jsonio.parse(data)
        except jsonio.ParseError as e:
            findings.append(Finding(file, (), "parse", e.message, e.line, e.column))
            continue
        coll = model.COLLECTIONS[model.base(file)]
        before = records.by_id(old[file], coll) if old.raw(file) is not None else {}
        same = {id(r) for rid, _, r in records.iter_records(doc, coll) if jsonio.same(before.get(rid), r)}
        errors = schema.validate_changes(model.base(file), doc, same)
        findings += locate_findings(file, data, [Finding(file, v.path, "schema", v.message) for v in errors])
        if not errors:
            docs[file] = doc
    state = records.with_changes(new, docs)
    by_file: dict[str, list[Finding]] = {}
    for f in invariants.check(state, files=list(docs), archives=new.archives):
        by_file.setdefault(f.file, []).append(f)
    for file, problems in by_file.items():
        findings.extend(locate_findings(file, new.raw(file) or b"", problems))
    return sorted(findings, key=_order)


def locate_findings(file: str, data: bytes, findings: list[Finding]) -> list[Finding]:
    """Fill in the line and column of each finding from the file's text."""
    text = data.decode("utf-8", "replace")
    located = []
    for f in findings:
        if f.line:
            located.append(f)
            continue
        try:
            offset = jsonio.locate(text, f.path)
        except (ValueError, IndexError):  # text that no longer parses: point at the start
            offset = 0
        line, column = jsonio.line_col(text, offset)
        located.append(f._replace(line=line, column=column))
    return located


class InvalidStore(FatalError):
    kind = "invalid_store"

    def __init__(self, findings: list[Finding], hint: str) -> None:
        self.findings = findings
        shown = "\n".join(format_finding(f) for f in findings[:20])
        more = f"\n... and {len(findings) - 20} more" if len(findings) > 20 else ""
        super().__init__(f"{shown}{more}\n{hint}")

    def details(self) -> dict[str, object]:
        return {"findings": [f.as_dict() for f in self.findings]}


class InvalidChange(InvalidStore):
    """A step whose result would not validate: the store is fine, the step is refused."""

    kind = "refused"


def format_finding(f: Finding) -> str:
    commit = f" (commit {f.commit[:12]})" if f.commit else ""
    if f.about_the_commit:  # who made the commit: no file of it is at fault
        return f"{f.message} [{f.rule}]{commit}"
    where = f"{model.COORD_DIR}/{f.file}" + (f":{f.line}:{f.column}" if f.line else "")
    path = f" {f.where}:" if f.path else ""
    return f"{where}:{path} {f.message} [{f.rule}]{commit}"


@contextlib.contextmanager
def reading(snap: Snapshot) -> Iterator[None]:
    """Read a store without checking it first; if the reader trips over it, say what is wrong with it.

    Only problems in the files the reader read can explain its failure; without any, the
    failure is a bug in the reader, and surfaces as one. Either way the original error is
    chained (`COORD_DEBUG=1` shows it).
    """
    try:
        yield
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as e:
        read = snap.parsed()
        problems = [f for f in check(snap) if f.file in read] if read else []
        if problems:
            raise InvalidStore(
                problems, "The store is not valid: fix it (`coord validate`), then run the command again."
            ) from e
        raise
