"""The four files on disk and in git: load, check, canonical bytes, atomic write, lock.

A snapshot reads each file only when something asks for it: a task claim on a large store
never parses the message log. Loading for a change is strict (duplicate keys refused,
schema checked); loading to read is the plain C parser.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import ChainMap
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

from gitcoord import invariants
from gitcoord import jsonio
from gitcoord import layout
from gitcoord import model
from gitcoord import records
from gitcoord import schema
from gitcoord.errors import FatalError
from gitcoord.findings import Finding
from gitcoord.model import Doc


def repo_path(file: str) -> str:
    return f"{model.COORD_DIR}/{file}"


def dump(file: str, doc: Doc, reuse: jsonio.Reuse | None = None) -> bytes:
    return jsonio.dumps(doc, layout.shape(model.base(file)), reuse).encode("utf-8")


def reusable(file: str, data: bytes, doc: Doc) -> dict[int, str]:
    """What of `data` (the text `doc` was parsed from) a later dump can copy unchanged."""
    coll = model.COLLECTIONS[model.base(file)]
    if not coll.id_key:
        return {}
    return jsonio.record_texts(data.decode("utf-8"), doc, coll.lists, coll.id_key)


def parse_findings(file: str, data: bytes | None, *, strict: bool = True) -> tuple[Doc | None, list[Finding]]:
    """The document, or why it cannot be used: missing, malformed, or (strict) against its schema.

    Not strict is for reading the committed store, which was checked when it was written;
    `reading()` checks it after all if a reader trips over it.
    """
    if data is None:
        return None, [Finding(file, (), "missing-file", f"{repo_path(file)} does not exist; `coord init` creates it")]
    try:
        doc = jsonio.parse(data, strict=strict)
    except jsonio.ParseError as e:
        return None, [Finding(file, (), "parse", e.message, e.line, e.column)]
    errors = schema.validate(model.base(file), doc) if strict else []
    if errors:
        return None, locate(file, data, [Finding(file, v.path, "schema", v.message) for v in errors])
    return doc, []


def check(snap: Snapshot, files: Sequence[str] = model.FILES) -> list[Finding]:
    """Every problem in the snapshot's files: parse, schema, then the invariants, located by line."""
    docs: dict[str, Doc] = {}
    findings: list[Finding] = []
    for file in files:
        doc, problems = parse_findings(file, snap.raw(file))
        findings.extend(problems)
        if doc is not None:
            docs[file] = doc
    by_file: dict[str, list[Finding]] = {}
    for f in invariants.check(docs, files=files, archived=snap.archived):
        by_file.setdefault(f.file, []).append(f)
    for file, problems in by_file.items():
        findings.extend(locate(file, snap.raw(file) or b"", problems))
    return sorted(findings, key=_order)


def archived_in(state: Mapping[str, Doc]) -> Callable[[str], frozenset[str]]:
    """The archived ids of each kind in `state`, each read on first use (an unreadable archive: none)."""
    cache: dict[str, frozenset[str]] = {}

    def ids(kind: str) -> frozenset[str]:
        if kind not in cache:
            coll = model.BY_KIND[kind]
            name = model.archive_of(coll.file)
            try:
                cache[kind] = frozenset(records.by_id(state[name], coll)) if name in state else frozenset()
            except InvalidStore:
                cache[kind] = frozenset()
        return cache[kind]

    return ids


def _order(f: Finding) -> tuple[int, int, int]:
    return (model.ALL_FILES.index(f.file), f.line, f.column)


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
        findings += locate(file, data, [Finding(file, v.path, "schema", v.message) for v in errors])
        if not errors:
            docs[file] = doc
    state = ChainMap(docs, new)  # type: ignore[arg-type]
    by_file: dict[str, list[Finding]] = {}
    for f in invariants.check(state, files=list(docs), archived=new.archived):
        by_file.setdefault(f.file, []).append(f)
    for file, problems in by_file.items():
        findings.extend(locate(file, new.raw(file) or b"", problems))
    return sorted(findings, key=_order)


def locate(file: str, data: bytes, findings: list[Finding]) -> list[Finding]:
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
    def __init__(self, findings: list[Finding], hint: str) -> None:
        self.findings = findings
        shown = "\n".join(format_finding(f) for f in findings[:20])
        more = f"\n... and {len(findings) - 20} more" if len(findings) > 20 else ""
        super().__init__(f"{shown}{more}\n{hint}")


def format_finding(f: Finding) -> str:
    where = f"{model.COORD_DIR}/{f.file}" + (f":{f.line}:{f.column}" if f.line else "")
    path = f" {f.where}:" if f.path else ""
    commit = f" (commit {f.commit[:12]})" if f.commit else ""
    return f"{where}:{path} {f.message} [{f.rule}]{commit}"


Reader = Callable[[list[str]], list["bytes | None"]]


class Snapshot(Mapping[str, Doc]):
    """The store as of one commit (or one directory): file name -> document, loaded on first use."""

    def __init__(self, read: Reader, *, commit: str | None = None, strict: bool = True) -> None:
        self.commit = commit
        self._read = read
        self._strict = strict
        self._raw: dict[str, bytes | None] = {}
        self._docs: dict[str, Doc] = {}
        self._archived: Callable[[str], frozenset[str]] | None = None

    def prefetch(self, files: list[str]) -> None:
        wanted = [f for f in files if f not in self._raw]
        for file, data in zip(wanted, self._read(wanted), strict=True):
            self._raw[file] = data

    def raw(self, file: str) -> bytes | None:
        self.prefetch([file])
        return self._raw[file]

    def __getitem__(self, file: str) -> Doc:
        if file not in self._docs:
            if file not in model.ALL_FILES:
                raise KeyError(file)
            if file in model.ARCHIVE_FILES and self.raw(file) is None:
                self._docs[file] = model.empty_documents()[model.base(file)]  # nothing archived yet
                return self._docs[file]
            doc, findings = parse_findings(file, self.raw(file), strict=self._strict)
            if doc is None:
                raise InvalidStore(
                    findings, "Fix the file (`coord validate` lists every problem), then run the command again."
                )
            self._docs[file] = doc
        return self._docs[file]

    def archived(self, kind: str) -> frozenset[str]:
        """The ids of the records of `kind` moved to the archive (read on first use)."""
        if self._archived is None:
            self._archived = archived_in(self)
        return self._archived(kind)

    def reuse(self, file: str) -> dict[int, str]:
        """The text of this snapshot's unchanged records, for writing `file` again."""
        if file not in self._docs:
            return {}
        return reusable(file, self.raw(file) or b"", self._docs[file])

    def __contains__(self, file: object) -> bool:
        # Without loading it: a snapshot reads a file only when asked for it.
        return file in model.ALL_FILES

    def __iter__(self) -> Iterator[str]:
        return iter(model.FILES)

    def __len__(self) -> int:
        return len(model.FILES)


@contextlib.contextmanager
def reading(snap: Snapshot) -> Iterator[None]:
    """Read a store without checking it first; if the reader trips, say what is wrong with the store."""
    try:
        yield
    except (KeyError, TypeError, AttributeError, ValueError, IndexError):
        problems = check(snap)
        if problems:
            raise InvalidStore(
                problems, "The store is not valid: fix it (`coord validate`), then run the command again."
            ) from None
        raise


def directory_reader(directory: Path) -> Reader:
    def read(files: list[str]) -> list[bytes | None]:
        found: list[bytes | None] = []
        for f in files:
            try:
                found.append((directory / f).read_bytes())
            except FileNotFoundError:
                found.append(None)
        return found

    return read


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a reader sees the old file or the new one, never half."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def with_lines(text: str, lines: tuple[str, ...]) -> str:
    """`text` with whichever of `lines` it lacks appended."""
    have = set(text.splitlines())
    missing = [line for line in lines if line not in have]
    if not missing:
        return text
    prefix = "" if not text or text.endswith("\n") else "\n"
    return text + prefix + "".join(line + "\n" for line in missing)


def read_text(path: Path) -> str:
    return path.read_text("utf-8") if path.exists() else ""


def ensure_lines(path: Path, lines: tuple[str, ...]) -> bool:
    """Append whichever of `lines` the text file lacks; whether it had to."""
    text = read_text(path)
    updated = with_lines(text, lines)
    if updated != text:
        write_atomic(path, updated.encode("utf-8"))
    return updated != text


@contextlib.contextmanager
def lock(common_dir: Path, *, timeout: float = 120.0) -> Iterator[None]:
    """Serialize read-modify-commit among the coord processes of one repository.

    The operating system drops the lock when its process dies, so a killed command never
    leaves a stale lock behind.
    """
    path = common_dir / "coord.lock"
    with open(path, "a+b") as f:
        deadline = time.monotonic() + timeout
        while not _try_lock(f.fileno()):
            if time.monotonic() > deadline:
                raise FatalError(f"another coord command has held {path} for {timeout:.0f}s; is one stuck?")
            time.sleep(0.01)
        try:
            yield
        finally:
            _unlock(f.fileno())


if sys.platform == "win32":  # pragma: no cover (no Windows runner in CI yet)
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
