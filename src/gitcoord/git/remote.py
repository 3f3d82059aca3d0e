"""Exchanging commits with a remote: fetch, and push told apart from being overtaken."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gitcoord.git._process import run
from gitcoord.git._process import run_within
from gitcoord.git.errors import LOCK
from gitcoord.git.errors import FetchFailed
from gitcoord.git.errors import PushFailed
from gitcoord.git.errors import PushRejected
from gitcoord.git.errors import RefAmbiguous
from gitcoord.git.errors import RefLocked
from gitcoord.git.errors import RemoteLocked
from gitcoord.git.errors import RemoteRefMissing
from gitcoord.git.refs import Ref
from gitcoord.git.refs import Sha
from gitcoord.git.refs import forget_merge_bases


def fetch(cwd: Path, remote: str, ref: Ref, into: Ref) -> None:
    """Fetch `remote`'s `ref` into the local ref `into` (forced: it tracks the remote).

    RemoteRefMissing when the remote has no such ref; FetchFailed for the rest.
    """
    cmd = ["fetch", "--quiet", "--no-tags", remote, f"+{ref}:{into}"]
    done = run(cmd, cwd, check=False)
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace")
        if "couldn't find remote ref" in said:
            raise RemoteRefMissing(["git", *cmd], done.returncode, done.stdout, done.stderr)
        if LOCK.search(said):  # our own tracking ref's lock, left by a killed fetch or held by one running
            raise RefLocked(["git", *cmd], done.returncode, done.stdout, done.stderr)
        raise FetchFailed(["git", *cmd], done.returncode, done.stdout, done.stderr)


# A push the remote refused because it moved (fetch and try again), as opposed to one refused
# for good (a hook or a rule declined it): the reasons git gives on its status lines.
_OVERTAKEN = (
    "[rejected]",  # refused before sending: fetch first, non-fast-forward, stale info
    "fetch first",
    "non-fast-forward",
    "stale info",
    "failed to update ref",  # another push moved it while this one was received
    "cannot lock ref",
    "failed to lock",
)


def push(cwd: Path, remote: str, commit: Sha, ref: Ref) -> None:
    """Push `commit` to `ref` on `remote`, without this clone's pre-push hook.

    PushRejected when the remote moved first; PushFailed when it refused for good or is unreachable.
    """
    push_atomic(cwd, remote, [(commit, ref)])


def push_atomic(cwd: Path, remote: str, updates: Sequence[tuple[Sha, Ref]]) -> None:
    """Push each commit to its ref on `remote`, all or none (`git push --atomic`), as `push` does one."""
    atomic = ["--atomic"] if len(updates) > 1 else []
    cmd = ["push", "--porcelain", "--no-verify", *atomic, remote, *(f"{c}:{r}" for c, r in updates)]
    done = run(cmd, cwd, check=False)
    if done.returncode != 0:
        kind: type[PushFailed] = PushFailed
        said = done.stderr.decode("utf-8", "replace")
        if LOCK.search(said):
            kind = RemoteLocked
        elif "matches more than one" in said:
            kind = RefAmbiguous
        elif _overtaken(done.stdout.decode("utf-8", "replace"), done.stderr):
            kind = PushRejected
        raise kind(["git", *cmd], done.returncode, done.stdout, done.stderr)


def _overtaken(stdout: str, stderr: bytes) -> bool:
    # The porcelain status line of a refused ref: "!<TAB>from:to<TAB>[rejected] (fetch first)".
    refused = [line for line in stdout.splitlines() if line.startswith("!\t")]
    said = "\n".join(refused) if refused else stderr.decode("utf-8", "replace")  # none: it never got that far
    return any(sign in said for sign in _OVERTAKEN)


def fetch_within(cwd: Path, remote: str, ref: Ref, into: Ref, *, timeout: float) -> None:
    """`fetch`, given at most `timeout` seconds: TimedOut past them (nothing is asked of anyone)."""
    cmd = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote, f"+{ref}:{into}"]
    done = run_within(cmd, cwd, timeout=timeout)
    if done.returncode != 0:
        kind = RemoteRefMissing if b"couldn't find remote ref" in done.stderr else FetchFailed
        raise kind(["git", *cmd], done.returncode, done.stdout, done.stderr)


def ls_remote(cwd: Path, remote: str, ref: Ref, *, timeout: float) -> Sha | None:
    """The commit `ref` points at on `remote` (None: no such ref), asked in one round trip."""
    cmd = ["ls-remote", "--quiet", remote, ref]
    done = run_within(cmd, cwd, timeout=timeout)
    if done.returncode != 0:
        raise FetchFailed(["git", *cmd], done.returncode, done.stdout, done.stderr)
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        sha, _, name = line.partition("\t")
        if name == ref:
            return Sha(sha)
    return None


def remote_url(cwd: Path, remote: str) -> str | None:
    """Where `remote` fetches from; None when this clone has no such remote."""
    done = run(["config", "--get", f"remote.{remote}.url"], cwd, check=False)
    return done.stdout.decode("utf-8", "replace").strip() or None


def deepen(cwd: Path, remote: str, ref: Ref, into: Ref, *, by: int) -> None:
    """Fetch `by` more commits of `ref`'s history below what a shallow clone holds (all of it once
    that reaches the root: git then drops the shallow boundary)."""
    run(["fetch", "--quiet", "--no-tags", f"--deepen={by}", remote, f"+{ref}:{into}"], cwd)
    forget_merge_bases()
