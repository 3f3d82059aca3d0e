"""`coord decision ...` and `coord escalate`: Protocol 4, and disagreements for the human coordinator."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gitcoord import details
from gitcoord import model
from gitcoord import records
from gitcoord import render
from gitcoord import validation
from gitcoord import views
from gitcoord.commands import step
from gitcoord.commands.lookup import open_fresh
from gitcoord.commands.lookup import require
from gitcoord.commands.lookup import stamp
from gitcoord.model import Record
from gitcoord.output import Output
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import decisions
from gitcoord.records import State

if TYPE_CHECKING:
    from typing_extensions import Unpack


def propose(
    *,
    title: str,
    options: Sequence[Record],
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


def list_decisions(*, cwd: Path, as_instance: str | None, out: Output, which: str) -> int:
    _, state, _ = open_fresh(cwd, as_instance, out, model.DECISIONS)
    with validation.reading(state):
        doc = state[model.DECISIONS]
        chosen = {
            "pending": doc["pending_decisions"],
            "decided": doc["decisions"],
            "all": [*doc["pending_decisions"], *doc["decisions"]],
        }[which]
        summaries = [views.decision_summary(d) for d in chosen]
        out.emit(summaries, render.decisions(summaries) or ["(no decisions)"])
        return 0


def show(*, cwd: Path, as_instance: str | None, out: Output, decision_id: str) -> int:
    _, state, _ = open_fresh(cwd, as_instance, out, model.DECISIONS)
    with validation.reading(state):
        d = require(state, "decision", decision_id)
        data = {**d, **views.decision_derived(d)}
        out.emit(data, details.decision(data))
        return 0
