"""Failures a user can fix, the kinds a program can tell them apart by, and the exit codes."""

from __future__ import annotations

import enum
from typing import Any


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # a check failed, or a FatalError: the message says what to do
    USAGE = 2  # click's own code for a bad command line
    UNEXPECTED = 3  # a bug in gitcoord
    TIMED_OUT = 4  # `coord wait`: nothing it waited for happened in time
    UNSHARED = 5  # the step is committed in this clone, but not shared yet: the next sync shares it
    INTERRUPTED = 130


# The `kind` of an error in the JSON envelope (schemas/output.json lists them with their meaning).
# A program decides by kind, never by reading the message, so these names do not change.
KINDS = (
    "usage",  # the command line is wrong: fix it (exit 2)
    "refused",  # the protocol or the rulebook does not allow this step
    "not_found",  # no record, file or commit by that name
    "invalid_store",  # the committed coordination files do not validate
    "conflict",  # two histories or two values need a person to choose
    "unreachable",  # the remote could not be fetched from or pushed to
    "busy",  # another process holds a lock: try again
    "git",  # git failed, is missing, or this is not a repository
    "check_failed",  # the command ran, and what it checked is not in order
    "timed_out",  # `coord wait`: nothing it waited for happened in time (exit 4)
    "failed",  # anything else the user can fix
    "interrupted",  # Ctrl-C (exit 130)
    "unexpected",  # a bug in gitcoord (exit 3)
)


class FatalError(RuntimeError):
    """Something the user can fix; the message says what is wrong and what to do.

    `kind` names the class of failure for programs; `details()` adds what a program may act
    on (the findings of an invalid store, the candidates of an ambiguous id).
    """

    kind: str = "failed"
    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, *args: object, kind: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(*args)
        if kind is not None:
            self.kind = kind
        self._details = details or {}

    def details(self) -> dict[str, Any]:
        return dict(getattr(self, "_details", {}))


class BadUsage(FatalError):
    """An argument the command cannot use (exit 2, as click's own usage errors): fix the command line."""

    kind = "usage"
    exit_code = ExitCode.USAGE


class NotFound(FatalError):
    """No record (or file, or commit) by the name given."""

    kind = "not_found"


class Busy(FatalError):
    """Another process holds what this one needs; trying again later helps."""

    kind = "busy"


class NotShared(FatalError):
    """A step was committed here and could not be shared: it stays, and the next sync shares it.

    Its kind is its cause's (`described`): unreachable, busy, a conflict.
    """

    exit_code = ExitCode.UNSHARED


def described(error: FatalError) -> tuple[str, dict[str, Any]]:
    """The kind and details of `error`.

    A plain FatalError raised while handling another (to say what was already done, as in
    "the step is committed here, but not shared yet: ...") keeps the kind of the one it
    handled, even when raised `from None`: the reader's next move depends on the cause.
    """
    found: BaseException | None = error
    while isinstance(found, FatalError) and found.kind == "failed":
        found = found.__cause__ or found.__context__
    cause = found if isinstance(found, FatalError) else error
    return cause.kind, {**cause.details(), **error.details()}
