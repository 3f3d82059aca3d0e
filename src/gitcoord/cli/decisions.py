"""`coord decision ...` and `coord escalate`: Protocol 4 and conflict resolution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gitcoord.cli.base import TITLE
from gitcoord.cli.base import cli
from gitcoord.cli.base import read_text
from gitcoord.cli.base import reading_options
from gitcoord.cli.base import step_options
from gitcoord.cli.base import step_where
from gitcoord.cli.base import text_option
from gitcoord.cli.base import where

decision_argument = click.argument("decision_id", metavar="DEC")


@cli.group()
def decision() -> None:
    """Protocol 4: propose with options, gather inputs, decide; escalate to the human."""


@decision.command("propose")
@click.argument("title", type=TITLE)
@click.option("--option", "option_names", multiple=True, metavar="NAME", help="An option to choose between (repeat).")
@click.option(
    "--options-file",
    metavar="FILE",
    help='Options as JSON: [{"option": NAME, "pros": [...], "cons": [...]}] (- for stdin).',
)
@click.option("--input-from", multiple=True, metavar="INSTANCE", help="Whose input is needed (repeat).")
@click.option("--deadline", metavar="WHEN", help="When the inputs are due: +1d, 2024-01-16T18:00 (local) or ...Z.")
@text_option("description", says="What is to be decided.", default="")
@click.option("--task", "task_ids", multiple=True, metavar="TASK", help="A related task (repeat).")
@step_options
def decision_propose(
    *,
    title: str,
    option_names: tuple[str, ...],
    options_file: str | None,
    input_from: tuple[str, ...],
    deadline: str | None,
    description: str,
    task_ids: tuple[str, ...],
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Propose a decision; prints its id."""
    from gitcoord.commands import decisions

    options: list[Any] = [{"option": n, "pros": [], "cons": []} for n in option_names]
    if options_file is not None:
        options += _options_from(options_file)
    return decisions.propose(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync),
        title=title,
        options=options,
        input_from=input_from,
        deadline=deadline,
        description=description,
        task_ids=task_ids,
    )


def _options_from(path: str) -> list[Any]:
    try:
        loaded = json.loads(read_text(path, option="--options-file"))
    except json.JSONDecodeError as e:
        raise click.BadParameter(f"not JSON: {e}", param_hint="--options-file") from None
    if not isinstance(loaded, list) or not all(
        isinstance(o, dict) and isinstance(o.get("option"), str) for o in loaded
    ):
        raise click.BadParameter(
            'expected a list like [{"option": "REST", "pros": [], "cons": []}]', param_hint="--options-file"
        )
    return loaded


@decision.command("input")
@decision_argument
@click.option("--option", required=True, metavar="NAME", help="The option I favour.")
@text_option("comment", says="Why.", default="")
@step_options
def decision_input(
    *,
    decision_id: str,
    option: str,
    comment: str,
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Give my input on DEC (again to change it)."""
    from gitcoord.commands import decisions

    return decisions.give_input(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync),
        decision_id=decision_id,
        option=option,
        comment=comment,
    )


@decision.command("decide")
@decision_argument
@click.option("--option", required=True, metavar="NAME", help="The option chosen.")
@text_option("rationale", says="Why.", required=True)
@click.option(
    "--affects",
    multiple=True,
    metavar="INSTANCE",
    help="Who it affects ('all' for everyone); default: everyone involved.",
)
@click.option("--force", is_flag=True, help="Decide even though some inputs are missing.")
@step_options
def decision_decide(
    *,
    decision_id: str,
    option: str,
    rationale: str,
    affects: tuple[str, ...],
    force: bool,
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Make the final call on DEC (its proposer; once escalated, the human coordinator)."""
    from gitcoord.commands import decisions

    return decisions.decide(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync),
        decision_id=decision_id,
        option=option,
        rationale=rationale,
        affects=affects,
        force=force,
    )


@decision.command("assign")
@decision_argument
@click.argument("decider", metavar="INSTANCE")
@step_options
def decision_assign(
    *, decision_id: str, decider: str, no_commit: bool, sync: bool | None, as_instance: str | None, as_json: bool
) -> int:
    """Name INSTANCE to make the call on DEC, a decision that names nobody to decide it (the human coordinator)."""
    from gitcoord.commands import decisions

    return decisions.assign(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync), decision_id=decision_id, decider=decider
    )


@decision.command("note")
@decision_argument
@text_option("text", says="The note: what changed, what was learnt (the decision itself stays as made).", required=True)
@step_options
def decision_note(
    *, decision_id: str, text: str, no_commit: bool, sync: bool | None, as_instance: str | None, as_json: bool
) -> int:
    """Add a note to DEC's record, made or pending (its proposer, whoever decided it, the human coordinator)."""
    from gitcoord.commands import decisions

    return decisions.note(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync), decision_id=decision_id, text=text
    )


@decision.command("list")
@click.option(
    "--pending", "which", flag_value="pending", default=True, help="Pending and escalated decisions (default)."
)
@click.option("--decided", "which", flag_value="decided", help="Decisions made.")
@click.option("--all", "which", flag_value="all", help="Both.")
@reading_options
def decision_list(*, which: str, as_instance: str | None, as_json: bool) -> int:
    """List decisions."""
    from gitcoord.commands import reads

    return reads.decisions(**where(as_instance, as_json), which=which)


@decision.command("show")
@decision_argument
@reading_options
def decision_show(*, decision_id: str, as_instance: str | None, as_json: bool) -> int:
    """One decision: options, inputs given and missing, escalation, outcome."""
    from gitcoord.commands import reads

    return reads.decision(**where(as_instance, as_json), decision_id=decision_id)


@decision.command("pr")
@click.option("--range", "revisions", required=True, metavar="BASE..HEAD", help="The pull request's base and head.")
@click.option(
    "--output-file",
    type=click.Path(path_type=Path),
    help="Append decided=true|false and changed=N (e.g. $GITHUB_OUTPUT).",
)
@reading_options
def decision_pr(*, revisions: str, output_file: Path | None, as_instance: str | None, as_json: bool) -> int:
    """What a pull request does to the decision log: inputs received and missing, and whether all is decided."""
    from gitcoord.commands import decision_pr

    return decision_pr.decision_pr(**where(as_instance, as_json), revisions=revisions, output_file=output_file)


@cli.command()
@click.argument("subject", metavar="TASK|MSG|DEC")
@text_option("reason", says="The disagreement, in my words.", required=True)
@click.option(
    "--position", "positions", multiple=True, metavar="INSTANCE=TEXT", help="Another side's position (repeat)."
)
@step_options
def escalate(
    *,
    subject: str,
    reason: str,
    positions: tuple[str, ...],
    no_commit: bool,
    sync: bool | None,
    as_instance: str | None,
    as_json: bool,
) -> int:
    """Escalate a disagreement to the human coordinator, recorded in the decision log; prints its id."""
    from gitcoord.commands import decisions

    return decisions.escalate(
        **step_where(as_instance, as_json, no_commit=no_commit, sync=sync),
        subject=subject,
        reason=reason,
        positions=[_position(p) for p in positions],
    )


def _position(given: str) -> tuple[str, str]:
    who, sep, text = given.partition("=")
    if not sep or not who or not text:
        raise click.BadParameter(f"{given!r}: expected INSTANCE=TEXT", param_hint="--position")
    return who, text
