"""The `coord` group, the options every command shares, and how a command is called.

Only click, the standard library and the model's constants are imported here and in the
modules beside it; a command imports what it needs when it runs, so that `coord --help`
and the read path start fast.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import NamedTuple
from typing import TypedDict
from typing import TypeVar
from typing import cast

import click

from gitcoord.cli.strict import Group
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


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--as",
    "as_instance",
    metavar="INSTANCE",
    help="Act as this instance (else $COORD_INSTANCE, else `git config coord.instance`).",
)
@click.option(
    "-C",
    "directories",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Run as if started in this directory (again: relative to the one before, as git's -C).",
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    help="Colour the output (NO_COLOR is honoured).",
)
@click.option("--json", "as_json", is_flag=True, help="Print every result as JSON (as each command's --json).")
@click.version_option(package_name="gitcoord", prog_name="coord")
@click.pass_context
def cli(ctx: click.Context, as_instance: str | None, directories: tuple[Path, ...], color: str, as_json: bool) -> None:
    """Coordinate several coding agents through JSON files kept in git.

    Each protocol step is one commit on the shared branch; `coord sync` exchanges them
    with the other clones, and a merge driver merges concurrent edits record by record.
    """
    ctx.color = colour(color)
    out = ctx.obj if isinstance(ctx.obj, Output) else Output(as_json=False)
    out.color = ctx.color  # for what is printed once the command is done (its error)
    where = Path.cwd().joinpath(*directories).resolve()
    if directories and not where.is_dir():  # else every command would fail as if git were missing
        raise click.BadParameter(f"{where} is not a directory", param_hint="-C")
    ctx.obj = Globals(where, as_instance, out)


def colour(choice: str) -> bool | None:
    """What --color (and NO_COLOR, for auto) ask: always, never, or None (click's own: only at a terminal)."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):  # https://no-color.org: set and not empty
        return False
    return None


def json_option(f: F) -> F:
    """`--json` after the command, or before it (`coord --json task claim T`): either asks for JSON."""

    def either(ctx: click.Context, _: click.Parameter, given: bool) -> bool:
        return given or bool(ctx.find_root().params.get("as_json"))

    return click.option(
        "--json", "as_json", is_flag=True, callback=either, help="Print the result as JSON, with stable keys."
    )(f)


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


def text_option(name: str, *, says: str, required: bool = False, default: str | None = None) -> Callable[[F], F]:
    """`--NAME TEXT` and its twin `--NAME-file FILE` ('-': standard input), handed on as one argument, `NAME`.

    Long text from a file or stdin keeps shell quoting out of an agent's way. Giving both is
    a usage error; giving neither is one when the text is required, else it is `default`.
    """
    key = name.replace("-", "_")

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def given(*args: Any, **kwargs: Any) -> Any:
            kwargs[key] = _text(name, kwargs[key], kwargs.pop(f"{key}_file"), required=required, default=default)
            return f(*args, **kwargs)

        with_file = click.option(
            f"--{name}-file", f"{key}_file", metavar="FILE", help=f"Read the {name} from FILE ('-' for standard input)."
        )(given)
        return cast(F, click.option(f"--{name}", key, metavar="TEXT", help=says)(with_file))

    return decorate


def _text(name: str, text: str | None, path: str | None, *, required: bool, default: str | None) -> str | None:
    if text is not None and path is not None:
        raise click.UsageError(f"give the {name} with --{name} or with --{name}-file, not both")
    if path is not None:
        return read_text(path, option=f"--{name}-file")
    if text is None and required:
        raise click.UsageError(f"give the {name} with --{name} TEXT or --{name}-file FILE (- for standard input)")
    return text if text is not None else default


def read_text(path: str, *, option: str) -> str:
    """A file's text, or standard input's for '-'; a usage error naming `option` when it cannot be read."""
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise click.BadParameter(f"cannot read {path}: {e}", param_hint=option) from None


class Title(click.ParamType[str]):
    """A record's title, within the bounds the store's schema sets (common.json's `title`): a
    command line that could only make a step the schema refuses is a usage error, said so."""

    name = "title"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from gitcoord import schemas  # here: only a command that takes a title reads the schema

        text = str(value)
        longest = schemas.document(schemas.COMMON)["$defs"]["title"]["maxLength"]
        if not text.strip():
            self.fail("must not be empty", param, ctx)
        if len(text) > longest:
            self.fail(f"is {len(text)} characters long; a title has at most {longest}", param, ctx)
        return text


TITLE = Title()
