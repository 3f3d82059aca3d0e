"""The shared branch: `coord status`, `log`, `sync`, `archive`, and the human coordinator's `board`."""

from __future__ import annotations

from pathlib import Path

import click

from gitcoord.cli.base import cli
from gitcoord.cli.base import cwd
from gitcoord.cli.base import output
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
@click.option(
    "--accept-rewind",
    is_flag=True,
    help="Take a shared branch that was rewound (a repair by the human coordinator) as it now is; "
    "this clone's steps it never had are made again on it.",
)
@reading_options
def sync_command(*, accept_rewind: bool, as_instance: str | None, as_json: bool) -> int:
    """Exchange coordination commits with the remote: fetch, judge what came in, merge with the driver, push.

    Retries with backoff when another instance pushed first, and reports what concerns me:
    a claim I lost, tasks offered to me, new messages, decisions made. A remote tip that
    breaks the rules, or a shared branch that lost commits, is refused with what to do.
    """
    from gitcoord.commands import sync

    return sync.sync(**where(as_instance, as_json), accept_rewind=accept_rewind)


@cli.command()
@click.option(
    "--older-than",
    "days",
    type=int,
    metavar="DAYS",
    help="Archive only what closed more than DAYS ago (default and least: the settings' archive_after_days).",
)
@click.option("--before", metavar="WHEN", help="Archive what closed before this moment instead (e.g. -30d).")
@click.option("--dry-run", is_flag=True, help="Say what would move, and move nothing.")
@sync_option
@reading_options
def archive(
    *, days: int | None, before: str | None, dry_run: bool, sync: bool | None, as_instance: str | None, as_json: bool
) -> int:
    """Move closed tasks, threads and decisions to coordination/archive/, by the settings' policy.

    A record moves once the day it closed is `archive_after_days` (default 2) over, into a
    shard for that day that never changes again. The live files stay small; references to
    archived records stay valid. A task moves only when no live task depends on it.
    """
    from gitcoord.commands import archive

    return archive.archive(**where(as_instance, as_json), days=days, before=before, dry_run=dry_run, sync=sync)


@cli.command()
@click.option("--serve", is_flag=True, help="Serve the live board on 127.0.0.1, with an access token in its URL.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="The port to serve on (default: a free one).")
@click.option("--open/--no-open", "open_browser", default=True, help="Open the board in the browser (default: open).")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the board as one self-contained HTML file ('-' for standard output).",
)
def board(*, serve: bool, port: int, open_browser: bool, html_file: Path | None) -> int:
    """The human coordinator's page: tasks and their dependencies, consultations, decisions, escalations, health.

    --serve keeps it current as the coordination branch moves, and lets the human coordinator
    decide escalations and cancel or release tasks; --html FILE writes a static snapshot.
    """
    ctx = click.get_current_context()
    if not serve and html_file is None:
        raise click.UsageError("say what to do: --serve, or --html FILE (or both)")
    defaults = (click.core.ParameterSource.DEFAULT, None)
    if not serve and any(ctx.get_parameter_source(p) not in defaults for p in ("port", "open_browser")):
        raise click.UsageError("--port and --open/--no-open go with --serve")
    from gitcoord.commands.board import board as run

    out = output(False)
    return run(cwd=cwd(), html_file=html_file, serve=serve, port=port, open_browser=open_browser, out=out)


@cli.command()
@click.argument("file", metavar="FILE")
@click.option("--at", metavar="REV", help="As this commit has it (default: the coordination branch's tip).")
@reading_options
def show(*, file: str, at: str | None, as_instance: str | None, as_json: bool) -> int:
    """Print a store file as the coordination branch has it, without a checkout (e.g. task-queue.json)."""
    from gitcoord.commands import branch

    return branch.show(**where(as_instance, as_json), file=file, at=at)


@cli.command()
@click.option("--done", is_flag=True, help="Close the worktree `coord edit` opened.")
@reading_options
def edit(*, done: bool, as_instance: str | None, as_json: bool) -> int:
    """Open the coordination branch in a worktree of its own, to edit its files by hand through the hooks."""
    from gitcoord.commands import branch

    return branch.edit(**where(as_instance, as_json), done=done)


@cli.command()
@click.option("--branch", "name", required=True, metavar="NAME", help="The store's own branch, e.g. coord.")
@reading_options
def migrate(*, name: str, as_instance: str | None, as_json: bool) -> int:
    """Move a store kept on the code branch to a branch of its own, its history kept (the human coordinator)."""
    from gitcoord.commands import branch

    return branch.migrate(**where(as_instance, as_json), branch=name)
