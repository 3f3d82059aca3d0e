"""Who made a commit: git's verdict on signatures, the trailers of git's own trailer block, signing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from gitcoord.git._process import out
from gitcoord.git._process import run


def can_sign(cwd: Path) -> str | None:
    """None if this clone can sign a commit as its config says, else what git said.

    It signs a commit of the empty tree that nothing refers to (git prunes it in time)."""
    empty = out(["mktree"], cwd, input=b"")
    done = run(["commit-tree", "-S", empty], cwd, input=b"gitcoord: can this clone sign?\n", check=False)
    return None if done.returncode == 0 else done.stderr.decode("utf-8", "replace").strip() or "(no output)"


class SignatureCheck(NamedTuple):
    sha: str
    status: str  # git's %G?: G good, U good but unknown key, N none, B bad, E cannot check, X/Y/R expired or revoked
    principal: str  # %GS: who the allowed signers file says signed it ("" unless G)
    fingerprint: str  # %GK: the signing key's fingerprint, e.g. SHA256:...


def signatures(cwd: Path, commits: Sequence[str], allowed_signers: Path) -> tuple[list[SignatureCheck], str]:
    """git's verdict on each commit's signature against an allowed signers file, in one call; and git's stderr.

    Without an allowed signers file git 2.39 reports a good SSH signature as N, so one is always given."""
    args = [
        "-c",
        f"gpg.ssh.allowedSignersFile={allowed_signers}",
        "log",
        "--stdin",
        "--no-walk=unsorted",
        "--no-show-signature",
        "-z",
        "--format=%H%x1f%G?%x1f%GS%x1f%GK",
    ]
    done = run(args, cwd, input="".join(c + "\n" for c in commits).encode())
    found = []
    for item in done.stdout.decode("utf-8", "replace").split("\0"):
        if item.strip():
            sha, status, principal, fingerprint = item.strip("\n").split("\x1f")
            found.append(SignatureCheck(sha, status, principal, fingerprint))
    return found, done.stderr.decode("utf-8", "replace")


def trailer_values(cwd: Path, commits: Sequence[str], key: str) -> dict[str, list[str]]:
    """The values of trailer `key` in each commit's trailer block, as git parses it, in one call.

    A line that looks like a trailer elsewhere in the message is not in the trailer block, so it
    does not count; git matches the key without regard to case."""
    if not commits:
        return {}
    trailers = f"%(trailers:key={key},valueonly,unfold,separator=%x1f)"
    args = ["log", "--stdin", "--no-walk=unsorted", "--no-show-signature", "-z", f"--format=%H%x1e{trailers}"]
    done = run(args, cwd, input="".join(c + "\n" for c in commits).encode())
    found: dict[str, list[str]] = {}
    for item in done.stdout.decode("utf-8", "replace").split("\0"):
        if item.strip():
            sha, _, values = item.strip("\n").partition("\x1e")
            found[sha] = [v.strip() for v in values.split("\x1f") if v.strip()]
    return found


def message_trailers(cwd: Path, message_file: Path) -> list[tuple[str, str]]:
    """The trailers of a commit message in a file, as git parses its trailer block."""
    text = out(["interpret-trailers", "--parse", str(message_file)], cwd)
    return [(key.strip(), value.strip()) for key, sep, value in (t.partition(":") for t in text.splitlines()) if sep]


def committer_times(cwd: Path, revisions: Sequence[str]) -> dict[str, int]:
    """Each commit of `revisions` with its committer date (seconds since the epoch)."""
    text = out(["log", "--format=%H %ct", *revisions, "--"], cwd)
    return {sha: int(stamp) for sha, stamp in (line.split() for line in text.splitlines() if line)}
