"""`coord msg ...` and `coord inbox`: Protocol 3, consultation in threads."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from gitcoord import details
from gitcoord import model
from gitcoord import records
from gitcoord import validation
from gitcoord.commands import step
from gitcoord.commands.lookup import open_fresh
from gitcoord.commands.lookup import require
from gitcoord.output import Output
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import messages
from gitcoord.records import State
from gitcoord.rulebook import Priority

if TYPE_CHECKING:
    from typing_extensions import Unpack


def send(
    *,
    to: str,
    subject: str,
    body: str,
    requires_response: bool,
    priority: Priority,
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
            task=task_id and records.resolve(state, "task", task_id),
            decision=decision_id and records.resolve(state, "decision", decision_id),
            files=files,
        )

    return step.run(build, creates="message_id", **options)


def reply(*, message_id: str, body: str, **options: Unpack[step.Options]) -> int:
    return step.run(
        lambda s, c: messages.reply(s, c, records.resolve(s, "message", message_id), body),
        creates="message_id",
        **options,
    )


def ack(*, message_id: str, **options: Unpack[step.Options]) -> int:
    return step.run(lambda s, c: messages.ack(s, c, records.resolve(s, "message", message_id)), **options)


def show(
    *, cwd: Path, as_instance: str | None, out: Output, message_id: str, ack: bool = False, sync: bool | None = None
) -> int:
    """MSG and its thread; with `ack`, first the step `msg ack` (the one commit a read may make)."""
    ws, snap, _ = open_fresh(cwd, as_instance, out, model.MESSAGES)
    state: State = snap
    acked: dict[str, Any] = {}
    if ack:

        def build(s: State, c: Context) -> Change:
            return messages.ack(s, c, records.resolve(s, "message", message_id))

        applied, synced = step.share(ws, build, step.commit_now(build, ws), sync)
        state = applied.state
        acked["ack"] = step.data(applied, synced)
        step.tell(ws, applied, synced, out)
    with validation.reading(snap):
        root = require(state, "message", message_id)
        thread = [root, *messages.thread(state[model.MESSAGES], root["message_id"])]
        out.emit({**root, "thread": thread[1:], **acked}, details.thread(thread))
        unread = [m for m in thread if m["to"] == ws.identity and m["status"] == "sent"]
        if unread and not ack:
            rid = root["message_id"]
            out.note(f"{len(unread)} unread here: `coord msg ack {rid}` (or `msg show {rid} --ack`) marks them read")
        return 0
