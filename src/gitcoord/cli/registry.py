"""The registry and Protocol 1: `coord register`, `whoami`, `checkin`, `checkout`."""

from __future__ import annotations

import click

from gitcoord.cli.base import cli
from gitcoord.cli.base import reading_options
from gitcoord.cli.base import sync_option
from gitcoord.cli.base import where


@cli.command()
@click.argument("instance")
@click.option("--role", required=True, help="What the instance does, e.g. frontend-ux.")
@click.option("--expertise", multiple=True, metavar="AREA", help="An area of expertise (repeat for more).")
@sync_option
@reading_options
def register(
    *, instance: str, role: str, expertise: tuple[str, ...], sync: bool | None, as_instance: str | None, as_json: bool
) -> int:
    """Add INSTANCE to the registry (status pending until it checks in)."""
    from gitcoord.commands import registry

    return registry.register(
        **where(as_instance, as_json), instance=instance, role=role, expertise=expertise, sync=sync
    )


@cli.command()
@reading_options
def whoami(*, as_instance: str | None, as_json: bool) -> int:
    """Which instance this shell acts as, and where that comes from."""
    from gitcoord.commands import registry

    return registry.whoami(**where(as_instance, as_json))


@cli.command()
@sync_option
@reading_options
def checkin(*, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Check in (Protocol 1), then print my briefing: tasks, messages, decisions, what is ready.

    With --sync (or `git config coord.sync true`) it first fetches what the others did.
    """
    from gitcoord.commands import registry

    return registry.checkin(**where(as_instance, as_json), sync=sync)


@cli.command()
@sync_option
@reading_options
def checkout(*, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Check out: offline and not available; the tasks I hold stay mine (and are listed)."""
    from gitcoord.commands import registry

    return registry.checkout(**where(as_instance, as_json), sync=sync)
