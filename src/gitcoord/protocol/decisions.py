"""Protocol 4, decisions, and the conflict-resolution rule: propose, give input, decide, escalate.

A proposal names its options and whose input it needs; each instance gives only its own
input; the proposer (or, once escalated, the human coordinator) decides, and the decision
moves to `decisions` with the inputs kept. An escalation records the disagreement and each
side's position in the decision log, where the human coordinator resolves it.
"""

from __future__ import annotations

from collections.abc import Sequence

from gitcoord import model
from gitcoord import shapes
from gitcoord.events import Event
from gitcoord.model import Record
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import Edit
from gitcoord.protocol import Refused
from gitcoord.protocol import instance
from gitcoord.protocol import known_instance
from gitcoord.protocol import settings
from gitcoord.protocol.messages import notify
from gitcoord.protocol.messages import thread
from gitcoord.records import State
from gitcoord.views import missing_inputs


def propose(
    state: State,
    ctx: Context,
    title: str,
    *,
    options: Sequence[shapes.Option],
    input_from: Sequence[str] = (),
    deadline: str | None = None,
    description: str = "",
    tasks: Sequence[str] = (),
) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    names = [o["option"] for o in options]
    if len(names) < 2:
        raise Refused("a decision needs at least two options to choose between")
    if len(set(names)) != len(names):
        raise Refused("each option needs its own name")
    for name in input_from:
        known_instance(edit, name)
    for task in tasks:
        edit.require("task", task)
    decision: shapes.Decision = {
        "decision_id": ctx.new_id("dec", edit.ids("decision")),
        "title": title,
        "description": description,
        "options": [o.copy() for o in options],
        "input_needed_from": list(dict.fromkeys(input_from)),
        "deadline": deadline,
        "status": "pending",
        "related_tasks": list(dict.fromkeys(tasks)),
        "proposed_by": me,
        "proposed_at": ctx.stamp,
        "inputs": [],
    }
    edit.put("decision", decision)
    rid = decision["decision_id"]
    return edit.done(Event("decision.propose", me, rid, f"{me} proposes {rid}: {title}"), decision)


def _pending(edit: Edit, decision_id: str) -> Record:
    decision = edit.require("decision", decision_id)
    if model.decision_status(decision) not in ("pending", "escalated"):
        raise Refused(f"{decision_id} was decided on {decision.get('date')}: {decision.get('decision')}")
    return decision


def give_input(state: State, ctx: Context, decision_id: str, option: str, comment: str = "") -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    decision = _pending(edit, decision_id)
    names = [o["option"] for o in decision.get("options", ())]
    if option not in names:
        raise Refused(f"{option!r} is not an option of {decision_id}; choose one of: {', '.join(names)}")
    given: Record = {"from": me, "option": option, "comment": comment, "at": ctx.stamp}
    inputs = [i for i in decision.get("inputs", ()) if i["from"] != me] + [given]
    edit.put("decision", {**decision, "inputs": inputs})
    still = missing_inputs({**decision, "inputs": inputs})
    notes = [f"still waiting for {', '.join(still)}"] if still else ["every input needed is in"]
    return edit.done(
        Event("decision.input", me, decision_id, f"{me} gives input on {decision_id}: {option}"), given, *notes
    )


def decide(
    state: State,
    ctx: Context,
    decision_id: str,
    *,
    option: str,
    rationale: str,
    affects: Sequence[str] = (),
    force: bool = False,
) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    decision = _pending(edit, decision_id)
    human = settings(edit.state).human_coordinator
    escalated = model.decision_status(decision) == "escalated"
    hint = (
        f"; e.g. `coord --as {human} decision decide ...`"
        if escalated
        else "; give your view with `coord decision input`"
        + ("" if decision.get("proposed_by") else f", or ask the human to name who decides it ({human})")
    )
    edit.authorize(
        "decision", decision, {**decision, "status": "active", "decided_by": [me], "date": ctx.stamp}, hint=hint
    )
    names = [o["option"] for o in decision.get("options", ())]
    if option not in names and not escalated:
        raise Refused(f"{option!r} is not an option of {decision_id}; choose one of: {', '.join(names)}")
    missing = missing_inputs(decision)
    if missing and not (force or escalated):
        raise Refused(
            f"{decision_id} still needs input from {', '.join(missing)}; wait for it, or decide anyway with --force"
        )
    for name in affects:
        known_instance(edit, name, broadcast=True)
    affected = list(dict.fromkeys(affects)) or _involved(decision)
    made = {
        **decision,
        "decision": option,
        "rationale": rationale,
        "decided_by": [me],
        "date": ctx.stamp,
        "status": "active",
        "affects_instances": affected,
    }
    edit.put("decision", made)
    notes = [f"decided without input from {', '.join(missing)}"] if missing else []
    return edit.done(Event("decision.decide", me, decision_id, f"{me} decides {decision_id}: {option}"), made, *notes)


def name_decider(state: State, ctx: Context, decision_id: str, decider: str) -> Change:
    """The human coordinator names who makes the call on a decision that names nobody to decide it.

    The specification's own pending decisions carry no proposer; without this only the
    human could decide them.
    """
    edit = Edit(state, ctx)
    me = ctx.me()
    decision = _pending(edit, decision_id)
    if decision.get("proposed_by"):
        raise Refused(f"{decision_id} is decided by {decision['proposed_by']}, who proposed it")
    instance(edit, decider)
    named = {**decision, "proposed_by": decider}
    edit.authorize("decision", decision, named, hint=" (only the human coordinator names who decides)")
    edit.put("decision", named)
    summary = f"{me} names {decider} to decide {decision_id}"
    return edit.done(Event("decision.assign", me, decision_id, summary), named)


def note(state: State, ctx: Context, decision_id: str, text: str) -> Change:
    """Add to a decision's record, made or not, without changing what was said: an append-only note.

    Who may (its proposer, whoever decided it, the human coordinator) is the rulebook's to say.
    """
    edit = Edit(state, ctx)
    me = ctx.me()
    decision = edit.require("decision", decision_id)
    noted = {**decision, "notes": [*decision.get("notes", []), {"from": me, "at": ctx.stamp, "text": text}]}
    edit.put("decision", noted)
    return edit.done(Event("decision.note", me, decision_id, f"{me} adds a note to {decision_id}: {text}"), noted)


def _involved(decision: Record) -> list[str]:
    names = [
        decision.get("proposed_by"),
        *decision.get("input_needed_from", ()),
        *(i["from"] for i in decision.get("inputs", ())),
    ]
    return list(dict.fromkeys(n for n in names if n))


def escalate(
    state: State, ctx: Context, subject: str, *, reason: str, positions: Sequence[tuple[str, str]] = ()
) -> Change:
    """Hand a disagreement over a decision, a task or a thread to the human coordinator."""
    edit = Edit(state, ctx)
    me = ctx.me()
    human = settings(edit.state).human_coordinator
    kind = {"dec": "decision", "task": "task", "msg": "message"}.get(subject.split("_", 1)[0])
    if kind is None:
        raise Refused(f"{subject!r} is not a task, message or decision id (task_..., msg_..., dec_...)")
    record = edit.require(kind, subject)
    sides = _positions(edit, kind, record, me, reason=reason, given=positions)
    escalation: Record = {
        "subject": subject,
        "raised_by": me,
        "raised_at": ctx.stamp,
        "reason": reason,
        "escalated_to": human,
        "positions": [
            {"instance": who, "position": text, **({"by": me} if who != me else {})} for who, text in sides.items()
        ],
    }
    if kind == "decision":
        _pending(edit, subject)
        if model.decision_status(record) == "escalated":
            raise Refused(f"{subject} is already escalated to {record['escalation']['escalated_to']}")
        decision = {**record, "status": "escalated", "escalation": escalation}
    else:
        decision = {
            "decision_id": ctx.new_id("dec", edit.ids("decision")),
            "title": _title(kind, record),
            "description": reason,
            "options": [{"option": who, "pros": [_short(text)], "cons": []} for who, text in sides.items()],
            "input_needed_from": [human],
            "deadline": None,
            "status": "escalated",
            "related_tasks": [subject] if kind == "task" else _related(record),
            "proposed_by": me,
            "proposed_at": ctx.stamp,
            "inputs": [],
            "escalation": escalation,
        }
    edit.put("decision", decision)
    rid = decision["decision_id"]
    resolve = f"Resolve it with `coord --as {human} decision decide {rid} --option ... --rationale ...`."
    said = reason.rstrip()
    stop = "" if said.endswith((".", "!", "?")) else "."  # the notice is often read on one line
    body = f"{me} escalates {subject}: {said}{stop}\n{resolve}"
    notify(
        edit,
        ctx,
        human,
        f"Escalated to you: {decision['title']}",
        body,
        task=subject if kind == "task" else None,
        decision=rid,
    )
    return edit.done(Event("escalate", me, rid, f"{me} escalates {subject} to {human}: {reason}"), decision)


def _positions(
    edit: Edit, kind: str, record: Record, me: str, *, reason: str, given: Sequence[tuple[str, str]]
) -> dict[str, str]:
    """Each side's position: what the escalating instance says, what others said on record, and any given."""
    sides: dict[str, str] = {me: reason}
    if kind == "decision":
        for i in record.get("inputs", ()):
            sides.setdefault(i["from"], f"{i['option']}: {i.get('comment', '')}".rstrip(": "))
    elif kind == "task":
        for d in record.get("declines", ()):
            sides.setdefault(d["instance"], f"declined: {d['reason']}")
        if record["assigned_to"] and record.get("status_reason"):
            sides.setdefault(record["assigned_to"], record["status_reason"])
    else:
        for m in [record, *thread(edit.state[model.MESSAGES], record["message_id"])]:
            sides[m["from"]] = m["message"] if m["from"] != me else sides[me]
    for who, text in given:
        known_instance(edit, who)
        sides[who] = text
    return sides


def _title(kind: str, record: Record) -> str:
    what = record["title"] if kind == "task" else record["subject"]
    return _short(f"Escalation: {what}")


def _related(message: Record) -> list[str]:
    task = message.get("context", {}).get("related_task")
    return [task] if task else []


def _short(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
