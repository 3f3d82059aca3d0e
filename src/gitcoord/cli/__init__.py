"""The `coord` command line: parse, then hand typed arguments to one function per command.

The modules here only declare commands and options and pass what they parsed to a plain
function of `gitcoord.commands` (STYLE §2); `main` maps what happened to an exit code.
"""

from __future__ import annotations

import itertools
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
from gitcoord.cli.base import colour
from gitcoord.errors import ExitCode
from gitcoord.errors import FatalError
from gitcoord.errors import described
from gitcoord.output import Output

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
    args = list(argv) if argv is not None else sys.argv[1:]
    command, asks_json = invoked(args)
    if {"--help", "-h", "--version"} & set(args[: args.index("--")] if "--" in args else args):
        asks_json = False  # help and the version are text for a person: no envelope after them
    out = Output(as_json=asks_json, command=command)  # the one output of this run; `where` confirms --json
    out.color = colour(_follows_value(args, "--color") or "auto")  # until click has read it
    try:
        result = cli.main(args=args, prog_name="coord", standalone_mode=False, obj=out)
    except click.exceptions.Exit as e:  # --help, --version
        return e.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        # Ctrl-C: a person knows, so the text says nothing; a program gets its envelope.
        return out.fail("interrupted", "interrupted" if out.as_json else "", ExitCode.INTERRUPTED)
    except click.UsageError as e:
        return _usage(out, e)
    except click.ClickException as e:  # pragma: no cover (click's file errors; gitcoord uses none)
        if not out.as_json:
            e.show()
            return e.exit_code
        return out.fail("failed", e.format_message(), e.exit_code)
    except FatalError as e:
        kind, details = described(e)
        _debug()
        return out.fail(kind, str(e), ExitCode.USAGE if kind == "usage" else e.exit_code, details)
    except Exception:
        return _unexpected(out)
    code = int(result or 0)
    out.finish(code)
    return code


def invoked(args: Sequence[str]) -> tuple[str, bool]:
    """The command the arguments name ("task claim"), and whether they ask for JSON.

    Read from the words themselves, so that an error click raises before any command runs
    (a missing argument, an unknown option) is still told in JSON, under the command's name.
    """
    group: click.Command = cli
    path: list[str] = []
    rest = list(args)
    before = False  # --json before the command's name: the group's own option
    while rest and isinstance(group, click.Group):
        word = rest.pop(0)
        if word.startswith("-"):
            if "=" not in word and _takes_value(group, word) and rest:
                rest.pop(0)
            before = before or word == "--json"
            continue
        found = group.commands.get(word)
        if found is None:
            break
        path.append(word)
        group = found
    asks = before or "--json" in rest or "--format=json" in rest or _follows(rest, "--format", "json")
    return " ".join(path), asks


def _takes_value(command: click.Command, flag: str) -> bool:
    return any(flag in p.opts and not p.is_flag for p in command.params if isinstance(p, click.Option))


def _follows_value(words: list[str], option: str) -> str | None:
    for word, then in itertools.pairwise([*words, ""]):
        if word.startswith(f"{option}="):
            return word.partition("=")[2]
        if word == option:
            return then
    return None


def _follows(words: list[str], first: str, second: str) -> bool:
    return any(a == first and b == second for a, b in itertools.pairwise(words))


def _usage(out: Output, e: click.UsageError) -> int:
    if not out.as_json:
        e.show()
        return e.exit_code
    details = {"usage": e.ctx.get_usage()} if e.ctx is not None else {}
    details.update(getattr(e, "coord_details", {}))
    return out.fail("usage", e.format_message(), e.exit_code, details)


def _debug() -> None:
    """With COORD_DEBUG set, what led to an error too (e.g. a reader tripping over a broken store)."""
    if os.environ.get("COORD_DEBUG"):
        import traceback

        click.echo(traceback.format_exc(), err=True)


def _unexpected(out: Output) -> int:
    import traceback
    from importlib.metadata import version

    details = f"gitcoord {version('gitcoord')}, Python {sys.version.split()[0]}\n{traceback.format_exc()}"
    try:
        where = f"details in {_crash_log(details)}"
    except OSError:  # pragma: no cover (no writable state directory)
        where = "details follow"
        click.echo(details, err=True)
    if os.environ.get("COORD_DEBUG"):
        click.echo(details, err=True)
    message = f"unexpected error: this is a bug in gitcoord; please report it ({where})"
    return out.fail("unexpected", message, ExitCode.UNEXPECTED)


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
