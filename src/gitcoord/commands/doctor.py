"""`coord doctor`: is this clone set up to coordinate, and if not, what to do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from gitcoord import clone
from gitcoord import git
from gitcoord import model
from gitcoord import store
from gitcoord import validation
from gitcoord import workspace
from gitcoord.errors import FatalError
from gitcoord.output import Output

MIN_GIT = (2, 38)  # `git merge-tree --write-tree`, which `coord sync` merges with


def checks(ws: workspace.Workspace) -> Iterator[clone.Check]:
    root = ws.root
    version = git.version(root)
    yield clone.Check(
        "git",
        version >= MIN_GIT,
        ".".join(map(str, version))
        + ("" if version >= MIN_GIT else f": gitcoord needs {MIN_GIT[0]}.{MIN_GIT[1]} or newer"),
    )
    yield from clone.driver_checks(ws.repo)
    try:
        snap = workspace.snapshot(ws)
        found = validation.check(snap)
        yield clone.Check(
            "store",
            not found,
            f"{ws.branch} at {str(snap.commit)[:12]}: "
            + (f"{len(found)} problem(s): run `coord validate`" if found else "valid"),
        )
        registry = snap[model.REGISTRY] if not found else {"instances": {}}
    except FatalError as e:
        yield clone.Check("store", False, str(e).splitlines()[0])
        registry = {"instances": {}}
    marked = [
        f
        for f in model.FILES
        if (root / store.repo_path(f)).exists() and b"\n<<<<<<< " in b"\n" + (root / store.repo_path(f)).read_bytes()
    ]
    fix = "resolve them (`git checkout -m <file>` merges again, with the driver)"
    yield clone.Check(
        "conflict markers", not marked, f"{', '.join(marked)} hold text conflict markers: {fix}" if marked else "none"
    )
    if ws.identity is None:
        yield clone.Check("identity", False, workspace.IDENTITY_HELP)
    else:
        known = ws.identity in registry["instances"] or ws.identity == model.settings_of(registry).human_coordinator
        yield clone.Check(
            "identity",
            known,
            ws.identity + ("" if known else f": not registered; `coord register {ws.identity} --role ROLE`"),
        )
    installed = clone.is_pre_commit_hook(ws.repo.common_dir / "hooks" / "pre-commit")
    yield clone.Check(
        "hooks", installed, "pre-commit hooks installed" if installed else "not installed: run `coord install`"
    )
    remote = git.config(root, f"remote.{ws.remote}.").get(f"remote.{ws.remote}.url")
    yield clone.Check(
        "remote",
        remote is not None,
        f"{ws.remote} = {remote}"
        if remote
        else f"no remote {ws.remote!r}: `coord sync` needs one (git remote add {ws.remote} URL)",
    )


def doctor(*, cwd: Path, as_instance: str | None, driver_only: bool, out: Output) -> int:
    if driver_only:
        found = list(clone.driver_checks(git.discover(cwd)))
    else:
        found = list(checks(workspace.open_workspace(cwd, as_instance=as_instance)))
    failed = [c for c in found if not c.ok]
    lines = [f"{'ok  ' if c.ok else 'FAIL'}  {c.name}: {c.detail}" for c in found]
    out.emit({"ok": not failed, "checks": [c._asdict() for c in found]}, lines)
    return 1 if failed else 0
