"""Running one git command: in English, and with its failure classified."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

from gitcoord.git.errors import LOCK
from gitcoord.git.errors import GitError
from gitcoord.git.errors import GitMissing
from gitcoord.git.errors import IndexLocked
from gitcoord.git.errors import RefLocked
from gitcoord.git.errors import TimedOut
from gitcoord.git.errors import WouldOverwrite

# Inside a hook or a merge driver, git exports these; they would point commands aimed at
# another repository (a clone, a remote) back at the one running the hook.
_REPO_ENV = ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_PREFIX", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY")
# git's messages untranslated, so that what this package parses reads the same everywhere;
# and replace refs ignored: anyone who may push a ref could otherwise have every git command
# here (the gate's and the checker's too) show another commit in place of the one named.
ENGLISH = {"LC_ALL": "C", "LANGUAGE": "C", "GIT_NO_REPLACE_OBJECTS": "1"}


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_ENV}
    env.update(extra or {})
    return env


def english(env: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**(os.environ if env is None else env), **ENGLISH}


def run(
    args: Sequence[str],
    cwd: Path | None,
    *,
    input: bytes | None = None,  # noqa: A002 (subprocess's own name)
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    cmd = ["git", *args]
    try:
        done = subprocess.run(cmd, cwd=cwd, input=input, env=english(env), capture_output=True, check=False)
    except FileNotFoundError:
        raise GitMissing("git is not installed or not on PATH; install git 2.38 or newer") from None
    if check and done.returncode != 0:
        raise classify(cmd, done)
    return done


def run_within(
    args: Sequence[str], cwd: Path, *, timeout: float, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run git for at most `timeout` seconds, never asking anyone for anything; TimedOut past it.

    git runs in a session of its own, so that on time out the helpers it started (ssh, a
    credential helper, git-upload-pack) are stopped with it, not left behind.
    """
    cmd = ["git", *args]
    quiet = {**english(env), "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=quiet,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise GitMissing("git is not installed or not on PATH; install git 2.38 or newer") from None
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise TimedOut(cmd, -1, b"", f"no answer within {timeout:g} s".encode()) from None
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    import signal

    if hasattr(os, "killpg"):  # POSIX: the whole session git started
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.kill()
    proc.communicate()


def out(args: Sequence[str], cwd: Path, *, input: bytes | None = None) -> str:  # noqa: A002
    return run(args, cwd, input=input).stdout.decode("utf-8", "replace").strip()


def names(args: Sequence[str], cwd: Path) -> list[str]:
    """The NUL-separated paths a `-z` command prints."""
    return [p for p in run(args, cwd).stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def classify(cmd: Sequence[str], done: subprocess.CompletedProcess[bytes]) -> GitError:
    """The exception that says what went wrong, from what git said (in English: see ENGLISH)."""
    said = done.stderr.decode("utf-8", "replace")
    kind: type[GitError] = GitError
    lock = LOCK.search(said)
    if lock:
        kind = IndexLocked if lock[1].endswith("index.lock") else RefLocked
    elif "would be overwritten" in said or "not uptodate. Cannot merge" in said:
        kind = WouldOverwrite
    return kind(cmd, done.returncode, done.stdout, done.stderr)
