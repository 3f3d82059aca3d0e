"""Objects: blobs read and written in batches through one kept reader, commits, merges."""

from __future__ import annotations

import atexit
import contextlib
import re
import subprocess
import threading
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple
from typing import TypeVar

from gitcoord.git._process import classify
from gitcoord.git._process import clean_env
from gitcoord.git._process import english
from gitcoord.git._process import out
from gitcoord.git._process import run
from gitcoord.git.errors import GitError
from gitcoord.git.errors import GitMissing
from gitcoord.git.errors import MergeTreeConflict
from gitcoord.git.errors import NoIdentity
from gitcoord.git.errors import SigningFailed
from gitcoord.git.refs import Sha
from gitcoord.git.refs import is_object_id
from gitcoord.git.repo import config_bool


def read_blobs(cwd: Path, specs: Sequence[str]) -> list[bytes | None]:
    """The contents of `rev:path` specs (or blob ids); None for those that do not exist.

    Specs that name their commit or blob by id go to one `git cat-file --batch` that the
    process keeps for its repository: a sync or a step reads the store at five or six commits,
    and a git process for each costs more than the reading. An object named by id is the
    same whenever it is read, so nothing the process holds can be stale; a spec that names a
    ref, which may move, gets a process of its own.
    """
    if not specs:
        return []
    if all(_by_id(s) for s in specs):
        with _READER_LOCK:
            return _read_kept(cwd, specs)
    return _read_once(cwd, specs)


def _by_id(spec: str) -> bool:
    return is_object_id(spec.split(":", 1)[0])


class _Reader:
    """One `git cat-file --batch-command` in `cwd`, asked again and again: for objects' contents,
    or only for what they are (`info`: id, type and size, nothing inflated)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        pipe = subprocess.PIPE
        self.proc = subprocess.Popen(
            ["git", "cat-file", "--batch-command"],
            cwd=cwd,
            stdin=pipe,
            stdout=pipe,
            stderr=subprocess.DEVNULL,
            env=english(),
        )

    def read(self, specs: Sequence[str], kind: bytes = b"blob") -> list[bytes | None]:
        return [answer if isinstance(answer, bytes) else None for answer in self._ask("contents", specs, kind)]

    def info(self, specs: Sequence[str]) -> list[Info | None]:
        return [answer if isinstance(answer, Info) else None for answer in self._ask("info", specs, b"")]

    def _ask(self, command: str, specs: Sequence[str], kind: bytes) -> list[bytes | Info | None]:
        found: list[bytes | Info | None] = []
        # A batch of lines well under a pipe's buffer, written whole, then its answers read in
        # turn: git cannot be left blocked on answers no one reads while the request is written
        # (a first contact asks for the trees of thousands of commits).
        for n in range(0, len(specs), _BATCH):
            found += self._answers(command, specs[n : n + _BATCH], kind)
        return found

    def _answers(self, command: str, specs: Sequence[str], kind: bytes) -> list[bytes | Info | None]:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write("".join(f"{command} {s}\n" for s in specs).encode())
        stdin.flush()
        found: list[bytes | Info | None] = []
        for _ in specs:
            header = stdout.readline().split()
            if not header:
                raise BrokenPipeError("git cat-file --batch-command stopped")
            if header[-1] == b"missing" or header[-1] == b"ambiguous":
                found.append(None)
            elif command == "info":
                found.append(Info(Sha(header[0].decode()), header[1].decode(), int(header[2])))
            else:
                data = stdout.read(int(header[2]) + 1)[:-1]
                found.append(data if header[1] == kind else None)
        return found

    def close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self.proc.wait()


class Info(NamedTuple):
    """What an object is, without its contents."""

    sha: Sha
    type: str
    size: int


_T = TypeVar("_T")
_BATCH = 200  # specs per write: some 20 KB at most, well under a pipe's 64 KB

_READER_LOCK = threading.Lock()
_kept: _Reader | None = None  # one at a time: a command works in one repository


def _read_kept(cwd: Path, specs: Sequence[str], kind: bytes = b"blob") -> list[bytes | None]:
    """Objects of type `kind` through the reader kept for `cwd`."""
    return _with_reader(cwd, lambda reader: reader.read(specs, kind))


def _with_reader(cwd: Path, ask: Callable[[_Reader], _T]) -> _T:
    """`ask` of the reader kept for `cwd` (replacing one kept for another repository, or one that stopped)."""
    global _kept  # noqa: PLW0603 (the one reader this process keeps)
    for attempt in (1, 2):
        if _kept is None or _kept.cwd != cwd or _kept.proc.poll() is not None:
            _close_reader()
            _kept = _Reader(cwd)
        try:
            return ask(_kept)
        except (BrokenPipeError, ValueError, IndexError):
            _close_reader()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _close_reader() -> None:
    global _kept  # noqa: PLW0603
    if _kept is not None:
        _kept.close()
        _kept = None


atexit.register(_close_reader)


def _read_once(cwd: Path, specs: Sequence[str]) -> list[bytes | None]:
    # The request is a few lines (well under a pipe's buffer), so it is written whole before
    # the answer is read in one go: no polling loop over what can be tens of megabytes.
    cmd = ["git", "cat-file", "--batch"]
    pipe = subprocess.PIPE
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=pipe, stdout=pipe, stderr=pipe, env=english())
    assert proc.stdin is not None
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdin.write("".join(s + "\n" for s in specs).encode())
    proc.stdin.close()
    data = proc.stdout.read()
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.stderr.close()
    if proc.wait() != 0:
        raise GitError(cmd, proc.returncode, data, stderr)
    return _batch_contents(data, len(specs))


def object_infos(cwd: Path, specs: Sequence[str]) -> list[Info | None]:
    """What each of the specs (named by id, as for the kept reader) is; nothing inflated."""
    with _READER_LOCK:
        return _with_reader(cwd, lambda reader: reader.info(specs))


def read_trees(cwd: Path, specs: Sequence[str]) -> list[bytes | None]:
    """Raw tree objects (`TREE`, or `COMMIT^{tree}`) through the kept reader; None where there is none."""
    with _READER_LOCK:
        return _read_kept(cwd, specs, kind=b"tree")


def _batch_contents(data: bytes, count: int) -> list[bytes | None]:
    pos = 0
    found: list[bytes | None] = []
    for _ in range(count):
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if header[-1] == b"missing":
            found.append(None)
            continue
        size = int(header[2])
        found.append(data[pos : pos + size] if header[1] == b"blob" else None)
        pos += size + 1
    return found


def object_ids(cwd: Path, specs: Sequence[str]) -> list[Sha | None]:
    """The blob id each `rev:path` spec names, or None, in one git call."""
    if not specs:
        return []
    request = "".join(s + "\n" for s in specs).encode()
    ids: list[Sha | None] = []
    for line in out(["cat-file", "--batch-check=%(objectname) %(objecttype)"], cwd, input=request).splitlines():
        parts = line.split()
        ids.append(Sha(parts[0]) if len(parts) == 2 and parts[1] == "blob" else None)
    return ids


def hash_object(cwd: Path, data: bytes) -> Sha:
    return Sha(out(["hash-object", "-w", "--stdin"], cwd, input=data))


def hash_objects_meanwhile(cwd: Path, blobs: Sequence[bytes]) -> Callable[[], list[Sha]]:
    """Write `blobs` as objects in a thread of its own while the caller goes on (git deflates and
    hashes them on another core); the function returned waits for their ids, in order, and
    raises what writing them raised. Nothing refers to them until the caller does."""
    ids: list[Sha] = []
    failed: list[BaseException] = []

    def write() -> None:
        try:
            ids.extend(_hash_streamed(cwd, data) for data in blobs)
        except BaseException as e:  # handed to the caller, who raises it
            failed.append(e)

    worker = threading.Thread(target=write, name="coord-hash-objects", daemon=True)
    worker.start()

    def result() -> list[Sha]:
        worker.join()
        if failed:
            raise failed[0]
        return ids

    return result


def _hash_streamed(cwd: Path, data: bytes) -> Sha:
    """`hash_object`, its input written in one call that lets go of the interpreter while the pipe is
    full (`communicate` writes a page at a time, taking it back for each): git answers only once
    it has read everything, so the pipes cannot fill the other way."""
    cmd = ["git", "hash-object", "-w", "--stdin"]
    try:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=english(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except FileNotFoundError:
        raise GitMissing("git is not installed or not on PATH; install git 2.38 or newer") from None
    assert proc.stdin is not None
    assert proc.stdout is not None
    assert proc.stderr is not None
    with contextlib.suppress(BrokenPipeError):  # git stopped reading: what it says follows
        proc.stdin.write(data)
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.close()
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    done = subprocess.CompletedProcess(cmd, proc.wait(), stdout, stderr)
    proc.stdout.close()
    proc.stderr.close()
    if done.returncode != 0:
        raise classify(cmd, done)
    return Sha(stdout.decode("utf-8", "replace").strip())


# What git says, in English (see ENGLISH), when it has no author or committer to write.
_NO_IDENTITY = re.compile(rb"(Author|Committer) identity unknown|unable to auto-detect email address")


def commit_tree(
    cwd: Path, tree: Sha, parents: Sequence[Sha], message: str, *, date: int | None = None, key: str | None = None
) -> Sha:
    """A commit of `tree`, signed if the clone signs its commits (with `key`, a key file, where given:
    else the one it signs with); `date` (seconds since the epoch) dates it as the event it records.

    commit-tree is plumbing and ignores commit.gpgSign (checked with git 2.39), so a clone that
    signs its commits gets -S here, as `git commit` would sign them.
    """
    sign = config_bool(cwd, "commit.gpgsign")
    chosen = ["-c", f"user.signingkey={key}"] if key and sign else []
    args = [*chosen, "commit-tree", *(["-S"] if sign else []), tree, *(a for p in parents for a in ("-p", p))]
    env = clean_env({"GIT_AUTHOR_DATE": f"@{date} +0000", "GIT_COMMITTER_DATE": f"@{date} +0000"}) if date else None
    done = run(args, cwd, input=message.encode(), env=env, check=False)
    if done.returncode != 0:
        if _NO_IDENTITY.search(done.stderr):
            raise NoIdentity(
                "git does not know who commits in this clone (no user.name or user.email): set them with "
                "`git config user.name NAME` and `git config user.email EMAIL` (or --global); nothing was committed"
            )
        if sign:
            raise SigningFailed(
                f"git could not sign the commit:\n{done.stderr.decode('utf-8', 'replace').strip()}\n"
                "This clone signs its commits (commit.gpgSign): `coord key show` shows its key; "
                "`coord install --as INSTANCE` sets signing up again"
            )
        raise GitError(["git", *args], done.returncode, done.stdout, done.stderr)
    return Sha(done.stdout.decode().strip())


def merge_tree(cwd: Path, ours: Sha, theirs: Sha, *, config: Mapping[str, str] | None = None) -> Sha:
    """The tree of the merge of two commits, touching no checkout; MergeTreeConflict when it needs a person."""
    settings = [a for key, value in (config or {}).items() for a in ("-c", f"{key}={value}")]
    cmd = ["git", *settings, "merge-tree", "--write-tree", "--messages", ours, theirs]
    done = run(cmd[1:], cwd, check=False)
    if done.returncode == 1:
        raise MergeTreeConflict(cmd, done.returncode, done.stdout, done.stderr)
    if done.returncode != 0:
        raise GitError(cmd, done.returncode, done.stdout, done.stderr)
    return Sha(done.stdout.decode("utf-8", "replace").split("\n", 1)[0])
