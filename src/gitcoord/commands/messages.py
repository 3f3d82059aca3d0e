"""`coord msg ...` and `coord inbox`: Protocol 3, consultation in threads."""

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
from gitcoord.output import Output
from gitcoord.output import safe
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import messages
from gitcoord.records import State

if TYPE_CHECKING:
    from typing_extensions import Unpack


def send(
    *,
    to: str,
    subject: str,
    body: str,
    requires_response: bool,
    priority: str,
    task_id: str | None,
    decision_id: str | None,
    files: Sequence[str],
    **options: Unpack[step.Options],
) -> int:
    def build(state: State, ctx: Context) -> Change:
        return messages.send(
            state,
            ctx,
            to=to,
            subject=subject,
            body=body,
            requires_response=requires_response,
            priority=priority,
            task=task_id,
            decision=decision_id,
            files=files,
        )

    return step.run(build, creates="message_id", **options)


def reply(*, message_id: str, body: str, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: messages.reply(s, c, message_id, body), creates="message_id", **options)


def ack(*, message_id: str, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: messages.ack(s, c, message_id), **options)


def show(*, cwd: Path, as_instance: str | None, out: Output, message_id: str) -> int:
    _, state, _ = open_fresh(cwd, as_instance, out, model.MESSAGES)
    with validation.reading(state):
        root = require(state, "message", message_id)
        thread = [root, *messages.thread(state[model.MESSAGES], message_id)]
        lines = []
        for m in thread:
            lines.append(render.message_line(views.message_summary(m)))
            lines += [f"      {safe(line, one_line=True)}" for line in m["message"].splitlines()]
        out.emit(thread, lines)
        return 0


def inbox(*, cwd: Path, as_instance: str | None, out: Output, everything: bool, full: bool = False) -> int:
    ws, state, _ = open_fresh(cwd, as_instance, out)
    with validation.reading(state):
        me = ws.require_identity()
        entry = state[model.REGISTRY]["instances"].get(me, {})
        data = views.inbox(state, me, since=None if everything else entry.get("last_update"))
        out.emit(data, render.sections(data, full=full))
        return 0
