"""Each refusal of the history check in its own words: a real commit breaks one rule, and
`coord check --range` refuses it with a message that names the record and the field.

The example store (see test_attacks_records.py): dec_002 is pending and waits for input from
instance-1 and instance-3, dec_001 is decided, task_001 is in progress, held by instance-2. Each
case is a few commits made by hand in instance-3's clone, past every hook, each signed by the
instance it names; only the last breaks the rule, and nothing is pushed.
"""

from __future__ import annotations

from typing import Any

import pytest
from testing.forgery import Change
from testing.forgery import Forger
from testing.forgery import append
from testing.forgery import current
from testing.forgery import found
from testing.forgery import new_task
from testing.forgery import put
from testing.forgery import record
from testing.forgery import register
from testing.signed import HUMAN

from gitcoord import model

TQ, DC, REG = model.TASKS, model.DECISIONS, model.REGISTRY
ME, VICTIM, HOLDER = "instance-3", "instance-1", "instance-2"
Step = tuple[str, str, Change]  # who commits, which file, the change


def _input(by: str, option: str = "REST API") -> dict[str, Any]:
    return {"from": by, "option": option, "comment": "c", "at": current()}


def _note(by: str, text: str) -> dict[str, Any]:
    return {"from": by, "at": current(), "text": text}


def _contest(by: str) -> dict[str, Any]:
    return {"status": "assigned", "assigned_to": by, "assigned_at": current(), "status_reason": None, "at": current()}


def _escalated(by: str) -> Change:
    escalation = {
        "subject": "dec_002",
        "raised_by": by,
        "raised_at": current(),
        "reason": "we disagree",
        "escalated_to": HUMAN,
        "positions": [],
    }
    return put("dec_002", status="escalated", escalation=escalation)


# (id, the commits, the rule, the words the refusal says)
CASES: list[tuple[str, list[Step], str, str]] = [
    (
        "an-input-given-twice",
        [(ME, DC, put("dec_002", inputs=[_input(ME), _input(ME, "GraphQL Federation")]))],
        "authorization",
        "dec_002.inputs: one entry per instance",
    ),
    (
        "another-s-input-rewritten",
        [
            (VICTIM, DC, append("dec_002", "inputs", _input(VICTIM))),
            (ME, DC, lambda d: record(d, "dec_002")["inputs"][0].update(comment="forged")),
        ],
        "authorization",
        f"{ME} may not change the input of {VICTIM} on dec_002",
    ),
    (
        "an-input-after-the-decision",
        [(ME, DC, append("dec_001", "inputs", _input(ME)))],
        "authorization",
        "dec_001.inputs can change only while",
    ),
    (
        "an-own-note-rewritten",
        [
            (HOLDER, TQ, put("task_001", notes=[_note(HOLDER, "started"), _note(HOLDER, "halfway")])),
            (HOLDER, TQ, lambda d: record(d, "task_001")["notes"][1].update(text="done long ago")),
        ],
        "immutable",
        "task_001.notes: entries are only ever added, never changed",
    ),
    (
        "the-proposer-named-again",
        [(HUMAN, DC, put("dec_002", proposed_by=VICTIM)), (HUMAN, DC, put("dec_002", proposed_by=ME))],
        "immutable",
        "dec_002.proposed_by is set once and never changed",
    ),
    (
        "an-escalation-rewritten-by-its-raiser",
        [
            (VICTIM, DC, _escalated(VICTIM)),
            (VICTIM, DC, lambda d: record(d, "dec_002")["escalation"].update(reason="it was always urgent")),
        ],
        "immutable",
        "dec_002: an escalation, once raised, stays as it was raised",
    ),
    (
        "an-instance-named-as-the-human",
        [(HUMAN, REG, register(HUMAN))],
        "authorization",
        f"{HUMAN} is the human coordinator's name: no instance may take it",
    ),
    (
        "a-task-created-contested",
        [(ME, TQ, lambda d: d["pending_tasks"].append(new_task("task_new", ME, contested=[_contest(VICTIM)])))],
        "authorization",
        "task_new.contested is written only by the merge driver",
    ),
    (
        "the-registry-stamp-moved-back",
        [(ME, REG, lambda d: d.update(last_registry_update="2024-01-14T00:00:00Z"))],
        "time",
        "last_registry_update went back from",
    ),
    (
        "the-registry-stamp-in-the-future",
        [(ME, REG, lambda d: d.update(last_registry_update="2999-01-01T00:00:00Z"))],
        "time",
        "last_registry_update = 2999-01-01T00:00:00Z lies after the change itself",
    ),
    (
        "a-task-dated-before-its-store",
        [(ME, TQ, lambda d: d["pending_tasks"].append(new_task("task_old", ME, created="2024-01-15T09:00:00Z")))],
        "time",
        "task_old.created = 2024-01-15T09:00:00Z lies before the state it changes",
    ),
]


@pytest.mark.parametrize(("steps", "rule", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_check_range_refuses_each_broken_rule_in_its_words(
    attacker: Forger, steps: list[Step], rule: str, words: str
) -> None:
    _commit(attacker, steps)
    assert words in _said(found(attacker, rule), rule)


def _commit(attacker: Forger, steps: list[Step]) -> None:
    for who, file, change in steps:
        attacker.edit(file, change)
        attacker.commit(f"{who} changes {file} by hand", actor=who, key=attacker.team.key_of(who))


def _said(verdict: dict[str, Any], rule: str = "authorization") -> str:
    """Every message of `rule` the check gave, one a line."""
    return "\n".join(f["message"] for f in verdict["findings"] if f["rule"] == rule)
