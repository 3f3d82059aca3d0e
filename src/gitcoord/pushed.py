"""A push as the server's gate receives it: the refs it updates, and what the gate refuses of it."""

from __future__ import annotations

from typing import NamedTuple

HEADS = "refs/heads/"


class Update(NamedTuple):
    old: str | None  # None: the branch is new
    new: str | None  # None: the branch is being deleted
    ref: str


class Refusal(NamedTuple):
    ref: str
    commit: str  # "" when it is about the branch itself
    subject: str
    rule: str
    message: str


def updates(text: str) -> list[Update]:
    found = []
    for line in text.splitlines():
        if line.strip():
            old, new, ref = line.split(maxsplit=2)
            found.append(Update(None if set(old) == {"0"} else old, None if set(new) == {"0"} else new, ref))
    return found
