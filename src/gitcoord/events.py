"""A coordination event as a git commit: a subject a person can read, and trailers for tools.

    coord(task): instance-1 claims task_002

    Coord-Event: task.claim
    Coord-Instance: instance-1
    Coord-Subject: task_002

`git log` of the shared branch is then the event log, and `coord check` knows who acted.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from gitcoord.escape import safe

EVENT = "Coord-Event"
INSTANCE = "Coord-Instance"
SUBJECT = "Coord-Subject"

# How a clone says which instance it is (the acting instance of the commits it makes).
IDENTITY_HELP = (
    "say which instance you are, once per clone: `coord install --as INSTANCE` (it also sets up signing), "
    "or pass --as INSTANCE to each command (an exported COORD_INSTANCE is lost between an agent's shell commands)"
)

_TRAILER = re.compile(r"^(Coord-[A-Za-z]+):[ \t]*(.*?)\s*$", re.MULTILINE)


class Event(NamedTuple):
    name: str  # e.g. "task.claim"
    actor: str | None  # the instance acting; None before anyone is known (init)
    subject: str | None  # the record acted on
    summary: str  # what happened, in words: "instance-1 claims task_002"

    def message(self) -> str:
        area = self.name.split(".", 1)[0]
        trailers = [f"{EVENT}: {self.name}"]
        if self.actor:
            trailers.append(f"{INSTANCE}: {self.actor}")
        if self.subject:
            trailers.append(f"{SUBJECT}: {self.subject}")
        return f"coord({area}): {one_line(self.summary)}\n\n" + "\n".join(trailers) + "\n"


def one_line(text: str, limit: int = 100) -> str:
    """A commit subject from text an instance wrote: one line, control characters escaped."""
    flat = safe(" ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def trailers(message: str) -> dict[str, str]:
    """The Coord-* trailers of a commit message (the last value of each wins)."""
    return dict(_TRAILER.findall(message))
