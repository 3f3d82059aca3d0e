"""A team without keys or a gate: the specification's example store in a bare remote, and a clone
for each named instance (the first one made it; the others cloned it and ran `coord install`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from testing.repos import bare_remote
from testing.repos import git


class UnsignedTeam:
    """`branch`: where `coord init` keeps the store (None: on its own branch, the default layout)."""

    def __init__(self, tmp: Path, coord: Callable[..., Any], names: list[str], *, branch: str | None = None) -> None:
        self.coord = coord
        self.tmp = tmp
        self.remote = bare_remote(tmp / "remote.git")
        self.clones: dict[str, Path] = {}
        for n, name in enumerate(names):
            self.clones[name] = self.clone(name) if n else self._first(name, branch)

    def _first(self, name: str, branch: str | None) -> Path:
        clone = self.tmp / name
        git(self.tmp, "init", "-q", "-b", "main", str(clone))
        if branch is None:  # the code branch needs a commit of its own before the store goes beside it
            (clone / "README.md").write_text("the code\n")
            git(clone, "add", "README.md")
            git(clone, "commit", "-q", "-m", "The code")
        self.ok(clone, "init", "--example", *(["--branch", branch] if branch else []))
        git(clone, "remote", "add", "origin", str(self.remote))
        if branch is None:
            git(clone, "push", "-q", "-u", "origin", "main")
        self.ok(clone, "sync")
        git(clone, "config", "coord.instance", name)
        return clone

    def clone(self, name: str, *, instance: str | None = None) -> Path:
        """A new clone of the remote, `coord install`ed, acting as `instance` (default: `name`)."""
        clone = self.tmp / name
        git(self.tmp, "clone", "-q", str(self.remote), str(clone))
        self.ok(clone, "install")
        git(clone, "config", "coord.instance", instance or name)
        return clone

    def ok(self, where: Path, *args: str) -> str:
        result = self.coord(where, *args)
        assert result.code == 0, result
        return str(result.out).strip()

    def __call__(self, who: str, *args: str) -> str:
        return self.ok(self.clones[who], *args)

    def run(self, who: str, *args: str) -> Any:
        return self.coord(self.clones[who], *args)

    def json(self, who: str, *args: str) -> Any:
        """The command's `data`, from its JSON envelope (which must say it succeeded)."""
        envelope = json.loads(self.ok(self.clones[who], *args, "--json"))
        assert envelope["ok"], envelope
        return envelope["data"]
