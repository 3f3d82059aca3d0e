"""The checks: `coord validate`, `check`, `health`, `reclaim` and `resolve`."""

from __future__ import annotations

from pathlib import Path

import click

from gitcoord.cli.base import cli
from gitcoord.cli.base import cwd
from gitcoord.cli.base import json_option
from gitcoord.cli.base import output
from gitcoord.cli.base import reading_options
from gitcoord.cli.base import sync_option
from gitcoord.cli.base import where


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--since", metavar="REV", help="Check only what changed since REV, a valid state (the hook uses HEAD).")
@json_option
def validate(*, paths: tuple[Path, ...], since: str | None, as_json: bool) -> int:
    """Check the coordination files: schemas and invariants, every problem at once.

    PATHS are coordination directories or files in one (default: coordination/ of this
    repository). Exits 1 when anything is wrong.
    """
    from gitcoord.commands import validate

    return validate.validate(paths=paths, cwd=cwd(), since=since, out=output(as_json))


@cli.command()
@click.option(
    "--range", "revisions", metavar="BASE..HEAD", help="Replay every commit in the range (default: the staged change)."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="github: workflow annotations.",
)
@click.option(
    "--joins",
    metavar="REV",
    help="The range is to join REV's line (a pull request's base): a key REV's registry rotated out signs none of it.",
)
@click.option(
    "--trust",
    metavar="KEY|@FILE",
    help="The human coordinator's public key (default: `git config coord.trust`): the range may make no store, "
    "and publish no first human key, that does not start from it.",
)
@reading_options
def check(
    *,
    revisions: str | None,
    output_format: str,
    joins: str | None,
    trust: str | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Check transitions, history and authorization: of the staged change, or of each commit in a range.

    The pre-commit hook checks the staged change as the configured instance; CI runs
    `coord check --range BASE..HEAD`, taking each commit's instance from its Coord-Instance
    trailer. Exits 1 when a rule is broken, naming the first commit that broke each rule.
    """
    from gitcoord.commands import check

    fmt = "json" if as_json else output_format
    return check.check(
        **where(as_instance, fmt == "json"), revisions=revisions, output_format=fmt, joins=joins, trust=trust
    )


@cli.command()
@click.option("--now", metavar="WHEN", help="Check as of this moment instead of now: 2024-01-16T12:00:00Z, +1d, ...")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown", "github"]),
    default="text",
    show_default=True,
)
@click.option("--issue", is_flag=True, help="Open, update or close the labelled GitHub issue to match (uses `gh`).")
@reading_options
def health(*, now: str | None, output_format: str, issue: bool, as_instance: str | None, as_json: bool) -> int:
    """The specification's health checks: check-ins, answers, deadlines, decisions, escalations.

    Exits 1 when any finding is an error. The thresholds are the registry's settings
    (checkin_hours, response_hours, lease_hours; defaults 24, 4 and 24).
    """
    from gitcoord.commands import health

    fmt = "json" if as_json else output_format
    return health.health(**where(as_instance, fmt == "json"), now=now, output_format=fmt, issue=issue)


@cli.command()
@sync_option
@reading_options
def reclaim(*, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Return tasks held by instances that have not checked in within the lease; tell each holder."""
    from gitcoord.commands import health

    return health.reclaim(**where(as_instance, as_json), sync=sync)


@cli.command()
@click.argument("record", required=False)
@click.argument("field", required=False)
@click.option("--pick", type=int, metavar="N", help="Keep the Nth of the conflict's values.")
@click.option("--value", metavar="JSON", help="Keep this value instead (JSON).")
@json_option
def resolve(*, record: str | None, field: str | None, pick: int | None, value: str | None, as_json: bool) -> int:
    """Settle a merge conflict the merge driver left in this working tree (no arguments: list them).

    RECORD is a task, message or decision id, or an instance name ($ for the file itself);
    FIELD the field both sides changed. When a file has no conflict left it is staged.
    """
    from gitcoord.commands import resolve

    return resolve.resolve(cwd=cwd(), record=record, field=field, pick=pick, value=value, out=output(as_json))
