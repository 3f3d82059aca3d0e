"""Every git call gitcoord makes. Nothing else runs git.

git is driven through its command line: plumbing for the coordination branch, so that an
instance on any branch, in any worktree, commits coordination events without touching its
checkout; porcelain only where a person's working tree must follow.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple
from typing import NewType

from gitcoord.errors import FatalError
from gitcoord.errors import GitError

Sha = NewType("Sha", str)  # a full object name
Ref = NewType("Ref", str)  # a full ref name, e.g. refs/heads/main

# Inside a hook or a merge driver, git exports these; they would point commands aimed at
# another repository (a clone, a remote) back at the one running the hook.
_REPO_ENV = ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_PREFIX", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_ENV}
    env.update(extra or {})
    return env


def run(
    args: Sequence[str],
    cwd: Path,
    *,
    input: bytes | None = None,  # noqa: A002 (subprocess's own name)
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    cmd = ["git", *args]
    try:
        done = subprocess.run(cmd, cwd=cwd, input=input, env=env, capture_output=True, check=False)
    except FileNotFoundError:
        raise FatalError("git is not installed or not on PATH; install git 2.38 or newer") from None
    if check and done.returncode != 0:
        raise GitError(cmd, done.returncode, done.stdout, done.stderr)
    return done


def out(args: Sequence[str], cwd: Path, **kwargs: object) -> str:
    return run(args, cwd, **kwargs).stdout.decode("utf-8", "replace").strip()  # type: ignore[arg-type]


class Repo(NamedTuple):
    root: Path  # the working tree's top level
    git_dir: Path  # this worktree's git directory
    common_dir: Path  # shared by all worktrees: refs, objects, config


def discover(cwd: Path) -> Repo:
    args = ["rev-parse", "--path-format=absolute", "--show-toplevel", "--git-dir", "--git-common-dir"]
    done = run(args, cwd, check=False)
    if done.returncode != 0:
        if b"work tree" in done.stderr:
            raise FatalError(f"{cwd} is a bare repository; run coord in a clone with a working tree")
        raise FatalError(f"{cwd} is not in a git repository; run `git init` there first, or cd into a repository")
    root, git_dir, common = done.stdout.decode().splitlines()
    return Repo(Path(root), Path(git_dir), Path(common))


def config(cwd: Path, prefix: str) -> dict[str, str]:
    """Every config value whose name starts with `prefix` (last one wins)."""
    done = run(["config", "-z", "--get-regexp", "^" + prefix.replace(".", r"\.")], cwd, check=False)
    values: dict[str, str] = {}
    for item in done.stdout.decode("utf-8", "replace").split("\0"):
        if item:
            key, _, value = item.partition("\n")
            values[key] = value
    return values


def set_config(cwd: Path, key: str, value: str) -> None:
    run(["config", key, value], cwd)


def head_branch(cwd: Path) -> str | None:
    """The branch checked out in this worktree (None when HEAD is detached)."""
    done = run(["symbolic-ref", "-q", "--short", "HEAD"], cwd, check=False)
    return done.stdout.decode().strip() or None


def rev_parse(cwd: Path, rev: str) -> Sha | None:
    done = run(["rev-parse", "-q", "--verify", rev + "^{commit}"], cwd, check=False)
    return Sha(done.stdout.decode().strip()) if done.returncode == 0 else None


def read_blobs(cwd: Path, specs: Sequence[str]) -> list[bytes | None]:
    """The contents of `rev:path` specs in one git call; None for those that do not exist."""
    if not specs:
        return []
    # The request is a few lines (well under a pipe's buffer), so it is written whole before
    # the answer is read in one go: no polling loop over what can be tens of megabytes.
    proc = subprocess.Popen(
        ["git", "cat-file", "--batch"], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write("".join(s + "\n" for s in specs).encode())
    proc.stdin.close()
    data = proc.stdout.read()
    proc.stdout.close()
    stderr = proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    if proc.wait() != 0:
        raise GitError(["git", "cat-file", "--batch"], proc.returncode, data, stderr)
    pos = 0
    found: list[bytes | None] = []
    for _ in specs:
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


def hash_object(cwd: Path, data: bytes) -> Sha:
    return Sha(out(["hash-object", "-w", "--stdin"], cwd, input=data))


class TreeEntry(NamedTuple):
    mode: str
    type: str
    sha: str
    name: str


def ls_tree(cwd: Path, treeish: str) -> list[TreeEntry]:
    done = run(["ls-tree", "-z", treeish], cwd, check=False)
    if done.returncode != 0:
        return []
    entries = []
    for item in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if item:
            meta, _, name = item.partition("\t")
            mode, kind, sha = meta.split()
            entries.append(TreeEntry(mode, kind, sha, name))
    return entries


def mktree(cwd: Path, entries: Iterable[TreeEntry]) -> Sha:
    text = "".join(f"{e.mode} {e.type} {e.sha}\t{e.name}\0" for e in entries)
    return Sha(out(["mktree", "-z"], cwd, input=text.encode("utf-8", "surrogateescape")))


def write_tree(cwd: Path, base: Sha | None, files: Mapping[str, Sha]) -> Sha:
    """The tree of commit `base` with `files` (path -> blob) put in, rebuilding only the trees on their paths."""
    return _put(cwd, f"{base}^{{tree}}" if base else None, [(p.split("/"), sha) for p, sha in files.items()])


def _put(cwd: Path, tree: str | None, changes: list[tuple[list[str], Sha]]) -> Sha:
    entries = {e.name: e for e in ls_tree(cwd, tree)} if tree else {}
    below: dict[str, list[tuple[list[str], Sha]]] = {}
    for parts, sha in changes:
        if len(parts) == 1:
            entries[parts[0]] = TreeEntry("100644", "blob", sha, parts[0])
        else:
            below.setdefault(parts[0], []).append((parts[1:], sha))
    for name, sub in below.items():
        old = entries.get(name)
        entries[name] = TreeEntry("040000", "tree", _put(cwd, old.sha if old else None, sub), name)
    return mktree(cwd, entries.values())


def commit_tree(cwd: Path, tree: Sha, parents: Sequence[str], message: str) -> Sha:
    # commit-tree is plumbing and ignores commit.gpgSign (checked with git 2.39), so a clone
    # that signs its commits gets -S here, as `git commit` would sign them.
    sign = config_bool(cwd, "commit.gpgsign")
    args = ["commit-tree", *(["-S"] if sign else []), tree, *(a for p in parents for a in ("-p", p))]
    try:
        return Sha(out(args, cwd, input=message.encode()))
    except GitError as e:
        if not sign:
            raise
        raise FatalError(
            f"git could not sign the commit:\n{e.stderr.strip()}\nThis clone signs its commits (commit.gpgSign): "
            "`coord key show` shows its key; `coord install --as INSTANCE` sets signing up again"
        ) from None


def update_ref(cwd: Path, ref: str, new: Sha, old: Sha | None, reason: str) -> bool:
    """Move `ref` from `old` to `new` only if it still points at `old`: compare-and-swap."""
    expected = old or "0" * len(new)
    return run(["update-ref", "-m", reason, ref, new, expected], cwd, check=False).returncode == 0


def is_ancestor(cwd: Path, ancestor: str, descendant: str) -> bool:
    return run(["merge-base", "--is-ancestor", ancestor, descendant], cwd, check=False).returncode == 0


def worktree_of(cwd: Path, branch: str) -> Path | None:
    """The worktree that has `branch` checked out, if any (git allows one at most)."""
    text = out(["worktree", "list", "--porcelain", "-z"], cwd)
    path = None
    for item in text.split("\0"):
        if item.startswith("worktree "):
            path = Path(item[len("worktree ") :])
        elif item == f"branch refs/heads/{branch}" and path is not None:
            return path
    return None


def add(cwd: Path, paths: Sequence[str]) -> None:
    run(["add", "--", *paths], cwd)


def commit(cwd: Path, message: str, paths: Sequence[str]) -> None:
    """Commit just `paths` as they are in the working tree, whatever else is staged."""
    run(["commit", "-q", "--no-verify", "-m", message, "--", *paths], cwd)


class LogEntry(NamedTuple):
    sha: str
    date: str
    subject: str
    trailers: dict[str, str]


_FIELDS = ("%H", "%cI", "%s", "%(trailers:only,unfold)")


def log(cwd: Path, ref: str, *, paths: Sequence[str] = (), limit: int | None = None) -> list[LogEntry]:
    """Commits reachable from `ref`, newest first, with their trailers."""
    args = ["log", "-z", "--format=" + "%x1f".join(_FIELDS), *([f"-n{limit}"] if limit else []), ref, "--", *paths]
    entries = []
    for item in out(args, cwd).split("\0"):
        if item.strip():
            sha, date, subject, trailer_text = item.strip("\n").split("\x1f")
            trailers = dict(line.split(": ", 1) for line in trailer_text.splitlines() if ": " in line)
            entries.append(LogEntry(sha, date, subject, trailers))
    return entries


class Commit(NamedTuple):
    sha: str
    parents: tuple[str, ...]
    message: str


def commits(cwd: Path, revisions: Sequence[str]) -> list[Commit]:
    """The commits of `revisions` (e.g. ["A..B"]), oldest first, parents before children."""
    text = out(["log", "-z", "--reverse", "--topo-order", "--format=%H %P%x1f%B", *revisions, "--"], cwd)
    found = []
    for item in text.split("\0"):
        if item.strip():
            head, _, message = item.lstrip("\n").partition("\x1f")
            sha, *parents = head.split()
            found.append(Commit(sha, tuple(parents), message))
    return found


def object_ids(cwd: Path, specs: Sequence[str]) -> list[str | None]:
    """The object id each `rev:path` spec names, or None, in one git call."""
    if not specs:
        return []
    done = run(
        ["cat-file", "--batch-check=%(objectname) %(objecttype)"], cwd, input="".join(s + "\n" for s in specs).encode()
    )
    ids: list[str | None] = []
    for line in done.stdout.decode().splitlines():
        parts = line.split()
        ids.append(parts[0] if len(parts) == 2 and parts[1] == "blob" else None)
    return ids


def merge_base(cwd: Path, a: str, b: str) -> str | None:
    """One best common ancestor (git picks one when there are several), or None."""
    bases = merge_bases(cwd, a, b)
    return bases[0] if bases else None


def changed_paths(cwd: Path, a: str, b: str) -> set[str]:
    """The paths of the files that differ between commits `a` and `b`."""
    done = run(["diff-tree", "-r", "-z", "--name-only", "--no-renames", a, b], cwd)
    return {p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p}


def merge_bases(cwd: Path, a: str, b: str) -> list[str]:
    """All best common ancestors: more than one after criss-cross merges."""
    return run(["merge-base", "--all", a, b], cwd, check=False).stdout.decode().split()


# Signing and who acted --------------------------------------------------------------------


def _parsed_env() -> dict[str, str]:
    # The environment as it is (inside a pre-receive hook it points at the quarantined
    # objects) with git's messages in English, since they are parsed.
    return {**os.environ, "LC_ALL": "C"}


def config_bool(cwd: Path, key: str) -> bool:
    done = run(["config", "--type=bool", "--get", key], cwd, check=False)
    return done.stdout.decode().strip() == "true"


def config_values(cwd: Path, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
    """The value and scope (local, global, system, ...) of each of `keys` that is set (the last one wins)."""
    pattern = "^(" + "|".join(k.lower().replace(".", r"\.") for k in keys) + ")$"
    done = run(["config", "-z", "--show-scope", "--get-regexp", pattern], cwd, check=False)
    items = done.stdout.decode("utf-8", "replace").split("\0")
    values: dict[str, tuple[str, str]] = {}
    for scope, item in zip(items[0::2], items[1::2], strict=False):  # -z --show-scope: scope NUL key LF value NUL
        key, _, value = item.partition("\n")
        values[key] = (value, scope)
    return values


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
    done = run(args, cwd, input="".join(c + "\n" for c in commits).encode(), env=_parsed_env())
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
    done = run(args, cwd, input="".join(c + "\n" for c in commits).encode(), env=_parsed_env())
    found: dict[str, list[str]] = {}
    for item in done.stdout.decode("utf-8", "replace").split("\0"):
        if item.strip():
            sha, _, values = item.strip("\n").partition("\x1e")
            found[sha] = [v.strip() for v in values.split("\x1f") if v.strip()]
    return found


def message_trailers(cwd: Path, message_file: Path) -> list[tuple[str, str]]:
    """The trailers of a commit message in a file, as git parses its trailer block."""
    text = out(["interpret-trailers", "--parse", str(message_file)], cwd, env=_parsed_env())
    return [(key.strip(), value.strip()) for key, sep, value in (t.partition(":") for t in text.splitlines()) if sep]


def committer_times(cwd: Path, revisions: Sequence[str]) -> dict[str, int]:
    """Each commit of `revisions` with its committer date (seconds since the epoch)."""
    text = out(["log", "--format=%H %ct", *revisions, "--"], cwd, env=_parsed_env())
    return {sha: int(stamp) for sha, stamp in (line.split() for line in text.splitlines() if line)}


def is_bare(cwd: Path) -> bool:
    return run(["rev-parse", "--is-bare-repository"], cwd, check=False).stdout.decode().strip() == "true"


def hooks_dir(cwd: Path) -> Path:
    """Where this repository's hooks live (core.hooksPath, else hooks/ in its git directory)."""
    return Path(out(["rev-parse", "--path-format=absolute", "--git-path", "hooks"], cwd))
