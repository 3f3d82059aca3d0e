"""What the human coordinator may do from the board, read from a request's JSON body.

Each action is the same protocol step as its command line (`coord --as HUMAN decision decide`,
`task cancel`, `task release`), so the core's rules and refusals apply unchanged; this only
checks that the request is well formed.
"""

from __future__ import annotations

from typing import Any
from typing import NamedTuple

from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import decisions
from gitcoord.protocol import tasks
from gitcoord.records import State

ID_LIMIT = 200
TEXT_LIMIT = 10_000

_FIELDS = {
    "decide": ("decision_id", "option", "rationale"),
    "cancel": ("task_id", "reason"),
    "release": ("task_id", "reason"),
}


class BadRequest(ValueError):
    """The request is not one the board sends; the message says what is wrong."""


class Action(NamedTuple):
    name: str  # "decide", "cancel" or "release"
    fields: dict[str, str]

    def build(self, state: State, ctx: Context) -> Change:
        f = self.fields
        if self.name == "decide":
            return decisions.decide(state, ctx, f["decision_id"], option=f["option"], rationale=f["rationale"])
        step = tasks.cancel if self.name == "cancel" else tasks.release
        return step(state, ctx, f["task_id"], f["reason"])


def parse(body: Any) -> Action:
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object")
    name = body.get("action")
    if name not in _FIELDS:
        raise BadRequest(f"unknown action {name!r}; expected one of: {', '.join(_FIELDS)}")
    wanted = _FIELDS[name]
    extra = sorted(set(body) - {"action", *wanted})
    if extra:
        raise BadRequest(f"unexpected field(s) for {name}: {', '.join(map(str, extra))}")
    return Action(name, {key: _text(body, key) for key in wanted})


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    limit = ID_LIMIT if key.endswith("_id") else TEXT_LIMIT
    if not isinstance(value, str) or not value.strip():
        if key.endswith("_id"):
            raise BadRequest(f"{key} is missing")
        raise BadRequest(f"write a {key}: it is kept with the step in the coordination files")
    if len(value) > limit:
        raise BadRequest(f"{key} is longer than {limit} characters")
    return value
