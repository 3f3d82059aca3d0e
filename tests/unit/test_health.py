from __future__ import annotations

import copy
import datetime as dt
import json
from collections import ChainMap
from typing import Any

import pytest
from tests.conftest import SEED

from gitcoord import health
from gitcoord import health_report
from gitcoord import history
from gitcoord import ids
from gitcoord import model
from gitcoord import records
from gitcoord import timestamps
from gitcoord.protocol import Context
from gitcoord.protocol import Refused
from gitcoord.protocol import tasks

DAY_AFTER = timestamps.parse("2024-01-16T12:00:00Z")


@pytest.fixture
def seed() -> dict[str, Any]:
    return {f: json.loads((SEED / f).read_text()) for f in model.FILES}


def found(state: dict[str, Any], now: dt.datetime = DAY_AFTER) -> list[tuple[str, str, str]]:
    return [(f.level, f.rule, f.subject) for f in health.concerns(state, now)]


def test_the_seed_as_of_the_next_day_breaks_what_the_specification_says(seed: dict[str, Any]) -> None:
    assert found(seed) == [
        ("error", "decision-overdue", "dec_002"),  # the deadline passed, instance-1 and instance-3 gave no input
        ("error", "overdue", "task_001"),  # due 2024-01-15T18:00Z, still in progress
        ("error", "stale-holder", "task_001"),  # held by instance-2, gone for more than the lease
        ("error", "unanswered", "msg_001"),  # "responded to within 4 hours"
        ("warning", "stale-instance", "instance-1"),  # "check in within 24 hours"
        ("warning", "stale-instance", "instance-2"),
    ]
    assert not health.healthy(health.concerns(seed, DAY_AFTER))


def test_the_seed_on_its_own_day_is_nearly_healthy(seed: dict[str, Any]) -> None:
    now = timestamps.parse("2024-01-15T11:30:00Z")
    assert found(seed, now) == [("warning", "missing-input", "dec_002")]
    assert health.healthy(health.concerns(seed, now))


def test_an_active_instance_that_never_checked_in_is_named_not_a_crash(seed: dict[str, Any]) -> None:
    seed[model.REGISTRY]["instances"]["instance-1"]["last_update"] = None  # by hand: the schema allows it
    [concern] = [c for c in health.concerns(seed, DAY_AFTER) if c.subject == "instance-1"]
    assert concern.message.startswith("instance-1 is active but has never checked in (the rule: every 24h)")


def test_thresholds_come_from_the_settings(seed: dict[str, Any]) -> None:
    seed[model.REGISTRY]["settings"] = {"checkin_hours": 48, "response_hours": 48, "lease_hours": 48}
    assert ("warning", "stale-instance", "instance-1") not in found(seed)
    assert ("error", "stale-holder", "task_001") not in found(seed)
    assert ("error", "unanswered", "msg_001") in found(seed), "the queued due time stands"
    del seed[model.MESSAGES]["response_queue"][0]["expected_response_time"]
    assert ("error", "unanswered", "msg_001") not in found(seed)


def test_task_rules(seed: dict[str, Any]) -> None:
    queue = seed[model.TASKS]
    queue["pending_tasks"][0]["due"] = None
    extra = copy.deepcopy(queue["pending_tasks"][1])
    extra.update(task_id="task_009", dependencies=["task_010"], due="2024-02-01T00:00:00Z")
    cancelled = copy.deepcopy(extra)
    cancelled.update(task_id="task_010", status="cancelled", dependencies=[])
    ready = copy.deepcopy(extra)
    ready.update(task_id="task_011", dependencies=[], created="2024-01-15T00:00:00Z")
    queue["pending_tasks"] += [extra, ready]
    queue["completed_tasks"].append(cancelled)
    queue["active_tasks"][0]["dependencies"] = ["task_404"]
    rules = found(seed)
    assert ("warning", "no-due-date", "task_002") in rules
    assert ("warning", "cancelled-dependency", "task_009") in rules
    assert ("error", "unknown-dependency", "task_001") in rules
    assert ("warning", "ready-untaken", "task_011") in rules
    assert ("error", "invalid", model.TASKS) in rules, "an unknown dependency also breaks the invariants"


def test_decision_rules(seed: dict[str, Any]) -> None:
    seed[model.DECISIONS]["decisions"][0]["affects_instances"] = []
    pending = seed[model.DECISIONS]["pending_decisions"][0]
    pending.update(status="escalated", escalation={"subject": "dec_002", "raised_by": "instance-1", "raised_at": "2024-01-15T12:00:00Z",
                                                   "reason": "stuck", "escalated_to": "human", "positions": []})  # fmt: skip
    rules = found(seed)
    assert ("warning", "no-affected-instances", "dec_001") in rules
    assert ("error", "escalation-open", "dec_002") in rules
    assert ("error", "decision-overdue", "dec_002") not in rules, "an escalated decision waits for the human"


def test_merge_conflicts_are_errors(seed: dict[str, Any]) -> None:
    seed[model.MESSAGES]["merge_conflicts"] = [
        {"record": "msg_001", "field": "message", "values": ["a", "b"], "reason": "r"}
    ]
    assert ("error", "merge-conflict", model.MESSAGES) in found(seed)


def test_markdown_escapes_what_instances_wrote(seed: dict[str, Any]) -> None:
    seed[model.TASKS]["active_tasks"][0]["title"] = 'Evil | <img src=x> @octocat "]; click t0 call alert(1)'
    text = health_report.markdown(seed, health.concerns(seed, DAY_AFTER), now="2024-01-16T12:00:00Z", commit="abc")
    assert "<img" not in text
    assert "@octocat" not in text
    assert "\\| &lt;img src=x&gt; &#64;octocat" in text
    graph = text[text.index("```mermaid") :]
    assert '"];' not in graph.split("\n")[2]
    assert "#64;octocat #34;#93;; click..." in graph, "what would end the label and add a click is inert"
    assert "in_progress · instance-2" in graph


def test_the_graph_stays_small_for_big_queues(seed: dict[str, Any]) -> None:
    template = seed[model.TASKS]["pending_tasks"][0]
    seed[model.TASKS]["pending_tasks"] = [dict(template, task_id=f"task_{n:04d}", dependencies=[]) for n in range(60)]
    seed[model.TASKS]["completed_tasks"] = [
        dict(template, task_id=f"task_9{n:03d}", status="completed", assigned_to="instance-1", dependencies=[])
        for n in range(30)
    ]
    lines = health_report.mermaid(seed)
    assert sum(1 for line in lines if line.startswith("  t")) == health_report.GRAPH_LIMIT
    assert lines[-1] == "_51 of 91 tasks not shown (closed ones first)_"


def _ctx(actor: str) -> Context:
    return Context(actor, DAY_AFTER, ids.maker(DAY_AFTER))


def test_reclaim_returns_stale_work_and_tells_the_holder(seed: dict[str, Any]) -> None:
    change = tasks.reclaim(seed, _ctx("instance-5"))
    new = dict(ChainMap(change.docs, seed))
    task = records.get(new, "task", "task_001")
    assert task is not None
    assert (task["status"], task["assigned_to"]) == ("pending_assignment", None)
    assert (
        task["status_reason"]
        == "reclaimed by instance-5: instance-2 has not checked in since 2024-01-15T11:15:00Z (lease 24h)"
    )
    notice = new[model.MESSAGES]["messages"][-1]
    assert (notice["to"], notice["subject"]) == ("instance-2", "task_001 was reclaimed")
    assert history.check(seed, new, "instance-5", when=DAY_AFTER) == [], "anyone may reclaim from a stale holder"
    with pytest.raises(Refused, match="nothing to reclaim"):
        tasks.reclaim(seed, Context("instance-5", timestamps.parse("2024-01-15T12:00:00Z"), ids.maker(DAY_AFTER)))


def test_a_reclaim_is_judged_by_when_it_happened_not_by_what_it_says(seed: dict[str, Any]) -> None:
    change = tasks.reclaim(seed, _ctx("instance-5"))
    new = dict(ChainMap(change.docs, seed))
    early = timestamps.parse("2024-01-15T12:00:00Z")
    assert sorted(f.rule for f in history.check(seed, new, "instance-5", when=early)) == [
        "authorization",
        "time",
        "time",
    ]  # its stamps, and its notice's id
    # Dating the commit late does not help when the checker's clock says it is not that late yet.
    # (Nor do the times it writes: they lie ahead of that clock.)
    late = history.check(seed, new, "instance-5", when=DAY_AFTER, now=early)
    assert sorted(f.rule for f in late) == ["authorization", "time"]
