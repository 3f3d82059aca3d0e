"""`coord msg ...` and `coord inbox`: Protocol 3."""

from __future__ import annotations

import click

from gitcoord import rulebook
from gitcoord.cli.base import cli
from gitcoord.cli.base import reading_options
from gitcoord.cli.base import step_options
from gitcoord.cli.base import step_where
from gitcoord.cli.base import sync_option
from gitcoord.cli.base import text_option
from gitcoord.cli.base import where
from gitcoord.rulebook import Priority

message_argument = click.argument("message_id", metavar="MSG")


@cli.group()
def msg() -> None:
    """Protocol 3: ask another instance, answer in the same thread, close it."""


@msg.command("send")
@click.option("--to", required=True, metavar="INSTANCE", help="Who it is for ('all' for every instance).")
@click.option("--subject", required=True)
@text_option("body", says="The message.", required=True)
@click.option("--requires-response", is_flag=True, help="A consultation: the recipient owes an answer.")
@click.option("--priority", type=click.Choice(rulebook.PRIORITIES), default="medium", show_default=True)
@click.option("--task", "task_id", metavar="TASK", help="The task it is about (one, as the message's context holds).")
@click.option("--decision", "decision_id", metavar="DEC", help="The decision it is about (one).")
@click.option("--file", "files", multiple=True, metavar="PATH", help="A file it is about (repeat for more).")
@step_options
def msg_send(
    *,
    to: str,
    subject: str,
    body: str,
    requires_response: bool,
    priority: Priority,
    task_id: str | None,
    decision_id: str | None,
    files: tuple[str, ...],
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Send a message; prints its id."""
    from gitcoord.commands import messages

    return messages.send(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync),
        to=to,
        subject=subject,
        body=body,
        requires_response=requires_response,
        priority=priority,
        task_id=task_id,
        decision_id=decision_id,
        files=files,
    )


@msg.command("reply")
@message_argument
@text_option("body", says="The answer.", required=True)
@step_options
def msg_reply(
    *,
    message_id: str,
    body: str,
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Answer MSG, sent to me, in its thread; prints the answer's id."""
    from gitcoord.commands import messages

    return messages.reply(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync), message_id=message_id, body=body
    )


@msg.command("ack")
@message_argument
@step_options
def msg_ack(*, message_id: str, no_commit: bool, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """Close the thread I started with MSG (or acknowledge MSG, sent to me)."""
    from gitcoord.commands import messages

    return messages.ack(**step_where(as_instance, as_json, no_commit=no_commit, sync=sync), message_id=message_id)


@msg.command("list")
@click.option("--all", "everyone", is_flag=True, help="Every message, not only those from me, to me or to all.")
@click.option("--open", "open_only", is_flag=True, help="Only those still open: an answer owed, or not yet read.")
@reading_options
def msg_list(*, everyone: bool, open_only: bool, as_instance: str | None, as_json: bool) -> int:
    """List messages from me, to me or to all (--all: every one), oldest first."""
    from gitcoord.commands import reads

    return reads.messages(**where(as_instance, as_json), everyone=everyone, open_only=open_only)


@msg.command("show")
@message_argument
@click.option("--ack", is_flag=True, help="And mark it read, as `coord msg ack MSG` does (one commit).")
@sync_option
@reading_options
def msg_show(*, message_id: str, ack: bool, sync: bool | None, as_instance: str | None, as_json: bool) -> int:
    """MSG and every answer in its thread. Reading commits nothing, unless --ack."""
    from gitcoord.commands import messages

    return messages.show(**where(as_instance, as_json), message_id=message_id, ack=ack, sync=sync)


@cli.command()
@click.option("--all", "everything", is_flag=True, help="Include broadcasts from before my last check-in.")
@click.option("--full", is_flag=True, help="Show whole messages, not their first line.")
@reading_options
def inbox(*, everything: bool, full: bool, as_instance: str | None, as_json: bool) -> int:
    """What waits for me: offers, answers I owe, answers to my questions, notices, decisions needing my input.

    A notification to me stays here until I acknowledge it (`coord msg ack MSG`).
    """
    from gitcoord.commands import reads

    return reads.inbox(**where(as_instance, as_json), everything=everything, full=full)
