"""A signed team for tests: a bare remote with the gate, the human coordinator's clone and the
instances' clones, each signing with its own real key (`coord install --as NAME`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitcoord.git import clean_env
from testing.repos import bare_remote
from testing.repos import git
from testing.repos import make_repo

HUMAN = "human"
Edit = Callable[[dict[str, Any]], None]


class Team:
    """Keys live in base/keys: the caller points COORD_KEYS_DIR there before building or copying."""

    def __init__(self, base: Path, coord: Callable[..., Any], instances: tuple[str, ...]) -> None:
        self.base = base
        self.coord = coord
        self.remote = base / "remote.git"
        self.clones = {HUMAN: base / HUMAN, **{name: base / name for name in instances}}

    @classmethod
    def build(cls, base: Path, coord: Callable[..., Any], instances: tuple[str, ...]) -> Team:
        team = cls(base, coord, instances)
        base.mkdir(parents=True, exist_ok=True)
        bare_remote(team.remote)
        team.ok(None, "install", "--server", where=team.remote)
        human = make_repo(team.clones[HUMAN])
        git(human, "remote", "add", "origin", str(team.remote))
        team.ok(HUMAN, "init", "--as", HUMAN, "--branch", "main")
        team.ok(HUMAN, "sync")
        for name in instances:
            git(base, "clone", "-q", str(team.remote), str(team.clones[name]))
            team.ok(name, "install", "--as", name)
            team.ok(name, "register", name, "--role", "developer", "--sync")
        return team

    def copy(self, base: Path, coord: Callable[..., Any]) -> Team:
        """The same team in `base` (faster than building one): its clones point at the copied remote and keys."""
        shutil.copytree(self.base, base, symlinks=True)
        team = Team(base, coord, tuple(name for name in self.clones if name != HUMAN))
        for clone in team.clones.values():
            git(clone, "remote", "set-url", "origin", str(team.remote))
            key = Path(git(clone, "config", "user.signingkey"))
            git(clone, "config", "user.signingkey", str(base / key.relative_to(self.base)))
        return team

    def ok(self, who: str | None, *args: str, where: Path | None = None) -> str:
        result = self.coord(where or self.clones[str(who)], *args)
        assert result.code == 0, result
        return str(result.out)

    def run(self, who: str, *args: str) -> Any:
        return self.coord(self.clones[who], *args)

    def key_of(self, who: str) -> Path:
        return Path(git(self.clones[who], "config", "user.signingkey"))

    def fresh(self, who: str) -> None:
        """`who`'s clone at the remote's tip, its checkout too."""
        clone = self.clones[who]
        self.ok(who, "sync")
        git(clone, "checkout", "-q", "main")
        git(clone, "merge", "-q", "--ff-only", "origin/main")

    def edit(self, who: str, file: str, change: Edit) -> None:
        path = self.clones[who] / "coordination" / file
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data, indent=2) + "\n")

    def commit(self, who: str, message: str, *options: str, env: dict[str, str] | None = None) -> str:
        """Commit everything by hand (no hooks but prepare-commit-msg); `options` go before `commit`."""
        git(self.clones[who], *options, "commit", "-q", "--no-verify", "-a", "-m", message, env=env)
        return git(self.clones[who], "rev-parse", "HEAD")

    def push(self, who: str, *args: str) -> subprocess.CompletedProcess[str]:
        """A real `git push` past the client's hooks: only the server's gate stands in the way."""
        return subprocess.run(
            ["git", "push", "--no-verify", "origin", *(args or ("main",))],
            cwd=self.clones[who],
            capture_output=True,
            text=True,
            check=False,
            env=clean_env(),
        )

    def remote_tip(self, branch: str = "main") -> str:
        return git(self.remote, "rev-parse", branch)
