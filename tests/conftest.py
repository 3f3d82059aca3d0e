from __future__ import annotations

import os
import sys
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from typing import NamedTuple

import pytest
from testing.repos import hermetic_git_env
from testing.repos import make_repo

from gitcoord.cli import main

SEED = Path(__file__).parent / "fixtures" / "seed"


@pytest.fixture(scope="session")
def hermetic_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Shared by the whole run: pre-commit builds a hook environment once, then reuses it.
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(autouse=True)
def _hermetic(
    monkeypatch: pytest.MonkeyPatch, hermetic_home: Path, pre_commit_home: Path, tmp_path: Path
) -> Iterator[None]:
    """Never the user's git config, home or identity; never left inside a test's repository."""
    for name in list(os.environ):
        if name.startswith(("GIT_", "COORD_")) or name in ("NO_COLOR", "PRE_COMMIT_HOME", "XDG_STATE_HOME"):
            monkeypatch.delenv(name)
    for name, value in hermetic_git_env(hermetic_home).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PRE_COMMIT_HOME", str(pre_commit_home))
    # Signing keys that `coord install --as` makes: each test its own, never the user's.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    # The interpreter running the tests is the one whose `coord` the hooks should find.
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    yield
    os.chdir(Path(tmp_path).anchor)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from testing.browser import WRITTEN

    if WRITTEN:
        terminalreporter.write_line(f"board screenshots: {', '.join(map(str, WRITTEN))}")


class Result(NamedTuple):
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


Coord = Callable[..., Result]


@pytest.fixture
def coord(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Coord:
    """Run the real `coord` entry point in this process, from directory `cwd`."""

    def run(cwd: Path, *args: str, stdin: str | None = None) -> Result:
        if stdin is not None:
            import io

            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = main(["-C", str(cwd), *args])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def seed_repo(repo: Path, coord: Coord) -> Path:
    """A repository initialised with the specification's example."""
    result = coord(repo, "init", "--example", "--branch", "main")
    assert result.code == 0, result
    return repo


_TEAMS: dict[str, Any] = {}


@pytest.fixture
def signed_team(
    tmp_path: Path, coord: Coord, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """A bare remote with the gate, the human's clone (`coord init --as human`) and instance-1 and instance-2,
    registered with their own keys: built once, copied for each test."""
    from testing.signed import Team

    if "template" not in _TEAMS:
        base = tmp_path_factory.mktemp("signed-team") / "team"
        monkeypatch.setenv("COORD_KEYS_DIR", str(base / "keys"))
        _TEAMS["template"] = Team.build(base, coord, ("instance-1", "instance-2"))
    team = _TEAMS["template"].copy(tmp_path / "team", coord)
    monkeypatch.setenv("COORD_KEYS_DIR", str(team.base / "keys"))
    return team
