"""What `coord wait` waits for, judged on two states: where the wait began and now. Pure.

A wait ends on the first of the things it was asked about that holds: an answer to a
message, an input on a decision (or its decision), a task of mine that can start or one that
fits me ready to take, a task offered to me; asked about nothing in particular, on anything
new for me (`whatsnew.between`).
"""

from __future__ import annotations

from typing import Any
from typing import NamedTuple

from gitcoord import model
from gitcoord import records
from gitcoord import views
from gitcoord import whatsnew
from gitcoord.records import State


class Wanted(NamedTuple):
    reply: str | None = None  # an answer to this message
    input_on: str | None = None  # an input on (or the decision of) this decision
    ready: bool = False  # a task of mine that can start, or an unassigned one that fits me
    offer: bool = False  # a task offered to me

    @property
    def anything(self) -> bool:
        return not (self.reply or self.input_on or self.ready or self.offer)


def happened(start: State, now: State, me: str, wanted: Wanted) -> dict[str, Any] | None:
    """What happened that the wait was for (None: nothing yet)."""
    found: dict[str, Any] = {}
    if wanted.reply:
        answers = [m for m in views.messages(now) if m.get("in_reply_to") == wanted.reply]
        if answers:
            found["replies"] = [views.message_entry(m) for m in answers]
    if wanted.input_on:
        change = _decision_moved(start, now, wanted.input_on)
        if change:
            found["decision"] = change
    if wanted.ready:  # as `coord task ready --mine`: mine to start, and the unassigned that fit me to take
        ready = views.ready(now, me)
        startable = [t for t in ready if t["status"] == "assigned"]
        takeable = [t for t in ready if t["status"] == "pending_assignment"]
        if startable:
            found["can_start"] = [views.task_summary(t) for t in startable]
        if takeable:
            found["ready_for_me"] = [views.task_summary(t) for t in takeable]
    if wanted.offer:
        offered = [t for t in views.tasks(now) if t["assigned_to"] == me and t["status"] == "offered"]
        if offered:
            found["offered_to_me"] = [views.task_summary(t) for t in views.by_urgency(offered)]
    if wanted.anything:
        news = whatsnew.between(start, now, me)
        if whatsnew.worth_telling(news):
            found["news"] = news
    return found or None


def _decision_moved(start: State, now: State, decision_id: str) -> dict[str, Any] | None:
    """The decision, if it was decided or got an input (new or changed) since the wait began."""
    before = records.get(start, "decision", decision_id) or {}
    after = records.get(now, "decision", decision_id)
    if after is None:
        return None
    given = {(i["from"], i["option"], i.get("at")) for i in before.get("inputs", ())}
    new = [i for i in after.get("inputs", ()) if (i["from"], i["option"], i.get("at")) not in given]
    decided = model.decision_status(after) not in ("pending", "escalated")
    if not new and not decided:
        return None
    return {**views.decision_summary(after), "new_inputs": new}
