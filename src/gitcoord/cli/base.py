"""The `coord` group, the options every command shares, and how a command is called.

Only click, the standard library and the model's constants are imported here and in the
modules beside it; a command imports what it needs when it runs, so that `coord --help`
and the read path start fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import NamedTuple
from typing import TypedDict
from typing import TypeVar

import click

from gitcoord.output import Output

F = TypeVar("F", bound=Callable[..., Any])


class Globals(NamedTuple):
    cwd: Path
    as_instance: str | None
    out: Output  # the run's one output (`main` makes it; a test calling `cli` directly gets its own)


class Invocation(TypedDict):
    """Where a command runs, as whom, and how it prints: what -C, --as and --json said."""

    cwd: Path
    as_instance: str | None
    out: Output


class StepInvocation(Invocation):
    """And for a protocol step: whether to commit it, and whether to share it at once."""

    no_commit: bool
    sync: bool | None


def _globals() -> Globals:
    obj = click.get_current_context().find_object(Globals)
    return obj if obj is not None else Globals(Path.cwd(), None, Output(as_json=False))


def cwd() -> Path:
    return _globals().cwd


def identity(as_instance: str | None) -> str | None:
    """--as after the command, else before it."""
    return as_instance or _globals().as_instance


def output(as_json: bool) -> Output:
    """The run's output, now that click has parsed whether the command was given --json."""
    out = _globals().out
    out.as_json = as_json
    ctx = click.get_current_context()
    out.command = ctx.command_path.partition(" ")[2]  # "coord task claim" -> "task claim"
    return out


def where(as_instance: str | None, as_json: bool) -> Invocation:
    return Invocation(cwd=cwd(), as_instance=identity(as_instance), out=output(as_json))


def step_where(as_instance: str | None, as_json: bool, *, no_commit: bool, sync: bool | None) -> StepInvocation:
    return StepInvocation(**where(as_instance, as_json), no_commit=no_commit, sync=sync)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--as",
    "as_instance",
    metavar="INSTANCE",
    help="Act as this instance (else $COORD_INSTANCE, else `git config coord.instance`).",
)
@click.option(
    "-C", "directory", type=click.Path(file_okay=False, path_type=Path), help="Run as if started in this directory."
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    help="Colour the output (NO_COLOR is honoured).",
)
@click.version_option(package_name="gitcoord", prog_name="coord")
@click.pass_context
def cli(ctx: click.Context, as_instance: str | None, directory: Path | None, color: str) -> None:
    """Coordinate several coding agents through JSON files kept in git.

    Each protocol step is one commit on the shared branch; `coord sync` exchanges them
    with the other clones, and a merge driver merges concurrent edits record by record.
    """
    if color == "never" or (color == "auto" and os.environ.get("NO_COLOR")):
        ctx.color = False
    elif color == "always":
        ctx.color = True
    out = ctx.obj if isinstance(ctx.obj, Output) else Output(as_json=False)
    ctx.obj = Globals((directory or Path.cwd()).resolve(), as_instance, out)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON, with stable keys.")(f)


def as_option(f: F) -> F:
    """`--as` after the command too: `coord task claim T --as instance-1` reads naturally."""
    return click.option("--as", "as_instance", metavar="INSTANCE", help="Act as this instance.")(f)


def reading_options(f: F) -> F:
    """What every command that reads the store takes: --as and --json."""
    return as_option(json_option(f))


def sync_option(f: F) -> F:
    help_text = "Share the commit with the other clones at once (default: git config coord.sync)."
    return click.option("--sync/--no-sync", "sync", default=None, help=help_text)(f)


def step_options(f: F) -> F:
    """What every protocol step takes: --no-commit, --sync, --as and --json."""
    f = click.option(
        "--no-commit", is_flag=True, help="Stage the change for a person to commit instead of committing it."
    )(reading_options(f))
    return sync_option(f)


def long_text(text: str | None, path: str | None, *, what: str) -> str:
    """Long text from an option, a file, or standard input ('-'), so that no shell quoting gets in the way."""
    if (text is None) == (path is None):
        raise click.UsageError(
            f"give the {what} with --{what} TEXT or --{what}-file FILE (- for standard input), not both"
        )
    if text is not None:
        return text
    assert path is not None
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise click.BadParameter(f"cannot read {path}: {e}", param_hint=f"--{what}-file") from None
