"""`coord install`: what one clone needs beyond the committed files (git keeps it out of git).

A merge driver and hooks live in each clone's .git/, which a clone does not copy; without
the driver git silently merges the JSON as text. `coord install` is what a fresh clone runs,
and it is safe to run again.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

from gitcoord import git
from gitcoord import hooks
from gitcoord import signing
from gitcoord import store
from gitcoord import workspace
from gitcoord.errors import FatalError
from gitcoord.output import Output
from gitcoord.workspace import default_branch

DRIVER = "coord"  # the name .gitattributes gives the driver: `merge=coord`
DRIVER_NAME = "gitcoord: merge coordination records"
ATTRIBUTES = (f"coordination/*.json merge={DRIVER}", f"coordination/archive/*.json merge={DRIVER}")


def driver_command() -> str:
    # The interpreter that installed gitcoord, by absolute path: git runs drivers with
    # whatever PATH the caller had (an IDE, a GUI client), which may not find `coord`.
    return f"{shlex.quote(sys.executable)} -m gitcoord merge-driver %O %A %B %P"


def install_clone(repo: git.Repo, *, branch: str | None = None) -> list[str]:
    """Register the driver, the attributes and the branch; return what changed."""
    root = repo.root
    changed = []
    current = git.config(root, f"merge.{DRIVER}.")
    wanted = {f"merge.{DRIVER}.name": DRIVER_NAME, f"merge.{DRIVER}.driver": driver_command()}
    for key, value in wanted.items():
        if current.get(key) != value:
            git.set_config(root, key, value)
            changed.append(key)
    if "coord.branch" not in git.config(root, "coord.branch"):
        git.set_config(root, "coord.branch", branch or default_branch(root, "origin"))
        changed.append("coord.branch")
    # Also in .git/info/attributes: branches without the committed .gitattributes, and
    # `git merge-tree`, still merge the files with the driver.
    info = repo.common_dir / "info" / "attributes"
    if store.ensure_lines(info, ATTRIBUTES):
        changed.append(str(info))
    if (root / ".pre-commit-config.yaml").exists() and not _hooks_installed(repo):
        types = [a for t in hooks.HOOK_TYPES for a in ("--hook-type", t)]
        done = subprocess.run(
            [sys.executable, "-m", "pre_commit", "install", *types], cwd=root, capture_output=True, check=False
        )
        if done.returncode != 0:
            raise FatalError(f"`pre-commit install` failed: {done.stderr.decode(errors='replace').strip()}")
        changed.append("pre-commit hooks: " + ", ".join(hooks.HOOK_TYPES))
    return changed + install_git_hooks(repo)


MARK = "# gitcoord hook"
GIT_HOOKS = ("prepare-commit-msg",)
SERVER_HOOKS = ("pre-receive",)


def hook_templates() -> Path:
    """The scripts of the repository's hooks/ folder: in the wheel, or beside src/ in a checkout."""
    packaged = Path(str(files("gitcoord"))) / "hooks"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[3] / "hooks"


def install_git_hooks(repo: git.Repo) -> list[str]:
    return write_hooks(repo.common_dir / "hooks", GIT_HOOKS)


def write_hooks(directory: Path, names: tuple[str, ...]) -> list[str]:
    """Install hooks/ `names` into `directory`, keeping a hook that was there as <name>.legacy, which ours runs."""
    changed = []
    directory.mkdir(exist_ok=True)
    for name in names:
        script = (hook_templates() / name).read_text("utf-8").replace("@PYTHON@", sys.executable)
        target = directory / name
        current = target.read_text("utf-8", "replace") if target.exists() else None
        if current == script:
            continue
        if current is not None and MARK not in current:
            target.rename(directory / f"{name}.legacy")
        store.write_atomic(target, script.encode("utf-8"))
        target.chmod(0o755)
        changed.append(f"git hook {name}")
    return changed


def _hooks_installed(repo: git.Repo) -> bool:
    def ours(name: str) -> bool:
        path = repo.common_dir / "hooks" / name
        return path.exists() and "pre-commit" in path.read_text("utf-8", "replace")

    return all(ours(t) for t in hooks.HOOK_TYPES)


def install(*, cwd: Path, as_instance: str | None, server: bool, out: Output) -> int:
    if server:
        return install_server(cwd=cwd, out=out)
    repo = git.discover(cwd)
    changed = install_clone(repo)
    data: dict[str, Any] = {"changed": changed}
    key = None
    if as_instance:
        key, more = sign_as(repo.root, as_instance)
        changed += more
        data.update(instance=as_instance, signing_key=key.public, fingerprint=key.fingerprint, key_path=_path(key))
    lines = [f"set {c}" for c in changed] or ["already installed; nothing to do"]
    if key is not None:
        where = _path(key) or "a literal key"
        lines += [f"this clone acts as {as_instance} and signs its commits with {where} ({key.origin})", key.public]
        from gitcoord.commands.key import registered_hint

        hint = registered_hint(workspace.open_workspace(repo.root, as_instance=as_instance), key.public)
        if hint:
            lines.append(hint)
    out.emit(data, lines)
    return 0


def _path(key: signing.Key) -> str | None:
    return str(key.path) if key.path else None


_INSTANCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # common.json's instance_id


def sign_as(root: Path, instance: str) -> tuple[signing.Key, list[str]]:
    """This clone acts as `instance` (coord.instance) and signs its commits; the key, and what changed."""
    if not _INSTANCE_ID.match(instance):
        raise FatalError(f"{instance!r} cannot name an instance: letters, digits, '.', '_' or '-', up to 64")
    changed = []
    if git.config(root, "coord.instance").get("coord.instance") != instance:
        git.set_config(root, "coord.instance", instance)
        changed.append("coord.instance")
    key, more = signing.ensure(root, instance)
    return key, changed + more


def install_server(*, cwd: Path, out: Output) -> int:
    """The gate in the repository clones push to: a pre-receive hook running `coord hook pre-receive`."""
    if not git.is_bare(cwd):
        raise FatalError(
            f"{cwd} is not a bare repository: `coord install --server` sets up the repository that clones push "
            "to (run it there, e.g. `coord -C /srv/git/project.git install --server`)"
        )
    signing.ssh_keygen(cwd)  # the gate verifies signatures: better to say now that it cannot
    directory = git.hooks_dir(cwd)
    changed = write_hooks(directory, SERVER_HOOKS)
    lines = [f"installed {c} in {directory}" for c in changed] or ["the gate is installed; nothing to do"]
    out.emit({"changed": changed, "hooks": str(directory)}, lines)
    return 0
