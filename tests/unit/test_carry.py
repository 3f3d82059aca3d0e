"""A step carried over a move happens again now: the times it wrote are set to the moment it is made again."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import ChainMap
from typing import Any

from tests.conftest import SEED

from gitcoord import carry
from gitcoord import ids
from gitcoord import model
from gitcoord import records
from gitcoord.protocol import Context
from gitcoord.protocol import messages
from gitcoord.protocol import tasks

THEN = dt.datetime(2024, 1, 15, 9, 0, tzinfo=dt.timezone.utc)
NOW = "2024-01-15T12:00:00Z"


def _ctx(actor: str) -> Context:
    counter = itertools.count(1)
    return Context(actor, THEN, ids.maker(THEN, lambda bits: next(counter)))


def test_the_times_a_step_wrote_are_made_now_and_nothing_else_changes() -> None:
    before: dict[str, Any] = {f: json.loads((SEED / f).read_text()) for f in model.FILES}
    added = tasks.add(before, _ctx("instance-1"), "made offline")
    after = dict(ChainMap(added.docs, before))
    sent = messages.send(after, _ctx("instance-1"), to="instance-2", subject="s", body="b", requires_response=False)
    after = dict(ChainMap(sent.docs, after))
    assert added.record is not None
    assert sent.record is not None
    task_id, message_id = added.record["task_id"], sent.record["message_id"]

    now = carry.restamped(before, after, NOW, [model.TASKS, model.MESSAGES, model.REGISTRY])

    assert set(now) == {model.TASKS, model.MESSAGES}, "the registry holds no time the steps wrote"
    task = records.by_id(now[model.TASKS], model.BY_KIND["task"])[task_id]
    assert (task["created"], task["updated"]) == (NOW, NOW)
    message = records.by_id(now[model.MESSAGES], model.BY_KIND["message"])[message_id]
    assert message["timestamp"] == NOW
    untouched = records.by_id(before[model.TASKS], model.BY_KIND["task"])
    assert {
        t: r for t, r in records.by_id(now[model.TASKS], model.BY_KIND["task"]).items() if t != task_id
    } == untouched
    assert records.by_id(after[model.TASKS], model.BY_KIND["task"])[task_id]["created"] != NOW, "a copy is changed"
