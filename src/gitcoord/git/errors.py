"""What can go wrong running git, told apart so that callers never read git's prose."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from gitcoord.errors import FatalError

LOCK = re.compile(r"Unable to create '([^']+\.lock)': File exists")


class GitError(FatalError):
    """A git command failed: the command, its exit code, and everything it said."""

    kind = "git"

    def __init__(self, args: Sequence[str], returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.cmd = list(args)
        self.returncode = returncode
        self.stdout = stdout.decode("utf-8", "replace")
        self.stderr = stderr.decode("utf-8", "replace")
        super().__init__(
            f"`{' '.join(self.cmd)}` failed with exit code {returncode}\n"
            + _block("stdout", self.stdout)
            + _block("stderr", self.stderr).rstrip("\n")
        )

    @property
    def output(self) -> str:
        """What it said on both streams."""
        return (self.stdout + self.stderr).strip()

    @property
    def reason(self) -> str:
        """git's own reason in a line: its first `fatal:` or `error:` line (what follows is advice,
        such as "Please make sure you have the correct access rights"), else its last line."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        for line in lines:
            for prefix in ("fatal:", "error:"):
                if line.startswith(prefix):
                    return line.removeprefix(prefix).strip()
        return lines[-1] if lines else f"git exited with {self.returncode}"

    def details(self) -> dict[str, object]:
        return {"command": self.cmd, "returncode": self.returncode}


def _block(name: str, text: str) -> str:
    return f"{name}:\n" + ("".join(f"    {line}\n" for line in text.strip().splitlines()) or "    (none)\n")


class GitMissing(FatalError):
    """git is not installed, or not on PATH."""

    kind = "git"


class NotARepository(FatalError):
    """The directory is not in a working tree of a git repository."""

    kind = "git"


class FetchFailed(GitError):
    """The remote could not be fetched from: unreachable, or it refused."""

    kind = "unreachable"


class TimedOut(GitError):
    """git did not finish within the time it was given, and was stopped."""

    kind = "unreachable"


class RemoteRefMissing(GitError):
    """The remote has no such ref (yet)."""


class PushFailed(GitError):
    """The remote did not take the push: unreachable, or a hook or a rule declined it."""

    kind = "unreachable"

    def __init__(self, args: Sequence[str], returncode: int, stdout: bytes, stderr: bytes) -> None:
        super().__init__(args, returncode, stdout, stderr)
        if "[remote rejected]" in self.output or "hook declined" in self.output:  # stdout with --porcelain
            self.kind = "refused"  # the remote answered and said no (its gate, a rule): retrying will not help


class PushRejected(PushFailed):
    """The remote moved since it was fetched: another push got there first."""

    kind = "conflict"


class RefAmbiguous(PushFailed):
    """The remote holds another ref that the pushed ref's full name matches too (a tag called
    refs/heads/coord is refs/tags/refs/heads/coord), and git will not guess which one is meant."""

    kind = "refused"


class Locked(GitError):
    """Another git process holds a lock file (or one was killed and left it behind)."""

    kind = "busy"

    @property
    def lock(self) -> Path:
        found = LOCK.search(self.stderr)
        return Path(os.path.normpath(found[1])) if found else Path("?")


class IndexLocked(Locked):
    """A worktree's index.lock exists: another git command is running there."""


class RefLocked(Locked):
    """A ref's lock file exists: another git process is updating it."""


class WouldOverwrite(GitError):
    """git refused to update a working tree because that would overwrite local changes."""

    @property
    def paths(self) -> list[str]:
        return [line.strip() for line in self.stderr.splitlines() if line.startswith("\t")]


class MergeTreeConflict(GitError):
    """`git merge-tree` found conflicts: the merge needs a person."""

    kind = "conflict"

    @property
    def messages(self) -> str:
        return self.stderr.strip() or self.stdout.split("\n\n", 1)[-1].strip()


class NoIdentity(FatalError):
    """git has no name or email to write as the author or committer of a commit."""

    kind = "git"


class SigningFailed(FatalError):
    """This clone signs its commits, and git could not sign one."""

    kind = "git"


class RemoteLocked(PushRejected):
    """The remote's ref lock file exists: a push is going on there, or a killed one left it behind.

    Retried like being overtaken; a lock that stays is a stale one on the server (`lock` names it).
    """

    @property
    def lock(self) -> Path:
        found = LOCK.search(self.stderr)
        return Path(os.path.normpath(found[1])) if found else Path("?")
