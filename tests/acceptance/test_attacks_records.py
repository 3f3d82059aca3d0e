"""Attacks on the records: field takeovers of tasks, messages and decisions.

The example store: task_001 is in progress, held by instance-2; task_002 and task_003 wait,
task_003 on open dependencies; msg_001 is a question from instance-2 to instance-1; dec_001 was
decided by instance-2; dec_002 is pending and names no proposer. instance-3 attacks by hand, past
every client hook, signing with its own key as itself: each change is refused by the gate (naming
the rule, moving no ref) and found by `coord check --range`; each family has an honest twin.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from testing.forgery import NOW
from testing.forgery import Change
from testing.forgery import Forger
from testing.forgery import accepted
from testing.forgery import append
from testing.forgery import claim
from testing.forgery import current
from testing.forgery import found
from testing.forgery import move
from testing.forgery import new_key
from testing.forgery import new_message
from testing.forgery import new_task
from testing.forgery import put
from testing.forgery import record
from testing.forgery import refused
from testing.forgery import register
from testing.forgery import stamp
from testing.repos import git
from testing.signed import HUMAN
from testing.signed import Team

from gitcoord import model
from gitcoord.git import clean_env

TQ, ML, DC = model.TASKS, model.MESSAGES, model.DECISIONS
ME, VICTIM, HOLDER = "instance-3", "instance-1", "instance-2"
now = stamp(NOW)


def _escalation(by: str) -> dict[str, Any]:
    return {
        "subject": "dec_002",
        "raised_by": by,
        "raised_at": now,
        "reason": "we disagree",
        "escalated_to": HUMAN,
        "positions": [{"instance": VICTIM, "position": "GraphQL or I quit"}],
    }


def _duplicate_before(rid: str, **fields: Any) -> Change:
    """A second, altered copy of `rid` put before the real one, in the same list."""

    def add(d: dict[str, Any]) -> None:
        real = record(d, rid)
        listed = next(v for v in d.values() if isinstance(v, list) and real in v)
        listed.insert(listed.index(real), {**real, **fields})

    return add


# (id, file, change, rule)
TAKEOVERS = [
    # tasks
    ("take-over-assigned-to", TQ, put("task_001", assigned_to=ME), "immutable"),
    ("another-s-status-reason", TQ, put("task_001", status_reason="mine now"), "authorization"),
    ("another-s-updated-only", TQ, put("task_001", updated=now), "authorization"),
    ("another-s-title", TQ, put("task_001", title="renamed"), "authorization"),
    ("another-s-priority", TQ, put("task_001", priority="low"), "authorization"),
    ("another-s-dependencies", TQ, put("task_002", dependencies=[]), "authorization"),
    ("suggested-assignee", TQ, put("task_002", suggested_assignee=ME), "authorization"),
    ("complete-another-s", TQ, lambda d: move(d, "task_001", "completed_tasks", status="completed"), "authorization"),
    ("block-another-s", TQ, put("task_001", status="blocked", status_reason="stuck"), "authorization"),
    (
        "cancel-a-task-not-mine",
        TQ,
        lambda d: move(d, "task_002", "completed_tasks", status="cancelled"),
        "authorization",
    ),
    (
        "claim-in-another-s-name",
        TQ,
        lambda d: move(
            d, "task_002", "active_tasks", status="assigned", assigned_to=VICTIM, assigned_at=now, dependencies=[]
        ),
        "authorization",
    ),
    # task_002 waits for task_001, still in progress: nobody takes it yet, not even for oneself.
    ("claim-what-waits", TQ, claim("task_002", ME, now), "dependency"),
    (
        "offer-to-oneself-what-waits",
        TQ,
        lambda d: move(d, "task_002", "pending_tasks", status="offered", assigned_to=ME, assigned_at=now),
        "dependency",
    ),
    (
        "decline-by-another",
        TQ,
        append("task_002", "declines", {"instance": VICTIM, "at": now, "reason": "no"}),
        "authorization",
    ),
    (
        "note-by-another",
        TQ,
        append("task_001", "notes", {"from": VICTIM, "at": now, "text": "forged"}),
        "authorization",
    ),
    (
        "own-note-on-a-task-not-mine",
        TQ,
        append("task_001", "notes", {"from": ME, "at": now, "text": "mine"}),
        "authorization",
    ),
    (
        "contested-by-hand",
        TQ,
        put(
            "task_001",
            contested=[{"status": "assigned", "assigned_to": ME, "assigned_at": now, "status_reason": None, "at": now}],
        ),
        "authorization",
    ),
    (
        "merge-conflicts-by-hand",
        TQ,
        lambda d: d.update(
            merge_conflicts=[{"record": "task_001", "field": "title", "values": ["a", "b"], "reason": "x"}]
        ),
        "authorization",
    ),
    (
        "create-in-another-s-name",
        TQ,
        lambda d: d["pending_tasks"].append(new_task("task_f", VICTIM)),
        "authorization",
    ),
    (
        "create-already-completed",
        TQ,
        lambda d: d["completed_tasks"].append(new_task("task_g", ME, status="completed", assigned_to=ME)),
        "transition",
    ),
    (
        "claim-with-open-dependencies",
        TQ,
        lambda d: move(d, "task_003", "active_tasks", status="in_progress", assigned_to=ME, assigned_at=now),
        "dependency",
    ),
    ("a-second-task-001-before-the-real", TQ, _duplicate_before("task_001", assigned_to=ME), "duplicate-id"),
    ("a-task-in-the-wrong-list", TQ, lambda d: d["completed_tasks"].append(d["pending_tasks"].pop(0)), "placement"),
    ("task-deleted", TQ, lambda d: d["pending_tasks"].pop(0), "deleted"),
    # messages
    ("rewrite-a-sent-message", ML, put("msg_001", message="forged"), "immutable"),
    ("readdress-a-sent-message", ML, put("msg_001", to=ME), "immutable"),
    (
        "answer-a-question-to-another",
        ML,
        lambda d: (record(d, "msg_001").update(status="responded"), d.update(response_queue=[])),
        "authorization",
    ),
    (
        "close-another-s-question",
        ML,
        lambda d: (record(d, "msg_001").update(status="closed", closed_at=now), d.update(response_queue=[])),
        "authorization",
    ),
    (
        "reply-in-another-s-thread",
        ML,
        lambda d: d["messages"].append(
            new_message("msg_r", ME, to=HOLDER, type="consultation_response", in_reply_to="msg_001")
        ),
        "authorization",
    ),
    (
        "send-in-another-s-name",
        ML,
        lambda d: d["messages"].append(new_message("msg_f", VICTIM)),
        "authorization",
    ),
    ("drop-an-owed-answer", ML, lambda d: d.update(response_queue=[]), "response-queue"),
    ("message-deleted", ML, lambda d: d.update(messages=[], response_queue=[]), "deleted"),
    ("a-second-msg-001-before-the-real", ML, _duplicate_before("msg_001", message="forged"), "duplicate-id"),
    # decisions
    (
        "decide-with-no-proposer",
        DC,
        lambda d: move(
            d,
            "dec_002",
            "decisions",
            status="active",
            decision="REST API",
            rationale="r",
            decided_by=[ME],
            date=now,
            affects_instances=["all"],
        ),
        "authorization",
    ),
    ("name-myself-proposer", DC, put("dec_002", proposed_by=ME), "authorization"),
    (
        "another-s-input",
        DC,
        append("dec_002", "inputs", {"from": VICTIM, "option": "REST API", "comment": "forged", "at": now}),
        "authorization",
    ),
    ("another-s-decided-by", DC, put("dec_001", decided_by=[ME]), "immutable"),
    ("another-s-rationale", DC, put("dec_001", rationale="rewritten"), "immutable"),
    ("supersede-another-s", DC, put("dec_001", status="superseded", superseded_by="dec_002"), "authorization"),
    ("affects-instances", DC, put("dec_001", affects_instances=[ME]), "authorization"),
    ("pending-title", DC, put("dec_002", title="Pick GraphQL"), "authorization"),
    (
        "record-in-another-s-name",
        DC,
        lambda d: d["decisions"].append(
            {**record(d, "dec_001"), "decision_id": "dec_f", "decided_by": [VICTIM], "date": now}
        ),
        "authorization",
    ),
    (
        "escalate-in-another-s-name",
        DC,
        put("dec_002", status="escalated", escalation=_escalation(VICTIM)),
        "authorization",
    ),
    (
        "escalate-to-another-than-the-human",
        DC,
        put("dec_002", status="escalated", escalation={**_escalation(ME), "escalated_to": ME}),
        "authorization",
    ),
]


@pytest.mark.parametrize(("file", "change", "rule"), [c[1:] for c in TAKEOVERS], ids=[c[0] for c in TAKEOVERS])
def test_a_record_takeover_is_refused(attacker: Forger, file: str, change: Change, rule: str) -> None:
    _refused_by_hand(attacker, file, change, rule, "a record changed by hand")


def _refused_by_hand(forger: Forger, file: str, change: Change, rule: str, subject: str) -> None:
    """A hand edit committed past the hooks: the gate refuses it for `rule`, and so does the range check."""
    forger.edit(file, change)
    forger.commit(subject)
    refused(forger, rule)
    found(forger, rule)


def test_a_forged_escalation_position_before_the_real_one_is_refused(example_team: Team) -> None:
    attacker = Forger(example_team, ME).fresh()
    example_team.ok(VICTIM, "escalate", "dec_002", "--reason", "we cannot agree", "--sync")
    holder = Forger(example_team, HOLDER).fresh()
    position = {"instance": HOLDER, "position": "REST, for simplicity"}
    holder.edit(DC, lambda d: record(d, "dec_002")["escalation"]["positions"].append(position))
    holder.commit("instance-2 states its position")
    accepted(holder)  # the honest twin: its own position

    def forge(d: dict[str, Any]) -> None:
        positions = record(d, "dec_002")["escalation"]["positions"]
        forged = {"instance": HOLDER, "position": "FORGED: instance-2 now backs GraphQL and withdraws"}
        positions.insert(positions.index(position), forged)

    attacker.fresh().edit(DC, forge)
    attacker.commit("a position in instance-2's name")
    refused(attacker, "authorization")
    found(attacker, "authorization")


def test_a_position_may_not_say_another_wrote_it(example_team: Team) -> None:
    """The raiser rewords its own position as written down by the human: the human, who decides on
    the positions, would read the raiser's words as its own."""
    example_team.ok(VICTIM, "escalate", "dec_002", "--reason", "we cannot agree", "--sync")
    raiser = Forger(example_team, VICTIM).fresh()

    def reword(d: dict[str, Any]) -> None:
        positions = record(d, "dec_002")["escalation"]["positions"]
        positions.append({"instance": VICTIM, "position": "the human agreed already", "by": HUMAN})

    _refused_by_hand(raiser, DC, reword, "authorization", "instance-1 states its position, as the human's")


def test_a_consultation_marked_responded_with_no_answer_is_refused(example_team: Team) -> None:
    """msg_001 asks instance-1: its recipient may mark it responded only by writing the answer."""
    recipient = Forger(example_team, VICTIM).fresh()

    def answered_by_no_one(d: dict[str, Any]) -> None:
        put("msg_001", status="responded")(d)
        d["response_queue"] = [q for q in d["response_queue"] if q.get("responding_to") != "msg_001"]

    _refused_by_hand(recipient, ML, answered_by_no_one, "transition", "instance-1 marks msg_001 answered")


def test_a_holder_may_not_lift_what_its_task_waits_for(example_team: Team) -> None:
    """The order of the work is its creator's, or the human's: a holder that could drop a
    dependency could start what the human ordered after another task. Nor does an offer to
    oneself take a task that a claim could not."""

    def added(*args: str) -> str:
        return str(
            json.loads(example_team.ok(HUMAN, "task", "add", *args, "--sync", "--json"))["data"]["record"]["task_id"]
        )

    first = added("Lay the foundations")
    then = added("Build on them", "--depends", first)
    example_team.ok(HOLDER, "sync")
    to_itself = example_team.run(HOLDER, "task", "assign", then, HOLDER)
    assert to_itself.code == 1, "an offer to oneself is a claim: it waits for what a claim waits for"
    assert f"{then} is not ready: it waits for {first}" in to_itself.err, to_itself
    example_team.ok(HUMAN, "task", "assign", then, HOLDER, "--sync")  # the human's order: it waits once held
    example_team.ok(HOLDER, "sync")
    example_team.ok(HOLDER, "task", "accept", then, "--sync")
    dropped = example_team.run(HOLDER, "task", "edit", then, "--no-depends", first)
    assert dropped.code == 1, dropped
    assert f"instance-2 may not change its dependencies on {then}" in dropped.err, dropped
    holder = Forger(example_team, HOLDER).fresh()
    _refused_by_hand(holder, TQ, put(then, dependencies=[]), "authorization", "instance-2 drops a dependency")
    example_team.ok(HUMAN, "sync")
    example_team.ok(HUMAN, "task", "edit", then, "--no-depends", first, "--sync")  # the honest twin


def test_a_question_is_fixed_once_an_input_answers_it(example_team: Team) -> None:
    """instance-2's input answers the decision as it was asked: its proposer rewording the question
    after it would have the input back another one."""
    proposed = example_team.ok(
        VICTIM, "decision", "propose", "Adopt library X for logging?", "--option", "yes", "--option", "no",
        "--input-from", HOLDER, "--sync", "--json",
    )  # fmt: skip
    dec = json.loads(proposed)["data"]["record"]["decision_id"]
    example_team.ok(HOLDER, "sync")
    example_team.ok(HOLDER, "decision", "input", dec, "--option", "yes", "--comment", "it logs well", "--sync")
    proposer = Forger(example_team, VICTIM).fresh()
    reworded = put(dec, title="Give instance-1 the deploy keys?")
    _refused_by_hand(proposer, DC, reworded, "immutable", "instance-1 rewords its question")
    proposer.fresh().edit(DC, put(dec, deadline=stamp(NOW + dt.timedelta(days=3))))
    proposer.commit("instance-1 gives more time")
    accepted(proposer)  # the honest twin: what the inputs do not answer still changes


def test_the_honest_twins_each_change_by_who_may_make_it(example_team: Team) -> None:
    holder = Forger(example_team, HOLDER).fresh()
    holder.edit(TQ, put("task_001", status_reason="halfway"))
    holder.edit(TQ, append("task_001", "notes", {"from": HOLDER, "at": current(), "text": "halfway there"}))
    holder.commit("instance-2 keeps its task up to date")
    accepted(holder)
    creator = Forger(example_team, ME).fresh()
    creator.edit(TQ, lambda d: d["pending_tasks"].append(new_task("task_mine", ME)))
    creator.commit("instance-3 adds a task")
    creator.edit(TQ, claim("task_mine", ME, current()))
    creator.edit(ML, lambda d: d["messages"].append(new_message("msg_mine", ME)))
    creator.edit(
        DC, append("dec_002", "inputs", {"from": ME, "option": "REST API", "comment": "simple", "at": current()})
    )
    creator.commit("instance-3 takes a task of its own, says so, and gives its input")
    accepted(creator)
    recipient = Forger(example_team, VICTIM).fresh()
    recipient.edit(ML, lambda d: (record(d, "msg_001").update(status="responded"), d.update(response_queue=[])))
    recipient.edit(
        ML,
        lambda d: d["messages"].append(
            new_message("msg_answer", VICTIM, to=HOLDER, type="consultation_response", in_reply_to="msg_001")
        ),
    )
    recipient.commit("instance-1 answers the question sent to it")
    accepted(recipient)
    human = Forger(example_team, HUMAN).fresh()
    human.edit(DC, put("dec_002", proposed_by=VICTIM))
    human.commit("the human names who decides dec_002")
    accepted(human)


@pytest.mark.parametrize(
    ("file", "change", "rule"),
    [
        (TQ, put("task_001", assigned_to=ME), "immutable"),
        (DC, put("dec_001", affects_instances=[ME]), "authorization"),
    ],
    ids=["take-over-assigned-to", "affects-instances"],
)
def test_the_local_hooks_refuse_a_takeover_before_it_is_committed(
    attacker: Forger, file: str, change: Change, rule: str
) -> None:
    """The same takeover by an ordinary `git commit` in the attacker's clone: its own hooks refuse it."""
    head = git(attacker.clone, "rev-parse", "HEAD")
    attacker.edit(file, change)
    done = subprocess.run(
        ["git", "commit", "-qam", "a takeover"],
        cwd=attacker.clone,
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
    )
    assert done.returncode != 0
    assert f"[{rule}]" in done.stdout + done.stderr, done
    assert git(attacker.clone, "rev-parse", "HEAD") == head


def _flood(count: int, by: str) -> Change:
    ids = [f"task_{n:06d}" for n in range(900000, 900000 + count)]
    return lambda q: q["pending_tasks"].extend(new_task(tid, by) for tid in ids)


def test_a_flood_of_records_in_one_commit_is_refused(attacker: Forger) -> None:
    """Thousands of records at once would slow every later step for good: at most rulebook.MAX_CREATED."""
    attacker.edit(TQ, _flood(101, "instance-3"))
    attacker.commit("instance-3 adds 101 tasks")
    said = refused(attacker, "size")
    assert "101 task records are created in one change; at most 100 are" in said
    found(attacker, "size")


def test_a_few_records_swollen_to_the_schemas_limits_are_refused(attacker: Forger) -> None:
    """Within the count, but each as long as the schema lets it be: megabytes that every clone then carries."""
    long = "x" * 20000
    notes = [{"from": "instance-3", "at": current(), "text": long} for _ in range(40)]
    ids = [f"task_{n:06d}" for n in range(900000, 900003)]
    attacker.edit(TQ, lambda q: q["pending_tasks"].extend(new_task(t, "instance-3", notes=notes) for t in ids))
    attacker.commit("instance-3 adds 3 long tasks")
    said = refused(attacker, "size")
    assert "bytes of task records; at most 2,097,152 are" in said


def test_the_honest_twins_a_batch_and_the_humans_import(example_team: Team) -> None:
    batch = Forger(example_team, "instance-3").fresh()
    batch.edit(TQ, _flood(100, "instance-3"))
    batch.commit("instance-3 adds 100 tasks")
    accepted(batch)
    backlog = Forger(example_team, HUMAN).fresh()
    backlog.edit(TQ, lambda q: q["pending_tasks"].extend(new_task(f"task_{n:06d}", HUMAN) for n in range(1, 151)))
    backlog.commit("the human imports a backlog of 150 tasks")
    accepted(backlog)


def test_a_broadcast_is_nobodys_to_close_for_everyone(example_team: Team) -> None:
    """The human's note to all, closed by one reader in a hand-made commit: as `coord msg ack` refuses it."""
    example_team.ok(HUMAN, "sync")
    example_team.ok(HUMAN, "msg", "send", "--to", "all", "--subject", "no deploys today", "--body", "b", "--sync")
    attacker = Forger(example_team, "instance-3").fresh()
    note = next(m for m in attacker.read(ML)["messages"] if m.get("subject") == "no deploys today")
    attacker.edit(ML, lambda d: record(d, note["message_id"]).update(status="acknowledged", closed_at=current()))
    attacker.commit("instance-3 closes the broadcast")
    refused(attacker, "authorization")


def test_a_new_instance_may_not_take_the_human_s_former_name(example_team: Team, tmp_path: Path) -> None:
    """The human needs no entry: renamed, its old name is free in the registry, yet its task still
    names it as creator. An instance registered under it would cancel that task as its creator."""
    made = example_team.ok(HUMAN, "task", "add", "The human's own task", "--sync", "--json")
    task = json.loads(made)["data"]["record"]["task_id"]
    human = Forger(example_team, HUMAN).fresh()
    human.edit(model.REGISTRY, lambda d: d["settings"].update(human_coordinator="boss"))
    human.commit("the human coordinator is called boss now")
    accepted(human)
    attacker = Forger(example_team, ME).fresh()
    path, key = new_key(tmp_path, "old-name")
    attacker.edit(model.REGISTRY, register(HUMAN, signing_key=key))
    attacker.commit("register under the human's old name", actor=HUMAN, key=path)
    said = refused(attacker, "authorization")
    assert f"{HUMAN} is the name {task}.created_by holds" in said, said
    found(attacker, "authorization")
    attacker.fresh().edit(model.REGISTRY, register("newcomer", signing_key=key))
    attacker.commit("register under a name of its own", actor="newcomer", key=path)
    accepted(attacker)  # the honest twin


def test_a_copy_of_another_s_entry_is_an_entry_added_in_their_name(example_team: Team) -> None:
    """Appending a copy of the human's note makes the human seem to say it again, last."""
    example_team.ok(HUMAN, "decision", "note", "dec_001", "--text", "VETO: not this one", "--sync")
    example_team.ok(HUMAN, "decision", "note", "dec_001", "--text", "veto lifted", "--sync")
    decider = Forger(example_team, HOLDER).fresh()  # dec_001 was decided by instance-2
    veto = next(n for n in record(decider.read(DC), "dec_001")["notes"] if n["text"].startswith("VETO"))
    _refused_by_hand(
        decider, DC, append("dec_001", "notes", dict(veto)), "authorization", "instance-2 repeats the human's veto"
    )
    decider.fresh().edit(DC, append("dec_001", "notes", {**veto, "from": HOLDER, "at": current()}))
    decider.commit("instance-2 says it too, as itself")
    accepted(decider)  # the honest twin


def test_a_holder_neither_rewrites_nor_cancels_the_task(example_team: Team) -> None:
    """Anyone may claim a task that waits: a holder's say over what it is would be anyone's, so
    claim, edit, release (or claim and cancel) would rewrite any task in the queue."""
    made = example_team.ok(HUMAN, "task", "add", "Review the security checklist", "--sync", "--json")
    task = json.loads(made)["data"]["record"]["task_id"]
    example_team.ok(ME, "sync")
    example_team.ok(ME, "task", "claim", task, "--sync")
    edited = example_team.run(ME, "task", "edit", task, "--description", "Skip the checklist: deploy now.")
    assert edited.code == 1, edited
    assert f"{ME} may not change its description on {task}" in edited.err, edited
    cancelled = example_team.run(ME, "task", "cancel", task, "--reason", "not needed")
    assert cancelled.code == 1, cancelled
    assert f"{ME} may not cancel it" in cancelled.err, cancelled
    holder = Forger(example_team, ME).fresh()
    _refused_by_hand(holder, TQ, put(task, priority="low"), "authorization", "instance-3 lowers what it holds")
    holder.fresh()
    example_team.ok(ME, "task", "release", task, "--reason", "not mine after all", "--sync")
    example_team.ok(HUMAN, "sync")
    example_team.ok(HUMAN, "task", "cancel", task, "--reason", "done another way", "--sync")  # the honest twin
