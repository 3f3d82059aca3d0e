"""`coord doctor`: is this clone set up to coordinate, and if not, what to do."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from gitcoord import authenticity
from gitcoord import git
from gitcoord import model
from gitcoord import signing
from gitcoord import store
from gitcoord import workspace
from gitcoord.commands import install
from gitcoord.errors import FatalError
from gitcoord.output import Output

MIN_GIT = (2, 38)  # `git merge-tree --write-tree`, which `coord sync` merges with


class Check(NamedTuple):
    name: str
    ok: bool
    detail: str


def git_version(root: Path) -> tuple[int, ...]:
    text = git.out(["version"], root)
    found = re.search(r"(\d+)\.(\d+)", text)
    return (int(found[1]), int(found[2])) if found else (0, 0)


def driver_checks(repo: git.Repo) -> Iterator[Check]:
    root = repo.root
    command = git.config(root, f"merge.{install.DRIVER}.").get(f"merge.{install.DRIVER}.driver")
    if command is None:
        yield Check(
            "merge driver", False, "not registered in this clone, so git merges the JSON as text: run `coord install`"
        )
    else:
        program = shlex.split(command)[0]
        if program.startswith("/") and not Path(program).exists():
            yield Check("merge driver", False, f"registered, but {program} no longer exists: run `coord install` again")
        else:
            yield Check("merge driver", True, command)
    probe = store.repo_path(model.TASKS)
    attr = git.out(["check-attr", "merge", "--", probe], root).rsplit(": ", 1)[-1]
    if attr != install.DRIVER:
        yield Check(
            "attributes",
            False,
            f"{probe} has merge={attr}: add `{install.ATTRIBUTES[0]}` to .gitattributes (`coord init`)",
        )
    else:
        attributes = root / ".gitattributes"
        committed = attributes.exists() and install.ATTRIBUTES[0] in attributes.read_text("utf-8").splitlines()
        detail = install.ATTRIBUTES[0] + (
            "" if committed else " (from .git/info/attributes only; `coord init` commits it)"
        )
        yield Check("attributes", True, detail)


def checks(ws: workspace.Workspace) -> Iterator[Check]:
    root = ws.root
    version = git_version(root)
    yield Check(
        "git",
        version >= MIN_GIT,
        ".".join(map(str, version))
        + ("" if version >= MIN_GIT else f": gitcoord needs {MIN_GIT[0]}.{MIN_GIT[1]} or newer"),
    )
    yield from driver_checks(ws.repo)
    try:
        snap = workspace.snapshot(ws)
        found = store.check(snap)
        yield Check(
            "store",
            not found,
            f"{ws.branch} at {str(snap.commit)[:12]}: "
            + (f"{len(found)} problem(s): run `coord validate`" if found else "valid"),
        )
        registry = snap[model.REGISTRY] if not found else {"instances": {}}
    except FatalError as e:
        yield Check("store", False, str(e).splitlines()[0])
        registry = {"instances": {}}
    marked = [
        f
        for f in model.FILES
        if (root / store.repo_path(f)).exists() and b"\n<<<<<<< " in b"\n" + (root / store.repo_path(f)).read_bytes()
    ]
    fix = "resolve them (`git checkout -m <file>` merges again, with the driver)"
    yield Check(
        "conflict markers", not marked, f"{', '.join(marked)} hold text conflict markers: {fix}" if marked else "none"
    )
    if ws.identity is None:
        yield Check("identity", False, workspace.IDENTITY_HELP)
    else:
        known = ws.identity in registry["instances"] or ws.identity == model.settings_of(registry).human_coordinator
        yield Check(
            "identity",
            known,
            ws.identity + ("" if known else f": not registered; `coord register {ws.identity} --role ROLE`"),
        )
    yield signing_check(ws, registry)
    hook = ws.repo.common_dir / "hooks" / "pre-commit"
    installed = hook.exists() and "pre-commit" in hook.read_text("utf-8", "replace")
    yield Check("hooks", installed, "pre-commit hooks installed" if installed else "not installed: run `coord install`")
    remote = git.config(root, f"remote.{ws.remote}.").get(f"remote.{ws.remote}.url")
    yield Check(
        "remote",
        remote is not None,
        f"{ws.remote} = {remote}"
        if remote
        else f"no remote {ws.remote!r}: `coord sync` needs one (git remote add {ws.remote} URL)",
    )


def signing_check(ws: workspace.Workspace, registry: model.Doc) -> Check:
    required = model.settings_of(registry).require_signatures
    try:
        key = signing.current(ws.root)
    except FatalError as e:
        return Check("signing", False, str(e))
    if key is None or not git.config_bool(ws.root, "commit.gpgsign"):
        if not required:
            return Check("signing", True, "this clone does not sign its commits; the store does not require it")
        return Check(
            "signing",
            False,
            "the store requires signed commits and this clone does not sign: "
            f"`coord install --as {ws.identity or 'NAME'}`",
        )
    held = authenticity.keys_of(registry).get(ws.identity or "", frozenset())
    if key.public in held:
        return Check("signing", True, f"signs as {ws.identity} with {key.fingerprint}, the key the registry holds")
    if not required:
        return Check("signing", True, f"signs with {key.fingerprint}; not in the registry yet (`coord key publish`)")
    return Check(
        "signing",
        False,
        f"signs with {key.fingerprint}, which the registry does not hold for {ws.identity}: "
        "its commits would be refused (`coord key show`)",
    )


def doctor(*, cwd: Path, as_instance: str | None, driver_only: bool, out: Output) -> int:
    if driver_only:
        found = list(driver_checks(git.discover(cwd)))
    else:
        found = list(checks(workspace.open_workspace(cwd, as_instance=as_instance)))
    failed = [c for c in found if not c.ok]
    lines = [f"{'ok  ' if c.ok else 'FAIL'}  {c.name}: {c.detail}" for c in found]
    out.emit({"ok": not failed, "checks": [c._asdict() for c in found]}, lines)
    return 1 if failed else 0
