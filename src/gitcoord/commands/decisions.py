"""`coord decision ...` and `coord escalate`: Protocol 4, and disagreements for the human coordinator."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gitcoord import model
from gitcoord import render
from gitcoord import validation
from gitcoord import views
from gitcoord.commands import step
from gitcoord.commands.lookup import open_fresh
from gitcoord.commands.lookup import require
from gitcoord.model import Record
from gitcoord.output import Output
from gitcoord.output import safe
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
    def build(state: State, ctx: Context) -> Change:
        return decisions.propose(
            state,
            ctx,
            title,
            options=options,
            input_from=input_from,
            deadline=deadline,
            description=description,
            tasks=task_ids,
        )

    return step.run(build, creates="decision_id", **step_options)


def assign(*, decision_id: str, decider: str, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: decisions.name_decider(s, c, decision_id, decider), **options)


def give_input(*, decision_id: str, option: str, comment: str, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: decisions.give_input(s, c, decision_id, option, comment), **options)


def decide(
    *,
    decision_id: str,
    option: str,
    rationale: str,
    affects: Sequence[str],
    force: bool,
    **options: Unpack[step.Options],
) -> int:
    def build(state: State, ctx: Context) -> Change:
        return decisions.decide(
            state, ctx, decision_id, option=option, rationale=rationale, affects=affects, force=force
        )

    return step.run(build, **options)


def escalate(
    *, subject: str, reason: str, positions: Sequence[tuple[str, str]], **options: Unpack[step.Options]
) -> int:
    def build(state: State, ctx: Context) -> Change:
        return decisions.escalate(state, ctx, subject, reason=reason, positions=positions)

    return step.run(build, creates="decision_id", **options)


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
        out.emit(summaries, [render.decision_line(d) for d in summaries] or ["(no decisions)"])
        return 0


def show(*, cwd: Path, as_instance: str | None, out: Output, decision_id: str) -> int:
    _, state, _ = open_fresh(cwd, as_instance, out, model.DECISIONS)
    with validation.reading(state):
        d = require(state, "decision", decision_id)
        data = {**d, "inputs_missing": views.missing_inputs(d)}
        out.emit(data, _decision_lines(d, data["inputs_missing"]))
        return 0


def _decision_lines(d: Record, missing: list[str]) -> list[str]:
    lines = [render.decision_line(views.decision_summary(d)), f"  status: {model.decision_status(d)}"]
    if d.get("description"):
        lines.append(f"  {safe(d['description'])}")
    lines += [_option_line(o) for o in d.get("options", ())]
    lines += [
        f"  input from {safe(i['from'])}: {safe(i['option'])}"
        + (f" ({safe(i['comment'])})" if i.get("comment") else "")
        for i in d.get("inputs", ())
    ]
    if missing:
        lines.append(f"  waiting for input from {', '.join(missing)}")
    if d.get("escalation"):
        e = d["escalation"]
        lines.append(f"  escalated by {safe(e['raised_by'])} to {safe(e['escalated_to'])}: {safe(e['reason'])}")
        lines += [f"    {safe(p['instance'])}: {safe(p['position'])}" for p in e["positions"]]
    if d.get("decision"):
        by = ", ".join(map(safe, d["decided_by"]))
        lines.append(f"  decided by {by} on {d['date']}: {safe(d['decision'])} ({safe(d['rationale'])})")
    return lines


def _option_line(o: Record) -> str:
    pros = "; ".join(map(safe, o.get("pros", ())))
    cons = "; ".join(map(safe, o.get("cons", ())))
    return f"  option {safe(o['option'])}" + (f"  + {pros}" if pros else "") + (f"  - {cons}" if cons else "")
