"""`coord install`: what one clone needs beyond the committed files (git keeps it out of git).

A merge driver and hooks live in each clone's .git/, which a clone does not copy; without
the driver git silently merges the JSON as text. `coord install` is what a fresh clone runs,
and it is safe to run again.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from gitcoord import git
from gitcoord import store
from gitcoord.output import Output
from gitcoord.workspace import default_branch

DRIVER_NAME = "gitcoord: merge coordination records"
ATTRIBUTES = ("coordination/*.json merge=coord", "coordination/archive/*.json merge=coord")


def driver_command() -> str:
    # The interpreter that installed gitcoord, by absolute path: git runs drivers with
    # whatever PATH the caller had (an IDE, a GUI client), which may not find `coord`.
    return f"{shlex.quote(sys.executable)} -m gitcoord merge-driver %O %A %B %P"


def install_clone(repo: git.Repo, *, branch: str | None = None) -> list[str]:
    """Register the driver, the attributes and the branch; return what changed."""
    root = repo.root
    changed = []
    current = git.config(root, "merge.coord.")
    wanted = {"merge.coord.name": DRIVER_NAME, "merge.coord.driver": driver_command()}
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
    return changed


def install(*, cwd: Path, out: Output) -> int:
    repo = git.discover(cwd)
    changed = install_clone(repo)
    out.emit({"changed": changed}, [f"set {c}" for c in changed] or ["already installed; nothing to do"])
    return 0
