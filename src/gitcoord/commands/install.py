"""`coord install`: what one clone needs beyond the committed files (git keeps it out of git).

A merge driver and hooks live in each clone's .git/, which a clone does not copy; without
the driver git silently merges the JSON as text. `coord install` is what a fresh clone runs,
and it is safe to run again.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

from gitcoord import git
from gitcoord import hooks
from gitcoord import store
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


def hook_templates() -> Path:
    """The scripts of the repository's hooks/ folder: in the wheel, or beside src/ in a checkout."""
    packaged = Path(str(files("gitcoord"))) / "hooks"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[3] / "hooks"


def install_git_hooks(repo: git.Repo) -> list[str]:
    """Install hooks/ into .git/hooks, keeping a hook that was there as <name>.legacy, which ours runs."""
    changed = []
    directory = repo.common_dir / "hooks"
    directory.mkdir(exist_ok=True)
    for name in GIT_HOOKS:
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


def install(*, cwd: Path, out: Output) -> int:
    repo = git.discover(cwd)
    changed = install_clone(repo)
    out.emit({"changed": changed}, [f"set {c}" for c in changed] or ["already installed; nothing to do"])
    return 0
