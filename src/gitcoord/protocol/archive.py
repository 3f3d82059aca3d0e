"""`coord archive`: closed records older than a cut-off move to coordination/archive/.

The live files stay small, and references stay valid: the validator resolves an id in the
archive when it is not live. A task moves only when no live task depends on it, so the live
dependency graph stays whole; nothing open is ever archived.
"""

from __future__ import annotations

import datetime as dt

from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord import timestamps
from gitcoord.events import Event
from gitcoord.model import Record
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import Edit
from gitcoord.protocol import Refused
from gitcoord.records import State


def choose(state: State, before: dt.datetime) -> dict[str, set[str]]:
    """The ids of the records to archive, by file."""
    tasks = records.by_id(state[model.TASKS], model.TASK_RECORDS)
    old = {
        rid
        for rid, t in tasks.items()
        if t["status"] in rulebook.CLOSED_TASK and timestamps.before(t.get("updated") or t["created"], before)
    }
    while True:  # keep every task a live task still depends on
        needed = {d for rid, t in tasks.items() if rid not in old for d in t["dependencies"]}
        if not needed & old:
            break
        old -= needed
    messages = {
        m["message_id"]
        for m in state[model.MESSAGES]["messages"]
        if m["status"] in ("closed", "acknowledged") and timestamps.before(m["timestamp"], before)
    }
    decisions = {
        d["decision_id"] for d in state[model.DECISIONS]["decisions"] if timestamps.before(d.get("date"), before)
    }
    return {model.TASKS: old, model.MESSAGES: messages, model.DECISIONS: decisions}


def archive(state: State, ctx: Context, *, before: dt.datetime) -> Change:
    edit = Edit(state, ctx)
    me = ctx.me()
    chosen = choose(state, before)
    if not any(chosen.values()):
        raise Refused(f"nothing to archive: no closed record from before {timestamps.format(before)}")
    counts = []
    for file, ids in chosen.items():
        if not ids:
            continue
        coll = model.COLLECTIONS[file]
        moving: list[Record] = [r for rid, _, r in records.iter_records(state[file], coll) if rid in ids]
        edit.docs[file] = records.without(state[file], coll, ids)
        shelf = model.archive_of(file)
        archived = edit.state[shelf]
        for record in moving:
            archived = records.put(archived, coll, record)
        edit.docs[shelf] = archived
        counts.append(f"{len(moving)} {coll.kind}{'s' if len(moving) != 1 else ''}")
    summary = f"{me} archives {', '.join(counts)} closed before {timestamps.format(before)}"
    return edit.done(Event("archive", me, None, summary), {k: sorted(v) for k, v in chosen.items()})
