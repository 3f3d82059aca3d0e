"""Hostile values in a pushed store: each is refused by the gate by its rule (never a crash), and found
by `coord check --range`, wherever in the store it sits.

A new task is written into task-queue.json as text, so that what JSON libraries would refuse to
write (NaN, a lone surrogate, a duplicate key) reaches the file as an attacker would put it there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from testing.forgery import NOW
from testing.forgery import Forger
from testing.forgery import found
from testing.forgery import new_message
from testing.forgery import refused
from testing.forgery import stamp

from gitcoord import model

TQ, ML, DC, REG = model.TASKS, model.MESSAGES, model.DECISIONS, model.REGISTRY
now = stamp(NOW)
Text = Callable[[str], str]


def _with_task(extra: str = "", **replace: str) -> Text:
    """The file's text with one more task, written by hand: `extra` JSON members, `replace` old -> new."""

    def edit(text: str) -> str:
        task = (
            '{"task_id": "task_h", "title": "t", "description": "d", "assigned_to": null, '
            f'"status": "pending_assignment", "priority": "low", "created": "{now}", '
            f'"created_by": "instance-3", "dependencies": []{extra}}}'
        )
        for old, new in replace.items():
            task = task.replace(old, new)
        return text.replace('"pending_tasks": [', '"pending_tasks": [' + task + ",", 1)

    return edit


def _members(text: str, member: str) -> str:
    """`member` ("key": value) put first in the file's top-level object."""
    return text.replace("{", "{" + member + ",", 1)


def _json(change: Callable[[dict[str, Any]], Any]) -> Text:
    def edit(text: str) -> str:
        doc = json.loads(text)
        change(doc)
        return json.dumps(doc, indent=2)

    return edit


def _question_due(due: str) -> Callable[[dict[str, Any]], Any]:
    """A question to the human, due at `due`: valid RFC 3339, but an instant outside years 1-9999 in UTC."""

    def ask(d: dict[str, Any]) -> None:
        d["messages"].append(
            new_message(
                "msg_due",
                "instance-3",
                type="consultation_request",
                requires_response=True,
                status="pending_response",
                expected_response_time=due,
            )
        )
        d["response_queue"].append(
            {"responding_to": "msg_due", "from": "human", "status": "pending", "expected_response_time": due}
        )

    return ask


# (id, file, edit of its text, rule)
VALUES: list[tuple[str, str, Text, str]] = [
    ("nan", TQ, _with_task(', "updated": NaN'), "parse"),
    ("infinity", TQ, _with_task(', "updated": -Infinity'), "parse"),
    ("400-digits", TQ, _with_task(', "updated": 1' + "0" * 400), "parse"),
    ("1e400", TQ, _with_task(', "updated": 1e400'), "parse"),
    ("5000-levels-deep", TQ, _with_task(', "x": ' + "[" * 5000 + "]" * 5000), "parse"),
    (
        "lone-surrogate",
        TQ,
        _with_task(', "notes": [{"from": "instance-3", "at": "' + now + '", "text": "\\ud800"}]'),
        "parse",
    ),
    ("duplicate-key", TQ, _with_task(', "created_by": "instance-2"'), "parse"),
    ("bom", TQ, lambda t: "\ufeff" + t, "parse"),
    ("empty-file", TQ, lambda t: "", "parse"),
    ("conflict-markers", TQ, lambda t: "<<<<<<< HEAD\n" + t + "=======\n>>>>>>> x\n", "parse"),
    ("json-array", TQ, lambda t: "[]", "schema"),
    ("bool-for-a-string", TQ, _with_task(**{'"title": "t"': '"title": true'}), "schema"),
    ("year-0000", TQ, _with_task(**{now: "0000-01-01T00:00:00Z"}), "schema"),
    ("second-60", TQ, _with_task(**{now: now[:-3] + "60Z"}), "schema"),
    ("trailing-newline", TQ, _with_task(**{now: now + "\\n"}), "schema"),
    # Beyond task-queue.json: the same values in the other files.
    (
        "nan-in-the-settings",
        REG,
        lambda t: t.replace('"settings": {', '"settings": {"checkin_hours": NaN, ', 1),
        "parse",
    ),
    ("1e400-in-decisions", DC, lambda t: _members(t, '"x": 1e400'), "parse"),
    ("deep-in-the-messages", ML, lambda t: _members(t, '"x": ' + "[" * 5000 + "]" * 5000), "parse"),
    ("not-an-object-registry", REG, lambda t: '"a string"', "schema"),
    ("due-past-year-9999", ML, _json(_question_due("9999-12-31T23:30:00-01:00")), "schema"),
    ("due-before-year-1", ML, _json(_question_due("0001-01-01T00:30:00+01:00")), "schema"),
]


@pytest.mark.parametrize(("file", "edit", "rule"), [c[1:] for c in VALUES], ids=[c[0] for c in VALUES])
def test_a_hostile_value_is_refused_by_its_rule(attacker: Forger, file: str, edit: Text, rule: str) -> None:
    path = attacker.path(file)
    path.write_text(edit(path.read_text()), encoding="utf-8")
    attacker.commit("a hostile value")
    said = refused(attacker, rule)
    advice = "a commit on top cannot repair it" if rule == "parse" else "which writes what the schema allows"
    assert advice in said, said  # the gate's advice fits what is wrong
    found(attacker, rule)


def test_a_file_that_is_not_utf8_is_refused(attacker: Forger) -> None:
    path = attacker.path(TQ)
    path.write_bytes(_with_task(**{'"title": "t"': '"title": "\xff"'})(path.read_text()).encode("latin-1"))
    attacker.commit("not UTF-8")
    refused(attacker, "parse")
    found(attacker, "parse")


@pytest.mark.parametrize("kind", ["symlink", "directory"])
def test_a_store_file_that_is_no_file_is_refused(attacker: Forger, kind: str) -> None:
    path = attacker.path(TQ)
    (attacker.clone / "elsewhere.json").write_text(path.read_text())
    path.unlink()
    if kind == "symlink":
        os.symlink("../elsewhere.json", path)
    else:
        path.mkdir()
        (path / "x").write_text("{}")
    attacker.commit(f"task-queue.json is a {kind}")
    rule = "parse" if kind == "symlink" else "deleted"
    refused(attacker, rule)
    found(attacker, rule)


def test_control_characters_reach_the_pusher_escaped(attacker: Forger) -> None:
    """A subject that would clear the pusher's terminal and fake a line from the remote, on a commit
    refused for another reason: the gate names the commit by its subject, escaped, never raw."""
    path = attacker.path(TQ)
    path.write_text(_with_task(**{'"instance-3"': '"instance-1"'})(path.read_text()))
    attacker.commit("a task \x1b[2J\rremote: all is well")
    said = refused(attacker, "authorization")
    assert "\x1b" not in said
    assert "all is well" in said
    found(attacker, "authorization")
