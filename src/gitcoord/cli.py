"""The `coord` command line: parse, then hand typed arguments to one function per command.

Only click and the standard library are imported here; a command imports what it needs
when it runs, so `coord --help` and the read path start fast.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any
from typing import NamedTuple
from typing import TypeVar

import click

from gitcoord.errors import ExitCode
from gitcoord.errors import FatalError
from gitcoord.output import Output
from gitcoord.output import error

F = TypeVar("F", bound=Callable[..., Any])


class Globals(NamedTuple):
    cwd: Path
    as_instance: str | None


def _globals() -> Globals:
    obj = click.get_current_context().find_object(Globals)
    return obj if obj is not None else Globals(Path.cwd(), None)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON, with stable keys.")(f)


def as_option(f: F) -> F:
    """`--as` after the command too: `coord task claim T --as instance-1` reads naturally."""
    return click.option("--as", "as_instance", metavar="INSTANCE", help="Act as this instance.")(f)


def _identity(as_instance: str | None) -> str | None:
    return as_instance or _globals().as_instance


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
@click.version_option(version("gitcoord"), prog_name="coord")
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
    ctx.obj = Globals((directory or Path.cwd()).resolve(), as_instance)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@json_option
def validate(paths: tuple[Path, ...], as_json: bool) -> int:
    """Check the coordination files: schemas and invariants, every problem at once.

    PATHS are coordination directories or files in one (default: coordination/ of this
    repository). Exits 1 when anything is wrong.
    """
    from gitcoord.commands.validate import validate as run

    return run(paths, cwd=_globals().cwd, out=Output(as_json=as_json))


@cli.command()
@as_option
@json_option
def status(as_instance: str | None, as_json: bool) -> int:
    """The board: instances, tasks by status, open messages, pending decisions."""
    from gitcoord.commands.status import status as run

    return run(cwd=_globals().cwd, as_instance=_identity(as_instance), out=Output(as_json=as_json))


@cli.command()
@click.option("--example", is_flag=True, help="Start from the specification's six-instance example.")
@as_option
@json_option
def init(example: bool, as_instance: str | None, as_json: bool) -> int:
    """Start coordinating in this repository: coordination/, .gitattributes, hooks; one commit.

    Safe to run again: it adds only what is missing and never overwrites a file.
    """
    from gitcoord.commands.init import init as run

    return run(cwd=_globals().cwd, example=example, as_instance=_identity(as_instance), out=Output(as_json=as_json))


@cli.command()
@json_option
def install(as_json: bool) -> int:
    """Set up this clone: the merge driver, its attributes, the shared branch. Idempotent."""
    from gitcoord.commands.install import install as run

    return run(cwd=_globals().cwd, out=Output(as_json=as_json))


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to create it (default: a new temporary directory).",
)
def demo(directory: Path | None) -> int:
    """Play the specification's example in a throwaway repository."""
    from gitcoord.commands.demo import demo as run

    return run(directory=directory, out=Output(as_json=False))


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
        return ExitCode.FAILED
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception:
        return _unexpected()
    return int(result or 0)


def _unexpected() -> int:
    log = Path(tempfile.gettempdir()) / "gitcoord-error.log"
    details = f"gitcoord {version('gitcoord')}, Python {sys.version.split()[0]}\n{traceback.format_exc()}"
    try:
        log.write_text(details, "utf-8")
        where = f"details in {log}"
    except OSError:  # pragma: no cover (an unwritable temp directory)
        where = "details follow"
        click.echo(details, err=True)
    error(f"unexpected error: this is a bug in gitcoord; please report it ({where})")
    if os.environ.get("COORD_DEBUG"):
        click.echo(details, err=True)
    return ExitCode.UNEXPECTED
