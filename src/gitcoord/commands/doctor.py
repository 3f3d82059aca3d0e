"""`coord doctor`: is this clone set up to coordinate, and if not, what to do."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from gitcoord import authenticity
from gitcoord import clone
from gitcoord import events
from gitcoord import git
from gitcoord import lock
from gitcoord import maintenance
from gitcoord import model
from gitcoord import refresh
from gitcoord import signing
from gitcoord import store
from gitcoord import sync as sync_engine
from gitcoord import tables
from gitcoord import validation
from gitcoord import workspace
from gitcoord.commands.branch import EDIT_DIR
from gitcoord.errors import FatalError
from gitcoord.model import Record
from gitcoord.output import Output
from gitcoord.tables import Cell

MIN_GIT = (2, 38)  # `git merge-tree --write-tree`, which `coord sync` merges with


def checks(ws: workspace.Workspace) -> Iterator[clone.Check]:
    yield _git_version(ws.root)
    yield from clone.driver_checks(ws.repo)
    yield _branch(ws)
    yield _locks(ws)
    yield _remote_locks(ws)
    yield _merge_files(ws.root)
    fresh, fetched = _fetch(ws)
    store_check, registry = _store(ws, fresh)
    yield store_check
    yield _conflict_markers(ws.root)
    yield _identity(ws, registry)
    if store_check.ok and registry is not None:
        yield from _guarded(ws, registry)
    yield signing_check(ws, registry)
    yield _hooks(ws, registry or {})
    yield _remote(ws, fetched)


def _hooks(ws: workspace.Workspace, registry: Record) -> clone.Check:
    elsewhere = git.config(ws.root, "core.hookspath").get("core.hookspath")
    if elsewhere and Path(elsewhere).resolve() != (ws.repo.common_dir / "hooks").resolve():
        return clone.Check(
            "hooks",
            False,
            f"core.hooksPath is {elsewhere}, so git runs the hooks there and not gitcoord's in .git/hooks: "
            "unset it (`git config --unset core.hooksPath`), or have those hooks run .git/hooks/NAME",
        )
    if not clone.hooks_installed(ws.repo):
        return clone.Check("hooks", False, "gitcoord's git hooks are not installed: run `coord install`")
    tree = clone.tree_hooks(ws.repo)
    if not tree:
        return clone.Check("hooks", True, "gitcoord's git hooks installed: " + ", ".join(clone.GIT_HOOKS))
    human = ws.identity is not None and ws.identity == model.settings_of(registry).human_coordinator
    return clone.Check("hooks", not human, f".git/hooks/{', '.join(tree)} {clone.TREE_HOOKS_WARNING}")


def _fetch(ws: workspace.Workspace) -> tuple[refresh.Freshness | None, str | None]:
    """The shared branch as the remote has it now (what it moved to, or why it could not be
    fetched): a clone that is merely behind is not told that its instance is unregistered."""
    try:
        fresh = refresh.refresh(ws, timeout=refresh.timeout(ws))
    except FatalError as e:  # nothing the remote has keeps the rules: the store check says so
        return None, str(e).splitlines()[0]
    return fresh, fresh.problem


def _git_version(root: Path) -> clone.Check:
    version = git.version(root)
    needed = "" if version >= MIN_GIT else f": gitcoord needs {MIN_GIT[0]}.{MIN_GIT[1]} or newer"
    return clone.Check("git", version >= MIN_GIT, ".".join(map(str, version)) + needed)


def _branch(ws: workspace.Workspace) -> clone.Check:
    """Where the store lives, and whether this clone has it."""
    local = git.rev_parse(ws.root, ws.ref)
    remote = git.rev_parse(ws.root, ws.tracking)
    checked_out = git.worktree_of(ws.root, ws.branch)
    layout = f"checked out in {checked_out} (the store on a code branch)" if checked_out else "a branch of its own"
    if checked_out is not None and Path(checked_out) == ws.root / EDIT_DIR:
        layout = f"a branch of its own, open for a hand edit in {checked_out} (`coord edit --done` closes it)"
    if local is None and remote is None:
        fix = f"`git fetch {ws.remote} {ws.ref}` then `coord install`, or `coord init` to start one"
        return clone.Check("branch", False, f"{ws.branch} is neither here nor fetched from {ws.remote}: {fix}")
    return clone.Check("branch", True, f"{ws.branch}, {layout}")


def _locks(ws: workspace.Workspace) -> clone.Check:
    """git's lock files left in this clone, and how long they have been there."""
    common = ws.repo.common_dir
    found = [*common.glob("*.lock"), *(common / "refs").rglob("*.lock"), *ws.repo.git_dir.glob("*.lock")]
    # coord's own locks (the clone's, the background packer's) are the OS's, never left behind;
    # told apart by path: git's lock of a branch named coord is refs/heads/coord.lock.
    found = [p for p in found if p not in (common / lock.NAME, common / maintenance.LOCK)]
    if not found:
        return clone.Check("locks", True, "none held")
    fix = "a git command holds them, or one was killed: remove them if none is running in this clone"
    return clone.Check("locks", False, f"{_aged(found)}: {fix}")


def _remote_locks(ws: workspace.Workspace) -> clone.Check:
    """The remote's lock of the shared branch, once it has been held longer than any push holds it:
    a teammate's push at work holds it for a moment, and is not to be disturbed."""
    now = time.time()
    found = [p for p in _remote_lock(ws) if now - p.stat().st_mtime > sync_engine.REMOTE_LOCK_PATIENCE]
    if not found:
        return clone.Check("remote locks", True, "none left behind")
    fix = (
        "a push to the remote was killed and left it behind: whoever can reach the server removes it, "
        "once no push is running there"
    )
    return clone.Check("remote locks", False, f"{_aged(found)}: {fix}")


def _aged(paths: list[Path]) -> str:
    now = time.time()
    return ", ".join(f"{p} ({now - p.stat().st_mtime:.0f}s old)" for p in sorted(set(paths)) if p.exists())


def _remote_lock(ws: workspace.Workspace) -> list[Path]:
    """The remote's lock of the shared branch, where the remote is a directory this clone can look in
    (a push killed there leaves it, and every push is refused until someone removes it)."""
    url = (git.remote_url(ws.root, ws.remote) or "").removeprefix("file://")
    if not url or "://" in url or ":" in url.split("/")[0]:  # another machine's (ssh, https, host:path)
        return []
    found = [ws.root / url / f"{ws.ref}.lock", ws.root / url / ".git" / f"{ws.ref}.lock"]
    return [p for p in found if p.is_file()]


def _store(ws: workspace.Workspace, fresh: refresh.Freshness | None) -> tuple[clone.Check, Record | None]:
    """Whether the shared branch's store is valid, and its registry (None when that does not read:
    the checks that ask it then say they cannot tell, rather than that the instance is unregistered)."""
    try:
        snap = workspace.snapshot(ws, commit=fresh.commit if fresh is not None else None)
        found = validation.check(snap)
        said = f"{len(found)} problem(s): run `coord validate`" if found else "valid"
        check = clone.Check("store", not found, f"{ws.branch} at {str(snap.commit)[:12]}: {said}")
        return check, snap[model.REGISTRY] if not any(f.file == model.REGISTRY for f in found) else None
    except FatalError as e:
        return clone.Check("store", False, str(e).splitlines()[0]), None


UNREAD = "cannot tell: the registry does not read (the store check above says why)"


def _guarded(ws: workspace.Workspace, registry: Record) -> Iterator[clone.Check]:
    """A store on a branch of its own that does not name it: what lies beside it there is unguarded."""
    code = workspace.default_branch(ws.root, ws.remote)
    if ws.branch == code or git.worktree_of(ws.root, ws.branch) is not None:
        return  # the store on a code branch: what lies beside it is code
    named = model.settings_of(registry).store_branch
    if named == ws.branch:
        yield clone.Check("beside the store", True, f"only the human coordinator changes files beside it on {named}")
        return
    fix = (
        f'the human coordinator sets "store_branch": "{ws.branch}" in the registry\'s settings (`coord edit`), so that '
        f"only they change the hooks and workflows kept beside the store on {ws.branch}"
    )
    yield clone.Check("beside the store", False, f"the store's settings name {named or 'no branch'}: {fix}")


def _merge_files(root: Path) -> clone.Check:
    """git's temporary copies of the sides of a merge (the files a merge driver reads), which a
    merge killed before it removed them leaves in the checkout's top directory."""
    found = sorted(p.name for p in root.glob(clone.MERGE_FILES))
    if not found:
        return clone.Check("merge leftovers", True, "none")
    fix = "a killed merge (or sync) left them: delete them if no git merge is running in this clone"
    return clone.Check("merge leftovers", False, f"{', '.join(found)} in {root}: {fix}")


def _conflict_markers(root: Path) -> clone.Check:
    paths = [root / store.repo_path(f) for f in model.FILES]
    marked = [p.name for p in paths if p.exists() and b"\n<<<<<<< " in b"\n" + p.read_bytes()]
    fix = "resolve them (`git checkout -m <file>` merges again, with the driver)"
    return clone.Check(
        "conflict markers", not marked, f"{', '.join(marked)} hold text conflict markers: {fix}" if marked else "none"
    )


def _identity(ws: workspace.Workspace, registry: Record | None) -> clone.Check:
    if ws.identity is None:
        return clone.Check("identity", False, events.IDENTITY_HELP)
    if registry is None:
        return clone.Check("identity", False, f"{ws.identity}: {UNREAD}")
    known = ws.identity in registry["instances"] or ws.identity == model.settings_of(registry).human_coordinator
    fix = "" if known else f": not registered; `coord register {ws.identity} --role ROLE`"
    return clone.Check("identity", known, ws.identity + fix)


def signing_check(ws: workspace.Workspace, registry: Record | None) -> clone.Check:
    try:
        key = signing.current(ws.root)
    except FatalError as e:
        return clone.Check("signing", False, str(e))
    if registry is None:
        return clone.Check("signing", False, f"{'signs with ' + key.fingerprint if key else 'does not sign'}; {UNREAD}")
    required = model.settings_of(registry).require_signatures
    if key is None or not git.config_bool(ws.root, "commit.gpgsign"):
        if not required:
            return clone.Check("signing", True, "this clone does not sign its commits; the store does not require it")
        fix = f"`coord install --as {ws.identity or 'NAME'}`"
        return clone.Check("signing", False, f"the store requires signed commits and this clone does not sign: {fix}")
    held = authenticity.keys_of(registry).get(ws.identity or "", frozenset())
    if key.public in held:
        return clone.Check(
            "signing", True, f"signs as {ws.identity} with {key.fingerprint}, the key the registry holds"
        )
    if not required:
        return clone.Check(
            "signing", True, f"signs with {key.fingerprint}; not in the registry yet (`coord key publish`)"
        )
    said = f"signs with {key.fingerprint}, which the registry does not hold for {ws.identity}"
    return clone.Check("signing", False, f"{said}: its commits would be refused (`coord key show`)")


def _remote(ws: workspace.Workspace, problem: str | None) -> clone.Check:
    url = git.config(ws.root, f"remote.{ws.remote}.").get(f"remote.{ws.remote}.url")
    if url is None:
        return clone.Check(
            "remote", False, f"no remote {ws.remote!r}: `coord sync` needs one (git remote add {ws.remote} URL)"
        )
    return clone.Check("remote", problem is None, f"{ws.remote} = {url}" + (f": {problem}" if problem else ""))


def doctor(*, cwd: Path, as_instance: str | None, driver_only: bool, out: Output) -> int:
    if driver_only:
        found = list(clone.driver_checks(git.discover(cwd)))
    else:
        found = list(checks(workspace.open_workspace(cwd, as_instance=as_instance)))
    failed = [c for c in found if not c.ok]
    lines = tables.table(
        [Cell("ok" if c.ok else "FAIL", "ok" if c.ok else "FAIL"), f"{c.name}:", c.detail] for c in found
    )
    problem = f"{len(failed)} check(s) failed: {', '.join(c.name for c in failed)}" if failed else None
    out.emit({"ok": not failed, "checks": [c._asdict() for c in found]}, lines, problem=problem)
    return 1 if failed else 0
