"""The archive policy: closed records leave the live files by day, the same way in every clone."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import ChainMap
from typing import Any

import pytest
from tests.conftest import SEED

from gitcoord import history
from gitcoord import ids
from gitcoord import model
from gitcoord.protocol import Context
from gitcoord.protocol import Refused
from gitcoord.protocol import archive
from gitcoord.protocol import messages

UTC = dt.timezone.utc


def ctx(actor: str, when: dt.datetime) -> Context:
    counter = itertools.count(1)
    return Context(actor, when, ids.maker(when, lambda bits: next(counter)))


@pytest.fixture
def closed() -> dict[str, Any]:
    """The seed with msg_001 answered and closed on 2024-01-15."""
    state: dict[str, Any] = {f: json.loads((SEED / f).read_text()) for f in model.FILES}
    noon = dt.datetime(2024, 1, 15, 12, tzinfo=UTC)
    state = dict(ChainMap(messages.reply(state, ctx("instance-1", noon), "msg_001", "REST").docs, state))
    return dict(ChainMap(messages.ack(state, ctx("instance-2", noon), "msg_001").docs, state))


def test_a_day_moves_once_it_is_long_enough_over(closed: dict[str, Any]) -> None:
    with pytest.raises(Refused, match="nothing to archive"):
        archive.archive(closed, ctx("instance-5", dt.datetime(2024, 1, 17, 23, 59, tzinfo=UTC)))
    when = dt.datetime(2024, 1, 18, 0, 1, tzinfo=UTC)
    change = archive.archive(closed, ctx("instance-5", when))
    shard = "archive/2024/01/15/communication-log.json"
    # dec_001, decided on the 15th, moves too; the tasks stay (task_001 is open).
    assert sorted(change.docs) == sorted([model.MESSAGES, model.DECISIONS, shard, "archive/2024/01/15/decisions.json"])
    assert [m["message_id"] for m in change.docs[shard]["messages"]] == ["msg_001", "msg_3sjfa00001"]
    new = dict(ChainMap(change.docs, closed))
    assert history.check(closed, new, "instance-5", when=when) == []


def test_two_clones_archiving_the_same_day_write_the_same_bytes(closed: dict[str, Any]) -> None:
    early = archive.archive(closed, ctx("instance-5", dt.datetime(2024, 1, 18, 0, 1, tzinfo=UTC)))
    late = archive.archive(closed, ctx("instance-3", dt.datetime(2024, 1, 18, 23, 0, tzinfo=UTC)))
    assert early.docs == late.docs


def test_a_task_stays_live_while_a_live_task_waits_for_it(closed: dict[str, Any]) -> None:
    queue = closed[model.TASKS]
    done = {**queue["active_tasks"][0], "status": "completed", "updated": "2024-01-15T12:00:00Z"}
    state = {**closed, model.TASKS: {**queue, "active_tasks": [], "completed_tasks": [done]}}
    chosen = archive.due(state, dt.datetime(2024, 2, 1, tzinfo=UTC))
    assert chosen[model.TASKS] == set(), "task_002 and task_003 still depend on task_001"


def test_the_history_check_refuses_what_is_not_due_yet(closed: dict[str, Any]) -> None:
    change = archive.archive(closed, ctx("instance-5", dt.datetime(2024, 1, 18, 0, 1, tzinfo=UTC)))
    new = dict(ChainMap(change.docs, closed))
    too_soon = dt.datetime(2024, 1, 16, 12, tzinfo=UTC)
    assert {f.rule for f in history.check(closed, new, "instance-5", when=too_soon)} == {"archive"}
