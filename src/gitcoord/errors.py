"""Failures a user can fix, and the exit codes every command uses."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # a check failed, or a FatalError: the message says what to do
    USAGE = 2  # click's own code for a bad command line
    UNEXPECTED = 3  # a bug in gitcoord
    TIMED_OUT = 4  # `coord wait`: nothing it waited for happened in time
    UNSHARED = 5  # the step is committed in this clone, but not shared yet: the next sync shares it
    INTERRUPTED = 130


class FatalError(RuntimeError):
    """Something the user can fix; the message says what is wrong and what to do."""

    exit_code: ExitCode = ExitCode.FAILED


class NotShared(FatalError):
    """A step was committed here and could not be shared: it stays, and the next sync shares it."""

    exit_code = ExitCode.UNSHARED
