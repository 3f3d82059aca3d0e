"""The agent's loop: `coord next`, `news`, `wait`, `defer`, and the Claude Code hooks (`coord hook ...`)."""

from __future__ import annotations

import click

from gitcoord.cli.base import as_option
from gitcoord.cli.base import cli
from gitcoord.cli.base import cwd
from gitcoord.cli.base import identity
from gitcoord.cli.base import reading_options
from gitcoord.cli.base import where
from gitcoord.cli.setup import hook


@cli.command("next")
@click.option("--all", "everything", is_flag=True, help="The whole list, most pressing first.")
@reading_options
def next_command(*, everything: bool, as_instance: str | None, as_json: bool) -> int:
    """The one thing to do now, and the command that does it.

    Most pressing first: offers to me, answers I owe, inputs asked of me, escalations for me
    (the human coordinator), answers and notices to read, my tasks in progress, my tasks that
    can start, my tasks that wait, my decisions whose inputs are all in, ready work that fits me.
    """
    from gitcoord.commands import agent

    return agent.next_step(**where(as_instance, as_json), everything=everything)


@cli.command()
@click.option("--peek", is_flag=True, help="Show the news without marking it seen.")
@click.option("--full", is_flag=True, help="Show whole messages, not their first line.")
@reading_options
def news(*, peek: bool, full: bool, as_instance: str | None, as_json: bool) -> int:
    """What changed for me since I last looked (in this clone): answers, offers, inputs, tasks now ready...

    Also claims I lost, decisions that affect me, rulings on escalations that concern me,
    messages to me or to all, and instances that registered. Each look moves this clone's
    cursor for me on (kept in .git/coord/), unless --peek.
    """
    from gitcoord.commands import agent

    return agent.news(**where(as_instance, as_json), peek=peek, full=full)


@cli.command()
@click.option("--reply", "reply", metavar="MSG", help="Until MSG has an answer.")
@click.option("--input", "input_on", metavar="DEC", help="Until DEC gets an input, or is decided.")
@click.option(
    "--ready",
    is_flag=True,
    help="Until a task can start (its dependencies completed): mine, or an unassigned one that fits me.",
)
@click.option("--offer", is_flag=True, help="Until a task is offered to me.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=600,
    show_default=True,
    metavar="SECONDS",
    help="Give up after this long (exit 4).",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=3,
    show_default=True,
    metavar="SECONDS",
    help="Look this often at first; less often while nothing moves.",
)
@reading_options
def wait(
    *,
    reply: str | None,
    input_on: str | None,
    ready: bool,
    offer: bool,
    timeout: float,
    interval: float,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Block until something happens for me (or what the options name), then say what it was.

    Exit 0 when it happened, 4 when --timeout passed first. It asks the remote for the
    branch's tip (`git ls-remote`) and fetches only when it moved; it never commits.
    """
    from gitcoord.commands import agent
    from gitcoord.waits import Wanted

    wanted = Wanted(reply=reply, input_on=input_on, ready=ready, offer=offer)
    return agent.wait(**where(as_instance, as_json), wanted=wanted, timeout=timeout, interval=interval)


@cli.command()
@click.argument("item", metavar="ID")
@click.option("--reason", required=True, help="Why it cannot be done now; kept in this clone.")
@click.option("--hours", type=float, default=2.0, show_default=True, help="For how long.")
@reading_options
def defer(*, item: str, reason: str, hours: float, as_instance: str | None, as_json: bool) -> int:
    """Put off ID (an offer, a question, an input asked of me) for a while, and say why.

    The Stop hook then lets the agent end its turn; `coord next` lists ID last. Kept in this
    clone only (.git/coord/), never shared.
    """
    from gitcoord.commands import agent

    return agent.defer(**where(as_instance, as_json), item=item, reason=reason, hours=hours)


@cli.command("mcp")
def mcp_command() -> int:
    """Serve the protocols to an MCP client (Claude Code, ...) over standard input and output.

    Each tool is the coord command of the same name (`task_claim` is `coord task claim`), run
    as this clone's instance (`git config coord.instance`), answering with the command's JSON;
    a refusal is a tool error with the rule's reason. The resource coord://briefing is the
    briefing, read without checking in. `coord init --agents` registers it in .mcp.json.
    """
    from gitcoord.commands import mcp_server

    return mcp_server.serve(cwd=cwd(), as_instance=identity(None))


def _agent_hook(name: str, summary: str) -> None:
    @hook.command(name, help=summary)
    @as_option
    def command(*, as_instance: str | None) -> int:
        import sys

        from gitcoord.commands import agent_hooks

        try:
            text = "" if sys.stdin.isatty() else sys.stdin.read()  # the event, as JSON
        except (OSError, ValueError):  # no standard input at all
            text = ""
        return agent_hooks.run(name, **where(as_instance, False), stdin=text)  # text for Claude Code, never --json


_agent_hook("session-start", "Claude Code's SessionStart: check in, and print the briefing (always exits 0).")
_agent_hook("prompt-submit", "Claude Code's UserPromptSubmit: news since the last look, as context; a heartbeat.")
_agent_hook("post-tool-use", "Claude Code's PostToolUse: news, at most once a minute, as context.")
_agent_hook("stop", "Claude Code's Stop: hold the turn while answers, offers or inputs are owed.")
