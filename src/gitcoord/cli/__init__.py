"""The `coord` command line: parse, then hand typed arguments to one function per command.

The modules here only declare commands and options and pass what they parsed to a plain
function of `gitcoord.commands` (STYLE §2); `main` maps what happened to an exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from gitcoord.cli import agent
from gitcoord.cli import branch
from gitcoord.cli import checking
from gitcoord.cli import decisions
from gitcoord.cli import messages
from gitcoord.cli import registry
from gitcoord.cli import setup
from gitcoord.cli import tasks
from gitcoord.cli.base import cli
from gitcoord.errors import ExitCode
from gitcoord.errors import FatalError
from gitcoord.output import error

COMMAND_MODULES = (
    agent,
    branch,
    checking,
    decisions,
    messages,
    registry,
    setup,
    tasks,
)  # each adds its commands to `cli`


def main(argv: Sequence[str] | None = None) -> int:
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="coord", standalone_mode=False)
    except click.exceptions.Exit as e:  # --help, --version
        return e.exit_code
    except click.exceptions.Abort:
        return ExitCode.INTERRUPTED
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except FatalError as e:
        error(str(e))
        _debug()
        return e.exit_code
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception:
        return _unexpected()
    return int(result or 0)


def _debug() -> None:
    """With COORD_DEBUG set, what led to an error too (e.g. a reader tripping over a broken store)."""
    if os.environ.get("COORD_DEBUG"):
        import traceback

        click.echo(traceback.format_exc(), err=True)


def _unexpected() -> int:
    import traceback
    from importlib.metadata import version

    details = f"gitcoord {version('gitcoord')}, Python {sys.version.split()[0]}\n{traceback.format_exc()}"
    try:
        where = f"details in {_crash_log(details)}"
    except OSError:  # pragma: no cover (no writable state directory)
        where = "details follow"
        click.echo(details, err=True)
    error(f"unexpected error: this is a bug in gitcoord; please report it ({where})")
    if os.environ.get("COORD_DEBUG"):
        click.echo(details, err=True)
    return ExitCode.UNEXPECTED


def crash_dir() -> Path:
    """Where crash logs go: this user's own state directory, which no other user can read."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "gitcoord"


def _crash_log(details: str) -> Path:
    """A new file for this crash, readable by this user only (a traceback can show private paths and text)."""
    import datetime as dt
    import tempfile

    directory = crash_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    fd, path = tempfile.mkstemp(prefix=f"crash-{stamp}-", suffix=".log", dir=directory)  # mode 0600
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(details)
    return Path(path)
