"""`coord decision ...` and `coord escalate`: Protocol 4, and disagreements for the human coordinator."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gitcoord import records
from gitcoord import shapes
from gitcoord.commands import step
from gitcoord.commands.lookup import stamp
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import decisions
from gitcoord.records import State

if TYPE_CHECKING:
    from typing_extensions import Unpack


def propose(
    *,
    title: str,
    options: Sequence[shapes.Option],
    input_from: Sequence[str],
    deadline: str | None,
    description: str,
    task_ids: Sequence[str],
    **step_options: Unpack[step.Options],
) -> int:
    deadline = stamp(deadline, option="--deadline")

    def build(state: State, ctx: Context) -> Change:
        return decisions.propose(
            state,
            ctx,
            title,
            options=options,
            input_from=input_from,
            deadline=deadline,
            description=description,
            tasks=[records.resolve(state, "task", t) for t in task_ids],
        )

    return step.run(build, creates="decision_id", **step_options)


def _on(step_on: Callable[..., Change], decision_id: str, *args: object, **kwargs: object) -> step.Build:
    """The step `step_on` on the decision `decision_id` names (an id, or the start of one)."""
    return lambda s, c: step_on(s, c, records.resolve(s, "decision", decision_id), *args, **kwargs)


def assign(*, decision_id: str, decider: str, **options: Unpack[step.Options]) -> int:
    return step.run(_on(decisions.name_decider, decision_id, decider), **options)


def note(*, decision_id: str, text: str, **options: Unpack[step.Options]) -> int:
    return step.run(_on(decisions.note, decision_id, text), **options)


def give_input(*, decision_id: str, option: str, comment: str, **options: Unpack[step.Options]) -> int:
    return step.run(_on(decisions.give_input, decision_id, option, comment), **options)


def decide(
    *,
    decision_id: str,
    option: str,
    rationale: str,
    affects: Sequence[str],
    force: bool,
    **options: Unpack[step.Options],
) -> int:
    build = _on(decisions.decide, decision_id, option=option, rationale=rationale, affects=affects, force=force)
    return step.run(build, **options)


def escalate(
    *, subject: str, reason: str, positions: Sequence[tuple[str, str]], **options: Unpack[step.Options]
) -> int:
    def build(state: State, ctx: Context) -> Change:
        return decisions.escalate(state, ctx, _subject(state, subject), reason=reason, positions=positions)

    return step.run(build, creates="decision_id", **options)


def _subject(state: State, given: str) -> str:
    """What an escalation is about, by its id or the start of it (its prefix says which kind)."""
    kind = {"dec": "decision", "task": "task", "msg": "message"}.get(given.split("_", 1)[0])
    return records.resolve(state, kind, given) if kind else given
