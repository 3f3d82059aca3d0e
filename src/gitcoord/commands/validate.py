"""`coord validate [PATH...]`: every file checked against its schema and the invariants."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from gitcoord import git
from gitcoord import model
from gitcoord import snapshot
from gitcoord import store
from gitcoord import validation
from gitcoord import workspace
from gitcoord.errors import FatalError
from gitcoord.findings import Finding
from gitcoord.output import Output


def targets(paths: Sequence[Path], cwd: Path) -> dict[Path, list[str]]:
    """Directory -> the coordination files to check in it. A directory means all four."""
    if not paths:
        try:
            paths = [git.discover(cwd).root / model.COORD_DIR]
        except git.NotARepository:
            paths = [cwd / model.COORD_DIR]
    found: dict[Path, list[str]] = {}
    for given in paths:
        p = cwd / given
        if p.is_dir():
            found[p] = [*model.FILES, *snapshot.directory_shards(p)()]
        elif p.name in model.FILES:
            found.setdefault(p.parent, [])
            if p.name not in found[p.parent]:
                found[p.parent].append(p.name)
        elif not p.exists():
            raise FatalError(f"{p}: no such file or directory")
        else:
            raise FatalError(f"{p}: not a coordination file; the files are named {', '.join(model.FILES)}")
    return found


def validate(*, paths: Sequence[Path], cwd: Path, since: str | None, out: Output) -> int:
    if not paths:
        branch = _own_branch(cwd)
        if branch is not None:
            files = [*model.FILES, *branch.shards()]
            return _report(branch, out, len(files), validation.check(branch, files, whole_archive=True))
    results: list[tuple[Path, Finding]] = []
    checked = 0
    for directory, files in targets(paths, cwd).items():
        snap = snapshot.Snapshot(snapshot.directory_reader(directory), shards=snapshot.directory_shards(directory))
        changed = _changed_since(directory, since, files) if since else None
        if changed is None:
            results.extend((directory, f) for f in validation.check(snap, files, whole_archive=True))
        else:
            old, names = changed
            results.extend((directory, f) for f in validation.check_since(old, snap, names))
        checked += len(files)
    shown = [(_display(d / f.file, cwd), f) for d, f in results]
    return _emit(shown, checked, out)


def _own_branch(cwd: Path) -> snapshot.Snapshot | None:
    """The store on its own branch, when this checkout has no coordination/ of its own to check."""
    try:
        ws = workspace.open_workspace(cwd)
    except git.NotARepository:
        return None
    if (ws.root / model.COORD_DIR).is_dir() or git.rev_parse(ws.root, ws.ref) is None:
        return None
    return workspace.snapshot(ws, strict=False)


def _report(snap: snapshot.Snapshot, out: Output, checked: int, found: list[Finding]) -> int:
    where = f"{snap.commit[:12] if snap.commit else ''}:{model.COORD_DIR}"
    return _emit([(f"{where}/{f.file}", f) for f in found], checked, out)


def _emit(shown: list[tuple[str, Finding]], checked: int, out: Output) -> int:
    results = shown
    data = {
        "valid": not results,
        "files_checked": checked,
        "findings": [{**f.as_dict(), "file": name} for name, f in shown],
    }
    lines = [_line(name, f) for name, f in shown]
    files_with = len({name for name, _ in shown})
    said = f"{len(results)} problem(s) in {files_with} file(s)"
    lines.append(said if results else f"{checked} file(s) valid")
    out.emit(data, lines, problem=said if results else None)
    return 1 if results else 0


def _changed_since(directory: Path, since: str, files: list[str]) -> tuple[snapshot.Snapshot, list[str]] | None:
    """The store at `since` and the files that differ from it, when `directory` is its coordination/."""
    try:
        repo = git.discover(directory)
    except git.NotARepository:
        return None
    commit = git.rev_parse(repo.root, since)
    if commit is None or directory.resolve() != (repo.root / model.COORD_DIR).resolve():
        return None  # no such commit (a first commit), or not this repository's store: check it all
    names = {Path(p).name for p in git.diff_names(repo.root, commit, [model.COORD_DIR])}

    def read(wanted: list[str]) -> list[bytes | None]:
        return git.read_blobs(repo.root, [f"{commit}:{store.repo_path(f)}" for f in wanted])

    return snapshot.Snapshot(read, commit=commit, strict=False), [f for f in files if f in names]


def _display(path: Path, cwd: Path) -> str:
    try:
        return os.path.relpath(path, cwd)
    except ValueError:  # pragma: no cover (another drive on Windows)
        return str(path)


def _line(name: str, f: Finding) -> str:
    where = f"{name}:{f.line}:{f.column}" if f.line else name
    path = f" {f.where}:" if f.path else ""
    return f"{where}:{path} {f.message} [{f.rule}]"
