"""Failures a user can fix, and the exit codes every command uses."""

from __future__ import annotations

import enum
from collections.abc import Sequence


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # a check failed, or a FatalError: the message says what to do
    USAGE = 2  # click's own code for a bad command line
    UNEXPECTED = 3  # a bug in gitcoord
    INTERRUPTED = 130


class FatalError(RuntimeError):
    """Something the user can fix; the message says what is wrong and what to do."""


class GitError(FatalError):
    def __init__(self, args: Sequence[str], returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.cmd = list(args)
        self.returncode = returncode
        self.stdout = stdout.decode("utf-8", "replace")
        self.stderr = stderr.decode("utf-8", "replace")
        detail = self.stderr.strip() or self.stdout.strip() or "(no output)"
        super().__init__(f"`{' '.join(self.cmd)}` failed with code {returncode}:\n{detail}")
