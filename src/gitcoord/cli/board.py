"""The shared branch: `coord status`, `log`, `sync` and `archive`."""

from __future__ import annotations

import click

from gitcoord.cli.base import cli
from gitcoord.cli.base import reading_options
from gitcoord.cli.base import sync_option
from gitcoord.cli.base import where


@cli.command()
@reading_options
def status(*, as_instance: str | None, as_json: bool) -> int:
    """The board: instances, tasks by status, open messages, pending decisions."""
    from gitcoord.commands import status

    return status.status(**where(as_instance, as_json))


@cli.command()
@click.option("--instance", metavar="INSTANCE", help="Only events by INSTANCE.")
@click.option("--subject", metavar="ID", help="Only events about this task, message or decision.")
@click.option("-n", "limit", type=int, default=50, show_default=True, help="How many events.")
@reading_options
def log(*, instance: str | None, subject: str | None, limit: int, as_instance: str | None, as_json: bool) -> int:
    """The event log: coordination commits on the shared branch, newest first."""
    from gitcoord.commands import log

    return log.log(**where(as_instance, as_json), instance=instance, subject=subject, limit=limit)


@cli.command("sync")
@reading_options
def sync_command(*, as_instance: str | None, as_json: bool) -> int:
    """Exchange coordination commits with the remote: fetch, merge with the driver, validate, push.

    Retries with backoff when another instance pushed first, and reports what concerns me:
    a claim I lost, tasks offered to me, new messages, decisions made.
    """
    from gitcoord.commands import sync

    return sync.sync(**where(as_instance, as_json))


@cli.command()
@click.option(
    "--older-than",
    "days",
    type=int,
    default=30,
    show_default=True,
    metavar="DAYS",
    help="Archive what closed more than DAYS ago.",
)
@click.option("--before", metavar="ISO8601", help="Archive what closed before this moment instead.")
@click.option("--dry-run", is_flag=True, help="Say what would move, and move nothing.")
@sync_option
@reading_options
def archive(
    *, days: int, before: str | None, dry_run: bool, sync: bool | None, as_instance: str | None, as_json: bool
) -> int:
    """Move closed tasks, threads and decisions older than a cut-off to coordination/archive/.

    The live files stay small; references to archived records stay valid. A task moves
    only when no live task depends on it.
    """
    from gitcoord.commands import archive

    return archive.archive(**where(as_instance, as_json), days=days, before=before, dry_run=dry_run, sync=sync)
