"""Plausible protocol steps, chosen at random from what a state allows.

The same operation can run in-process (the pure protocol) or as a `coord` command line,
so that the merge properties and the multi-clone stress tests exercise the same traffic.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import NamedTuple

from gitcoord import model
from gitcoord import views
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import decisions
from gitcoord.protocol import instances
from gitcoord.protocol import messages
from gitcoord.protocol import tasks
from gitcoord.records import State


class Op(NamedTuple):
    actor: str
    name: str
    args: tuple[str, ...]

    def cli(self) -> list[str]:
        return ["--as", self.actor, *_CLI[self.name](*self.args)]

    def apply(self, state: State, ctx: Context) -> Change:
        return _APPLY[self.name](state, ctx._replace(actor=self.actor), *self.args)


_CLI: dict[str, Callable[..., list[str]]] = {
    "checkin": lambda: ["checkin"],
    "add": lambda title, dep: ["task", "add", title, *(["--depends", dep] if dep else [])],
    "claim": lambda t: ["task", "claim", t],
    "start": lambda t: ["task", "start", t],
    "complete": lambda t: ["task", "complete", t],
    "block": lambda t: ["task", "block", t, "--reason", "waiting"],
    "release": lambda t: ["task", "release", t, "--reason", "busy"],
    "assign": lambda t, who: ["task", "assign", t, who],
    "accept": lambda t: ["task", "accept", t],
    "decline": lambda t: ["task", "decline", t, "--reason", "no time"],
    "send": lambda to, ask: [
        "msg",
        "send",
        "--to",
        to,
        "--subject",
        "question",
        "--body",
        "what do you think?",
        *(["--requires-response"] if ask == "yes" else []),
    ],
    "reply": lambda m: ["msg", "reply", m, "--body", "here is my answer"],
    "ack": lambda m: ["msg", "ack", m],
    "input": lambda d, option: ["decision", "input", d, "--option", option],
    "decide": lambda d, option: ["decision", "decide", d, "--option", option, "--rationale", "weighed it", "--force"],
    "escalate": lambda d: ["escalate", d, "--reason", "we disagree"],
    "propose": lambda title, who: ["decision", "propose", title, "--option", "A", "--option", "B", "--input-from", who],
}
_APPLY: dict[str, Callable[..., Change]] = {
    "checkin": instances.checkin,
    "add": lambda s, c, title, dep: tasks.add(s, c, title, depends=[dep] if dep else []),
    "claim": tasks.claim,
    "start": tasks.start,
    "complete": tasks.complete,
    "block": lambda s, c, t: tasks.block(s, c, t, "waiting"),
    "release": lambda s, c, t: tasks.release(s, c, t, "busy"),
    "assign": tasks.assign,
    "accept": tasks.accept,
    "decline": lambda s, c, t: tasks.decline(s, c, t, "no time"),
    "send": lambda s, c, to, ask: messages.send(
        s, c, to=to, subject="question", body="what do you think?", requires_response=ask == "yes"
    ),
    "reply": lambda s, c, m: messages.reply(s, c, m, "here is my answer"),
    "ack": messages.ack,
    "input": decisions.give_input,
    "decide": lambda s, c, d, option: decisions.decide(s, c, d, option=option, rationale="weighed it", force=True),
    "escalate": lambda s, c, d: decisions.escalate(s, c, d, reason="we disagree"),
    "propose": lambda s, c, title, who: decisions.propose(
        s,
        c,
        title,
        options=[{"option": "A", "pros": [], "cons": []}, {"option": "B", "pros": [], "cons": []}],
        input_from=[who],
    ),
}


def choose(state: State, rng: random.Random, actors: list[str] | None = None) -> Op:
    """A step some instance could plausibly take next (the protocol may still refuse it)."""
    names = actors or sorted(state[model.REGISTRY]["instances"])
    me = rng.choice(names)
    all_tasks = views.tasks(state)
    mine = [t["task_id"] for t in all_tasks if t["assigned_to"] == me]
    options: list[Op] = [Op(me, "checkin", ())]
    if ready := views.ready(state):
        options.append(Op(me, "claim", (rng.choice(ready)["task_id"],)))
        options.append(Op(me, "assign", (rng.choice(ready)["task_id"], rng.choice(names))))
    if mine:
        task = rng.choice(mine)
        options += [Op(me, step, (task,)) for step in ("start", "complete", "block", "release", "accept", "decline")]
    dep = rng.choice([None, *(t["task_id"] for t in all_tasks)])
    options.append(Op(me, "add", (f"task {rng.randrange(10**6)}", dep or "")))
    options.append(Op(me, "send", (rng.choice([n for n in names if n != me] or names), rng.choice(["yes", "no"]))))
    log = views.messages(state)
    if asked := [m["message_id"] for m in log if m["to"] == me and m["status"] == "pending_response"]:
        options.append(Op(me, "reply", (rng.choice(asked),)))
    if mine_open := [
        m["message_id"] for m in log if m["from"] == me and m["status"] in ("pending_response", "responded")
    ]:
        options.append(Op(me, "ack", (rng.choice(mine_open),)))
    pending = state[model.DECISIONS]["pending_decisions"]
    if pending:
        d = rng.choice(pending)
        option = rng.choice([o["option"] for o in d["options"]])
        options += [Op(me, "input", (d["decision_id"], option)), Op(me, "escalate", (d["decision_id"],))]
        options.append(
            Op(
                d.get("proposed_by", me) if model.decision_status(d) == "pending" else "human",
                "decide",
                (d["decision_id"], option),
            )
        )
    options.append(Op(me, "propose", (f"choice {rng.randrange(10**6)}", rng.choice(names))))
    return rng.choice(options)
