"""The agent's loop in the pure core: what to do next (agenda), what changed (whatsnew.between), what a wait is for."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import ChainMap
from typing import Any

import pytest
from tests.conftest import SEED

from gitcoord import agenda
from gitcoord import ids
from gitcoord import model
from gitcoord import views
from gitcoord import waits
from gitcoord import whatsnew
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import decisions
from gitcoord.protocol import instances
from gitcoord.protocol import messages
from gitcoord.protocol import tasks

NOW = dt.datetime(2024, 1, 15, 12, 0, tzinfo=dt.timezone.utc)
State = dict[str, Any]


def ctx(actor: str, minutes: int = 0) -> Context:
    counter = itertools.count(1)
    return Context(actor, NOW + dt.timedelta(minutes=minutes), ids.maker(NOW, lambda bits: next(counter)))


@pytest.fixture
def seed() -> State:
    return {f: json.loads((SEED / f).read_text()) for f in model.FILES}


def apply(state: State, change: Change) -> State:
    return dict(ChainMap(change.docs, state))


class Steps:
    """A state moved on by protocol steps, one minute apart."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.minute = 0

    def __call__(self, step: Any, actor: str, *args: Any, **kwargs: Any) -> Any:
        self.minute += 1
        change = step(self.state, ctx(actor, self.minute), *args, **kwargs)
        self.state = apply(self.state, change)
        return change.record


def kinds(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(i["kind"], i["id"]) for i in items]


# agenda ------------------------------------------------------------------------------------


def test_the_agenda_puts_what_others_wait_for_first_and_names_each_command(seed: State) -> None:
    step = Steps(seed)
    step(tasks.complete, "instance-2", "task_001")  # task_002 is now ready
    offered = step(tasks.add, "instance-2", "Schema review")["task_id"]
    step(tasks.assign, "instance-2", offered, "instance-1")
    mine = step(tasks.add, "instance-2", "Write the API", depends=["task_001"])["task_id"]
    step(tasks.claim, "instance-1", mine)  # task_001 is completed by now
    working = step(tasks.add, "instance-2", "Set up the repo")["task_id"]
    step(tasks.claim, "instance-1", working)
    step(tasks.start, "instance-1", working)
    waiting = step(tasks.add, "instance-2", "Load tests", depends=["task_003"])["task_id"]
    step(tasks.assign, "instance-2", waiting, "instance-1")
    step(tasks.accept, "instance-1", waiting)
    asked = step(messages.send, "instance-1", to="instance-3", subject="Q", body="?", requires_response=True)
    answer = step(messages.reply, "instance-3", asked["message_id"], "yes")
    proposal = step(
        decisions.propose,
        "instance-1",
        "Queue",
        options=[{"option": "Kafka"}, {"option": "NATS"}],
        input_from=["instance-5"],
    )
    step(decisions.give_input, "instance-5", proposal["decision_id"], "NATS")
    items = agenda.agenda(step.state, "instance-1")
    assert kinds(items) == [
        ("offer", offered),
        ("answer", "msg_001"),
        ("input", "dec_002"),
        ("read", answer["message_id"]),
        ("continue", working),
        ("start", mine),
        ("waiting", waiting),
        ("decide", proposal["decision_id"]),
        ("claim", "task_002"),
    ]
    commands = {i["kind"]: i["command"] for i in items}
    assert commands["offer"] == f"coord task accept {offered}"
    assert commands["answer"] == "coord msg reply msg_001 --body-file -"
    assert commands["input"] == "coord decision input dec_002 --option 'REST API' --comment 'why'"
    assert commands["read"] == f"coord msg show {answer['message_id']}"
    assert f"coord msg ack {answer['message_id']}" in items[3]["commands"]
    assert commands["continue"] == f"coord task complete {working} --note 'what was done'"
    assert commands["start"] == f"coord task start {mine}"
    assert commands["waiting"] == "coord wait --ready"
    assert "task_003 (pending_assignment)" in items[6]["why"]
    assert commands["decide"].startswith(f"coord decision decide {proposal['decision_id']} --option Kafka")
    assert commands["claim"] == "coord task claim task_002"
    assert agenda.first(items) == items[0]
    assert kinds(agenda.owed(items)) == kinds(items)[:3]


def test_deferred_items_go_last_and_are_owed_no_more(seed: State) -> None:
    items = agenda.agenda(seed, "instance-1", deferred={"msg_001": "waiting for the benchmark"})
    assert kinds(items) == [("input", "dec_002"), ("answer", "msg_001")]
    assert items[-1]["deferred"] == "waiting for the benchmark"
    assert kinds(agenda.owed(items)) == [("input", "dec_002")]
    everything_deferred = agenda.agenda(seed, "instance-1", deferred={"msg_001": "a", "dec_002": "b"})
    assert agenda.first(everything_deferred) == everything_deferred[0], "a deferred item is still the next one"
    assert agenda.owed(everything_deferred) == []
    assert agenda.first([]) is None


def test_the_human_coordinator_sees_escalations_and_a_blocked_task_says_why(seed: State) -> None:
    step = Steps(seed)
    step(decisions.escalate, "instance-1", "dec_002", reason="we disagree")
    step(tasks.block, "instance-2", "task_001", "waiting for the design review")
    human = agenda.agenda(step.state, "human")
    assert kinds(human)[0] == ("escalation", "dec_002")
    assert human[0]["command"] == "coord decision decide dec_002 --option 'REST API' --rationale 'why'"
    assert "instance-1 escalated this to you: we disagree" in human[0]["why"]
    assert agenda.agenda(step.state, "instance-3")[0]["kind"] != "escalation", "only the human decides them"
    blocked = agenda.agenda(step.state, "instance-2")
    assert ("waiting", "task_001") in kinds(blocked)
    item = next(i for i in blocked if i["id"] == "task_001")
    assert item["why"] == "blocked: waiting for the design review"
    assert item["command"] == "coord task start task_001"


def test_answers_owed_say_when_they_are_due(seed: State) -> None:
    step = Steps(seed)
    step(messages.send, "instance-3", to="instance-1", subject="Later", body="?", requires_response=True)
    answers = [i for i in agenda.agenda(step.state, "instance-1") if i["kind"] == "answer"]
    assert answers[0]["why"] == "instance-2 asks you, answer due 2024-01-15T12:00:00Z", "the seed's response_queue"
    assert answers[1]["why"].startswith("instance-3 asks you, answer due 2024-01-15T16:01:00Z")


def test_ready_with_an_instance_means_mine_or_unassigned_with_every_dependency_completed(seed: State) -> None:
    step = Steps(seed)
    mine = step(tasks.add, "instance-2", "Mine, later", depends=["task_001"])["task_id"]
    step(tasks.assign, "instance-2", mine, "instance-1")
    assert mine not in {t["task_id"] for t in views.ready(step.state, "instance-1")}, "offered, not ready yet"
    step(tasks.accept, "instance-1", mine)
    assert mine not in {t["task_id"] for t in views.ready(step.state, "instance-1")}
    step(tasks.complete, "instance-2", "task_001")
    found = {t["task_id"]: t["status"] for t in views.ready(step.state, "instance-1")}
    assert found == {mine: "assigned", "task_002": "pending_assignment"}
    assert mine not in {t["task_id"] for t in views.ready(step.state, "instance-3")}, "not someone else's"
    assert mine not in {t["task_id"] for t in views.ready(step.state)}, "without an instance: unassigned only"


def test_a_task_i_declined_is_not_suggested_to_me_again(seed: State) -> None:
    step = Steps(seed)
    task = step(tasks.add, "instance-2", "Anyone's")["task_id"]
    step(tasks.assign, "instance-2", task, "instance-1")
    step(tasks.decline, "instance-1", task, "not my field")
    assert task not in {t["task_id"] for t in views.ready(step.state, "instance-1")}
    assert task in {t["task_id"] for t in views.ready(step.state, "instance-3")}, "it waits for someone else"
    assert task in {t["task_id"] for t in views.ready(step.state)}


def test_the_human_coordinator_is_not_asked_to_claim_work(seed: State) -> None:
    step = Steps(seed)
    step(tasks.add, "instance-2", "Anyone's")
    assert [i for i in agenda.agenda(step.state, "human") if i["kind"] == "claim"] == []
    assert [i for i in agenda.agenda(step.state, "instance-3") if i["kind"] == "claim"], "an instance is"


# news -------------------------------------------------------------------------------------


def test_news_tells_each_thing_that_concerns_me(seed: State) -> None:
    step = Steps(seed)
    later = step(tasks.add, "instance-2", "After the design", depends=["task_001"])["task_id"]
    step(tasks.assign, "instance-2", later, "instance-1")
    step(tasks.accept, "instance-1", later)
    asked = step(messages.send, "instance-1", to="instance-3", subject="Q", body="?", requires_response=True)
    proposal = step(
        decisions.propose,
        "instance-1",
        "Queue",
        options=[{"option": "Kafka"}, {"option": "NATS"}],
        input_from=["instance-5"],
    )
    before = step.state
    step(messages.reply, "instance-3", asked["message_id"], "yes, do it")
    step(decisions.give_input, "instance-5", proposal["decision_id"], "NATS", comment="simpler")
    step(tasks.complete, "instance-2", "task_001")
    offered = step(tasks.add, "instance-4", "Model review")["task_id"]
    step(tasks.assign, "instance-4", offered, "instance-1")
    step(messages.send, "instance-4", to="all", subject="Standup", body="at ten", requires_response=False)
    step(messages.send, "instance-4", to="instance-1", subject="Data?", body="which set", requires_response=True)
    step(
        decisions.propose,
        "instance-6",
        "Auth",
        options=[{"option": "OIDC"}, {"option": "SAML"}],
        input_from=["instance-1"],
    )
    step(instances.register, "instance-7", "instance-7", role="qa", expertise=["testing"])
    step(decisions.decide, "human", "dec_002", option="REST API", rationale="simple", force=True)
    found = whatsnew.between(before, step.state, "instance-1")
    assert [m["message"] for m in found["replies_to_me"]] == ["yes, do it"]
    assert [(i["from"], i["option"], i["comment"], i["inputs_missing"]) for i in found["inputs_on_my_proposals"]] == [
        ("instance-5", "NATS", "simpler", [])
    ]
    assert [t["task_id"] for t in found["now_ready"]] == [later]
    assert [t["task_id"] for t in found["offered_to_me"]] == [offered]
    assert [m["subject"] for m in found["questions_for_me"]] == ["Data?"]
    assert [m["subject"] for m in found["notifications"]] == ["Standup"]
    assert [d["title"] for d in found["input_requested"]] == ["Auth"]
    assert [i["instance"] for i in found["instances_registered"]] == ["instance-7"]
    assert [d["decision_id"] for d in found["decisions_affecting_me"]] == ["dec_002"]
    assert whatsnew.worth_telling(found)
    assert not whatsnew.worth_telling(whatsnew.between(step.state, step.state, "instance-1"))
    [data] = [m["message_id"] for m in found["questions_for_me"]]
    step(messages.reply, "instance-1", data, "here")
    assert whatsnew.between(before, step.state, "instance-1")["questions_for_me"] == [], "answered since it arrived"


def test_a_decision_i_made_is_no_news_to_me(seed: State) -> None:
    step = Steps(seed)
    made = step(
        decisions.propose,
        "instance-6",
        "Queue",
        options=[{"option": "NATS"}, {"option": "Kafka"}],
        input_from=["instance-1"],
    )
    before = step.state
    step(decisions.decide, "instance-6", made["decision_id"], option="NATS", rationale="r", force=True)
    assert whatsnew.between(before, step.state, "instance-6")["decisions_affecting_me"] == []
    told = whatsnew.between(before, step.state, "instance-1")["decisions_affecting_me"]
    assert [d["decision_id"] for d in told] == [made["decision_id"]], "it is news to the others it affects"


def test_a_ruling_reaches_whoever_holds_the_escalated_task(seed: State) -> None:
    step = Steps(seed)
    step(tasks.complete, "instance-2", "task_001")
    step(tasks.claim, "instance-3", "task_002")
    ruling = step(decisions.escalate, "instance-1", "task_002", reason="instance-3 should not build it")
    before = step.state
    step(decisions.decide, "human", ruling["decision_id"], option="instance-3", rationale="it stays")
    for who in ("instance-3", "instance-1"):
        found = whatsnew.between(before, step.state, who)
        assert [d["decision_id"] for d in found["rulings_for_me"]] == [ruling["decision_id"]], who
        assert found["decisions_affecting_me"] == [], "told once"
    assert whatsnew.between(before, step.state, "instance-5")["rulings_for_me"] == []


def test_a_claim_kept_aside_by_a_merge_is_news_to_its_instance_whatever_it_saw_before(seed: State) -> None:
    step = Steps(seed)
    step(tasks.complete, "instance-2", "task_001")
    before = step.state
    step(tasks.claim, "instance-4", "task_002")
    claimed = records_get(step.state, "task_002")
    lost = {**claimed, "contested": [{"status": "assigned", "assigned_to": "instance-5", "at": claimed["updated"]}]}
    after = {**step.state, model.TASKS: _with_task(step.state[model.TASKS], lost)}
    assert [(t["task_id"], t["lost_to"]) for t in whatsnew.between(before, after, "instance-5")["claims_lost"]] == [
        ("task_002", "instance-4")
    ]
    assert whatsnew.between(after, after, "instance-5")["claims_lost"] == [], "told once"
    assert whatsnew.between(before, after, "instance-4")["claims_lost"] == []


def records_get(state: State, rid: str) -> dict[str, Any]:
    found = next(t for t in views.tasks(state) if t["task_id"] == rid)
    return dict(found)


def _with_task(doc: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    return {
        name: [task if t["task_id"] == task["task_id"] else t for t in doc[name]]
        if isinstance(doc[name], list)
        else doc[name]
        for name in doc
    }


def test_the_human_hears_of_a_new_escalation(seed: State) -> None:
    step = Steps(seed)
    before = step.state
    step(decisions.escalate, "instance-1", "dec_002", reason="stuck")
    assert [d["decision_id"] for d in whatsnew.between(before, step.state, "human")["escalations_for_me"]] == [
        "dec_002"
    ]
    [notice] = [m for m in step.state["communication-log.json"]["messages"] if m["to"] == "human"][-1:]
    assert notice["message"].startswith("instance-1 escalates dec_002: stuck.\nResolve it with"), "two sentences"


# waits ------------------------------------------------------------------------------------


def test_a_wait_ends_on_what_it_waits_for(seed: State) -> None:
    step = Steps(seed)
    start = step.state
    assert waits.happened(start, start, "instance-2", waits.Wanted(reply="msg_001")) is None
    step(messages.reply, "instance-1", "msg_001", "REST")
    replied = waits.happened(start, step.state, "instance-2", waits.Wanted(reply="msg_001"))
    assert replied is not None
    assert [m["message"] for m in replied["replies"]] == ["REST"]
    assert waits.happened(start, step.state, "instance-2", waits.Wanted(input_on="dec_002")) is None
    step(decisions.give_input, "instance-3", "dec_002", "GraphQL Federation")
    moved = waits.happened(start, step.state, "instance-2", waits.Wanted(input_on="dec_002"))
    assert moved is not None
    assert [i["from"] for i in moved["decision"]["new_inputs"]] == ["instance-3"]
    assert waits.happened(start, step.state, "instance-1", waits.Wanted(ready=True)) is None
    step(tasks.complete, "instance-2", "task_001")
    step(tasks.claim, "instance-1", "task_002")
    ready = waits.happened(start, step.state, "instance-1", waits.Wanted(ready=True))
    assert ready is not None
    assert [t["task_id"] for t in ready["can_start"]] == ["task_002"]
    assert waits.happened(start, step.state, "instance-3", waits.Wanted(offer=True)) is None
    step(tasks.assign, "instance-2", "task_003", "instance-3")
    offer = waits.happened(start, step.state, "instance-3", waits.Wanted(offer=True))
    assert offer is not None
    assert [t["task_id"] for t in offer["offered_to_me"]] == ["task_003"]


def test_a_wait_for_anything_ends_on_news_only(seed: State) -> None:
    step = Steps(seed)
    start = step.state
    step(instances.checkin, "instance-4")  # someone checking in is no news to me
    assert waits.happened(start, step.state, "instance-1", waits.Wanted()) is None
    step(messages.send, "instance-4", to="instance-1", subject="hi", body="hello", requires_response=False)
    found = waits.happened(start, step.state, "instance-1", waits.Wanted())
    assert found is not None
    assert [m["subject"] for m in found["news"]["notifications"]] == ["hi"]
    assert waits.happened(start, step.state, "instance-1", waits.Wanted(input_on="dec_404")) is None


def test_a_check_in_within_one_session_is_current_until_its_heartbeat_is_due(seed: State) -> None:
    step = Steps(seed)
    step(instances.checkin, "instance-3", session="claude-1")
    entry = step.state[model.REGISTRY]["instances"]["instance-3"]
    hour = dt.timedelta(hours=1)
    soon, late = NOW + dt.timedelta(minutes=30), NOW + dt.timedelta(minutes=90)
    assert entry["current_session_id"] == "claude-1"
    assert instances.is_current(entry, soon, session="claude-1", interval=hour)
    assert not instances.is_current(entry, late, session="claude-1", interval=hour), "the heartbeat is due"
    assert not instances.is_current(entry, soon, session="claude-2", interval=hour), "another session"
    assert not instances.is_current(entry, soon, session=None, interval=hour), "no session: always check in"
    away = {**entry, "status": "offline"}
    assert not instances.is_current(away, soon, session="claude-1", interval=hour)
    assert not instances.is_current(None, soon, session="claude-1", interval=hour)
