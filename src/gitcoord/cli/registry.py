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
@click.option("--key", metavar="KEY|@FILE", help="Its signing key (default, registering myself: this clone's).")
@sync_option
@reading_options
def register(
    *,
    instance: str,
    role: str,
    expertise: tuple[str, ...],
    key: str | None,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Add INSTANCE to the registry (status pending until it checks in), with its signing key."""
    from gitcoord.commands import key as keys

    return keys.register(
        **where(as_instance, as_json), instance=instance, role=role, expertise=list(expertise), key=key, sync=sync
    )


@cli.command()
@reading_options
def whoami(*, as_instance: str | None, as_json: bool) -> int:
    """Which instance this shell acts as, and where that comes from."""
    from gitcoord.commands import reads

    return reads.whoami(**where(as_instance, as_json))


@cli.command()
@click.option(
    "--session",
    metavar="ID",
    help="The session checking in (e.g. Claude Code's session id): check-ins within one session "
    "commit only when due (git config coord.heartbeatMinutes, default 60).",
)
@click.option("--full", is_flag=True, help="Show whole messages, not their first line.")
@sync_option
@reading_options
def checkin(*, session: str | None, full: bool, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Check in (Protocol 1), then print my briefing: tasks, offers, messages, decisions, what to do next.

    It reads the remote first (within `git config coord.fetchTimeout` seconds, default 3) and
    shares the check-in, wherever the clone has a remote (--no-sync, or `git config
    coord.sync false`, keeps it here).
    """
    from gitcoord.commands import registry

    return registry.checkin(**where(as_instance, as_json), sync=sync, session=session, full=full)


@cli.command()
@click.option("--full", is_flag=True, help="Show whole messages, not their first line.")
@reading_options
def briefing(*, full: bool, as_instance: str | None, as_json: bool) -> int:
    """My briefing, as `coord checkin` gives it, without checking in: it commits nothing."""
    from gitcoord.commands import registry

    return registry.briefing(**where(as_instance, as_json), full=full)


@cli.command()
@sync_option
@reading_options
def checkout(*, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Check out: offline and not available; the tasks I hold stay mine (and are listed)."""
    from gitcoord.commands import registry

    return registry.checkout(**where(as_instance, as_json), sync=sync)


# Signing keys --------------------------------------------------------------------------


@cli.group()
def key() -> None:
    """Signing keys: each instance signs its coordination commits; the registry holds the keys."""


@key.command("show")
@reading_options
def key_show(*, as_instance: str | None, as_json: bool) -> int:
    """The key this clone signs with, and the key the registry holds for me."""
    from gitcoord.commands import key as keys

    return keys.show(**where(as_instance, as_json))


@key.command("publish")
@sync_option
@reading_options
def key_publish(*, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Put this clone's public key in my registry entry (the human coordinator's: the human key)."""
    from gitcoord.commands import key as keys

    return keys.publish(**where(as_instance, as_json), sync=sync)


@key.command("set")
@click.argument("instance")
@click.argument("public_key", metavar="KEY|@FILE")
@sync_option
@reading_options
def key_set(*, instance: str, public_key: str, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Set the signing key of INSTANCE (the human coordinator: anyone's, and the human key; an instance: its own)."""
    from gitcoord.commands import key as keys

    return keys.set_key(**where(as_instance, as_json), instance=instance, key=public_key, sync=sync)


@key.command("rotate")
@sync_option
@reading_options
def key_rotate(*, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Make a new key for me, publish it in a commit signed with the old one, and sign with the new one."""
    from gitcoord.commands import key as keys

    return keys.rotate(**where(as_instance, as_json), sync=sync)


@key.command("require")
@sync_option
@reading_options
def key_require(*, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Require every coordination commit to be signed (the human coordinator; every active instance needs a key)."""
    from gitcoord.commands import key as keys

    return keys.require(**where(as_instance, as_json), sync=sync)
