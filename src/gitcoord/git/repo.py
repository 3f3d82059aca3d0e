"""Repositories: finding one, making one, and its configuration."""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from gitcoord.git._process import clean_env
from gitcoord.git._process import out
from gitcoord.git._process import run
from gitcoord.git.errors import NotARepository


class Repo(NamedTuple):
    root: Path  # the working tree's top level
    git_dir: Path  # this worktree's git directory
    common_dir: Path  # shared by all worktrees: refs, objects, config


def discover(cwd: Path) -> Repo:
    args = ["rev-parse", "--path-format=absolute", "--show-toplevel", "--git-dir", "--git-common-dir"]
    done = run(args, cwd, check=False)
    if done.returncode != 0:
        if b"work tree" in done.stderr:
            raise NotARepository(f"{cwd} is a bare repository; run coord in a clone with a working tree")
        raise NotARepository(f"{cwd} is not in a git repository; run `git init` there first, or cd into a repository")
    root, git_dir, common = done.stdout.decode().splitlines()
    return Repo(Path(root), Path(git_dir), Path(common))


def version(cwd: Path) -> tuple[int, int]:
    found = re.search(r"(\d+)\.(\d+)", out(["version"], cwd))
    return (int(found[1]), int(found[2])) if found else (0, 0)


def init(path: Path, *, branch: str, bare: bool = False, env: Mapping[str, str] | None = None) -> None:
    """A new repository at `path` (another repository than any hook's: `env` defaults to a clean one)."""
    run(["init", "-q", *(["--bare"] if bare else []), "-b", branch, str(path)], None, env=env or clean_env())


def clone(url: str, path: Path, *, env: Mapping[str, str] | None = None) -> None:
    run(["clone", "-q", url, str(path)], None, env=env or clean_env())


def add_remote(cwd: Path, name: str, url: str) -> None:
    run(["remote", "add", name, url], cwd)


def config(cwd: Path, prefix: str, *more: str) -> dict[str, str]:
    """Every config value whose name starts with `prefix`, or with one of `more` (last one wins):
    one git process for all."""
    pattern = "|".join(p.replace(".", r"\.") for p in (prefix, *more))
    done = run(["config", "-z", "--get-regexp", f"^({pattern})" if more else "^" + pattern], cwd, check=False)
    values: dict[str, str] = {}
    for item in done.stdout.decode("utf-8", "replace").split("\0"):
        if item:
            key, _, value = item.partition("\n")
            values[key] = value
    return values


def set_config(cwd: Path, key: str, value: str) -> None:
    run(["config", key, value], cwd)


def check_attr(cwd: Path, attribute: str, path: str) -> str:
    """The value of `attribute` for `path`: "unspecified", "set", "unset" or its value."""
    fields = out(["check-attr", "-z", attribute, "--", path], cwd).split("\0")
    return fields[2] if len(fields) > 2 else "unspecified"


def config_bool(cwd: Path, key: str) -> bool:
    done = run(["config", "--type=bool", "--get", key], cwd, check=False)
    return done.stdout.decode().strip() == "true"


def config_values(cwd: Path, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
    """The value and scope (local, global, system, ...) of each of `keys` that is set (the last one wins)."""
    pattern = "^(" + "|".join(k.lower().replace(".", r"\.") for k in keys) + ")$"
    done = run(["config", "-z", "--show-scope", "--get-regexp", pattern], cwd, check=False)
    items = done.stdout.decode("utf-8", "replace").split("\0")
    values: dict[str, tuple[str, str]] = {}
    for scope, item in zip(items[0::2], items[1::2], strict=False):  # -z --show-scope: scope NUL key LF value NUL
        key, _, value = item.partition("\n")
        values[key] = (value, scope)
    return values


def is_bare(cwd: Path) -> bool:
    return run(["rev-parse", "--is-bare-repository"], cwd, check=False).stdout.decode().strip() == "true"


def hooks_dir(cwd: Path) -> Path:
    """Where this repository's hooks live (core.hooksPath, else hooks/ in its git directory)."""
    return Path(out(["rev-parse", "--path-format=absolute", "--git-path", "hooks"], cwd))


def is_shallow(repo: Repo) -> bool:
    """Whether this clone holds only part of some history (`git clone --depth`, a join on the tip)."""
    return (repo.common_dir / "shallow").exists()
