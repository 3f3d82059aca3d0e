"""Refs and history: what points where, moving it safely, and reading the log."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple
from typing import NewType

from gitcoord.git._process import out
from gitcoord.git._process import run
from gitcoord.git.errors import LOCK
from gitcoord.git.errors import RefLocked

Sha = NewType("Sha", str)  # a full object name
Ref = NewType("Ref", str)  # a full ref name, e.g. refs/heads/main
_HEX = frozenset("0123456789abcdef")


def is_object_id(name: str) -> bool:
    """Whether `name` is a full object id (SHA-1 or SHA-256), which names one object for ever."""
    return len(name) in (40, 64) and _HEX.issuperset(name)


HEADS = "refs/heads/"


def symbolic_ref(cwd: Path, name: str) -> str | None:
    """The full name of the ref that symbolic ref `name` points at, if it is one. Not git's short
    name, which a tag of the same name turns into `heads/NAME`: anyone who can push makes tags."""
    done = run(["symbolic-ref", "-q", name], cwd, check=False)
    return done.stdout.decode().strip() or None


def head_branch(cwd: Path) -> str | None:
    """The branch checked out in this worktree (None when HEAD is detached)."""
    ref = symbolic_ref(cwd, "HEAD")
    return ref.removeprefix(HEADS) if ref and ref.startswith(HEADS) else None


_WHOLE_REF = re.compile(r"refs/[^\s~^:?*\[\\]+")  # a ref's full name, with no revision syntax after it


def rev_parse(cwd: Path, rev: str) -> Sha | None:
    """The commit `rev` names. A full ref name names that ref or nothing: git's own lookup tries,
    where the ref is not there, refs/tags/<name> next, which any pusher can make (a tag called
    refs/heads/coord would stand in for a branch that a newcomer's clone does not have yet)."""
    if _WHOLE_REF.fullmatch(rev) and "@{" not in rev:
        return tips(cwd, [Ref(rev)])[Ref(rev)]
    done = run(["rev-parse", "-q", "--verify", rev + "^{commit}"], cwd, check=False)
    return Sha(done.stdout.decode().strip()) if done.returncode == 0 else None


def tips(cwd: Path, refs: Sequence[Ref]) -> dict[Ref, Sha | None]:
    """The commit each of `refs` points at (None where it does not exist): one git process for all."""
    wanted = set(refs)
    found: dict[Ref, Sha | None] = dict.fromkeys(refs)
    listed = out(["for-each-ref", "--format=%(objectname) %(objecttype) %(refname)", *refs], cwd)
    for line in listed.splitlines():
        sha, kind, name = line.split(" ", 2)
        if name in wanted:  # a pattern also lists the refs below it (refs/heads/a/b for refs/heads/a)
            found[Ref(name)] = Sha(sha) if kind == "commit" else rev_parse(cwd, sha)  # a tag: what it tags
    return found


def update_ref(cwd: Path, ref: Ref, new: Sha, old: Sha | None, reason: str) -> bool:
    """Move `ref` from `old` to `new` only if it still points at `old` (compare-and-swap).

    False when it no longer does; RefLocked when another git process is updating it.
    """
    expected = old or "0" * len(new)
    cmd = ["update-ref", "-m", reason, ref, new, expected]
    done = run(cmd, cwd, check=False)
    if done.returncode != 0 and LOCK.search(done.stderr.decode("utf-8", "replace")):
        raise RefLocked(["git", *cmd], done.returncode, done.stdout, done.stderr)
    return done.returncode == 0


def delete_refs(cwd: Path, prefix: str) -> list[Ref]:
    """Delete every ref under `prefix` (e.g. "refs/coord/verified/"); the refs deleted."""
    found = [Ref(r) for r in out(["for-each-ref", "--format=%(refname)", prefix], cwd).split()]
    if found:
        run(["update-ref", "--stdin"], cwd, input="".join(f"delete {r}\n" for r in found).encode())
    return found


def commit_date(cwd: Path, rev: str) -> str:
    """When `rev` was committed, in strict ISO 8601 (the committer date)."""
    return out(["log", "-1", "--format=%cI", rev, "--"], cwd)


def is_ancestor(cwd: Path, ancestor: Sha, descendant: Sha) -> bool:
    return run(["merge-base", "--is-ancestor", ancestor, descendant], cwd, check=False).returncode == 0


def refs_containing(cwd: Path, commit: Sha, prefix: str) -> list[str]:
    """The refs under `prefix` (e.g. "refs/remotes/") whose history holds `commit`."""
    return out(["for-each-ref", "--contains", commit, "--format=%(refname)", prefix], cwd).split()


def ref_names(cwd: Path) -> list[str]:
    """The full name of every ref here."""
    return out(["for-each-ref", "--format=%(refname)"], cwd).split()


def branch_tips(cwd: Path) -> dict[str, Sha]:
    """Every local branch, by name, and its commit."""
    return refs_under(cwd, "refs/heads/")


def refs_under(cwd: Path, prefix: str) -> dict[str, Sha]:
    """Every ref under `prefix` (ending in "/"), by its name after the prefix, and its commit."""
    # The full name, cut here: git shortens refs/heads/coord to heads/coord where a tag coord stands beside it.
    found = out(["for-each-ref", "--format=%(refname) %(objectname)", prefix], cwd).splitlines()
    return {name[len(prefix) :]: Sha(sha) for name, sha in (line.rsplit(" ", 1) for line in found if line)}


def merge_bases(cwd: Path, a: Sha, b: Sha, *more: Sha) -> list[Sha]:
    """All best common ancestors of `a` and `b` (with `more`: of `a` and a merge of `b` and them),
    more than one after criss-cross merges."""
    commits = (a, b, *more)
    if all(map(is_object_id, commits)):
        return list(_merge_bases_of(cwd, commits))
    return list(_merge_bases(cwd, commits))


@functools.lru_cache(maxsize=64)
def _merge_bases_of(cwd: Path, commits: tuple[Sha, ...]) -> tuple[Sha, ...]:
    # Commits named by id never change, nor do their ancestors: a sync asks the same question
    # while it judges, while it checks what its side made void, and when it merges.
    return _merge_bases(cwd, commits)


def forget_merge_bases() -> None:
    """After more history arrived (`remote.deepen`): a base once missing may be there now."""
    _merge_bases_of.cache_clear()


def _merge_bases(cwd: Path, commits: tuple[Sha, ...]) -> tuple[Sha, ...]:
    return tuple(Sha(s) for s in run(["merge-base", "--all", *commits], cwd, check=False).stdout.decode().split())


def merges(cwd: Path, revisions: Sequence[str]) -> list[tuple[Sha, Sha]]:
    """The two parents of each two-parent merge among `revisions`."""
    found = out(["rev-list", "--merges", "--max-parents=2", "--parents", *revisions, "--"], cwd).splitlines()
    return [(Sha(p[1]), Sha(p[2])) for p in (line.split() for line in found) if len(p) == 3]


def merge_base(cwd: Path, a: Sha, b: Sha) -> Sha | None:
    """One best common ancestor (git picks one when there are several), or None."""
    bases = merge_bases(cwd, a, b)
    return bases[0] if bases else None


def ahead_behind(cwd: Path, a: Sha, b: Sha) -> tuple[int, int]:
    """How many commits `a` has that `b` has not, and `b` that `a` has not: one git process."""
    left, right = out(["rev-list", "--left-right", "--count", f"{a}...{b}"], cwd).split()
    return int(left), int(right)


def rev_list_count(cwd: Path, until: Sha, *, since: Sha | None = None) -> int:
    """How many commits `until` has that `since` has not (all of them, without `since`)."""
    return int(out(["rev-list", "--count", f"{since}..{until}" if since else until], cwd))


def first_parent_before(cwd: Path, rev: Sha, moment: int, paths: Sequence[str]) -> Sha | None:
    """The newest commit of `rev`'s first-parent line that changed one of `paths` (pathspecs) and was
    committed at or before `moment` (seconds since the epoch), if its history here reaches back that far."""
    found = out(["rev-list", "--first-parent", "-1", f"--before={moment}", rev, "--", *paths], cwd)
    return Sha(found) if found else None


def rev_list(cwd: Path, revisions: Sequence[str]) -> list[Sha]:
    """The commits of `revisions` (as `git rev-list` takes them), newest first."""
    return [Sha(s) for s in out(["rev-list", *revisions, "--"], cwd).split()]


def reflog(cwd: Path, ref: Ref, *, limit: int) -> list[tuple[Sha, str]]:
    """The latest `limit` moves of `ref`, newest first: the commit it moved to, and the reason given."""
    done = run(["log", "-g", f"-n{limit}", "--format=%H %gs", ref, "--"], cwd, check=False)
    lines = done.stdout.decode("utf-8", "replace").splitlines() if done.returncode == 0 else []
    return [(Sha(sha), said) for sha, _, said in (line.partition(" ") for line in lines)]


def root_commits(cwd: Path, rev: str) -> list[Sha]:
    return [Sha(s) for s in out(["rev-list", "--max-parents=0", rev], cwd).split()]


def worktree_of(cwd: Path, branch: str) -> Path | None:
    """The worktree that has `branch` checked out, if any (git allows one at most)."""
    path = None
    for item in out(["worktree", "list", "--porcelain", "-z"], cwd).split("\0"):
        if item.startswith("worktree "):
            path = Path(item[len("worktree ") :])
        elif item == f"branch refs/heads/{branch}" and path is not None:
            return path
    return None


class LogEntry(NamedTuple):
    sha: Sha
    date: str
    subject: str
    trailers: dict[str, str]
    author: str = ""


_FIELDS = ("%H", "%cI", "%s", "%an", "%(trailers:only,unfold)")


def _between() -> str:
    """A separator for the fields of `git log --format`, which no commit can contain.

    Subjects, names and trailers are anyone's text (a commit message may hold any byte but
    NUL, which -z takes for the records): a fixed separator inside one would shift every
    field after it. This one is new on each call, so no one can write it in advance.
    """
    return f"\x1f{os.urandom(8).hex()}\x1f"


def log(
    cwd: Path, rev: str, *, paths: Sequence[str] = (), limit: int | None = None, every_side: bool = False
) -> list[LogEntry]:
    """Commits reachable from `rev`, newest first, with their trailers.

    With `paths`, git follows one parent of a merge that left them as that parent had them, and
    leaves out what the other side did; `every_side` walks both (`--full-history`): each commit
    that changed them, and each merge whose result neither side had (a conflict settled by hand).
    """
    sep = _between()
    walk = ["--full-history"] if every_side else []
    args = ["log", "-z", *walk, "--format=" + sep.join(_FIELDS), *([f"-n{limit}"] if limit else []), rev, "--", *paths]
    entries = []
    for item in out(args, cwd).split("\0"):
        if item.strip():
            sha, date, subject, author, trailer_text = item.strip("\n").split(sep)
            trailers = dict(line.split(": ", 1) for line in trailer_text.splitlines() if ": " in line)
            entries.append(LogEntry(Sha(sha), date, subject, trailers, author))
    return entries


class Commit(NamedTuple):
    sha: Sha
    parents: tuple[Sha, ...]
    committed: int  # committer date, seconds since the epoch
    subject: str
    message: str


def commits(cwd: Path, revisions: Sequence[str]) -> list[Commit]:
    """The commits of `revisions` (e.g. ["A..B"]), oldest first, parents before children."""
    text = out(["log", "-z", "--reverse", "--topo-order", "--format=%H %P%x1f%ct%x1f%s%x1f%B", *revisions, "--"], cwd)
    found = []
    for item in text.split("\0"):
        if item.strip():
            head, committed, subject, message = item.lstrip("\n").split("\x1f", 3)
            sha, *parents = head.split()
            found.append(Commit(Sha(sha), tuple(Sha(p) for p in parents), int(committed), subject, message))
    return found


class Change(NamedTuple):
    """A commit as the range check sees it."""

    sha: Sha
    parents: tuple[Sha, ...]
    committed: int  # committer date, seconds since the epoch
    instances: tuple[str, ...]  # every Coord-Instance value of its trailer block (git's own parse)
    subject: str
    event: str  # its Coord-Event trailer ("" when it has none)


def changes(cwd: Path, revisions: Sequence[str]) -> list[Change]:
    """The commits of `revisions`, oldest first, parents before children, with the trailers git parses.

    Only the message's trailer block counts: a `Coord-Instance:` line elsewhere in the body is text.
    """
    fields = (
        "%H",
        "%P",
        "%ct",
        "%(trailers:key=Coord-Instance,valueonly,separator=%x1e)",
        "%s",
        "%(trailers:key=Coord-Event,valueonly,separator=%x1e)",
    )
    sep = _between()
    text = out(["log", "-z", "--reverse", "--topo-order", "--format=" + sep.join(fields), *revisions, "--"], cwd)
    found = []
    for item in text.split("\0"):
        if item.strip():
            sha, parents, committed, instances, subject, event = item.lstrip("\n").split(sep)
            names = tuple(n.strip() for n in instances.split("\x1e") if n.strip())
            events = [e.strip() for e in event.split("\x1e") if e.strip()]
            one = events[0] if len(events) == 1 else ""
            found.append(Change(Sha(sha), tuple(Sha(p) for p in parents.split()), int(committed), names, subject, one))
    return found


def last_touched(cwd: Path, commit: Sha, path: str) -> Sha | None:
    """The last commit of `commit`'s history (itself included) that changed `path`, if any."""
    # --full-history: a merge that took `path` unchanged from one parent must not hide the side
    # where it was deleted (or made).
    found = out(["rev-list", "-n1", "--full-history", commit, "--", path], cwd)
    return Sha(found) if found else None


def introduced(cwd: Path, commit: Sha, path: str) -> Sha | None:
    """The commit that wrote the version of `path` that `commit` holds: git's history simplification
    follows, at a merge, the parent the merge took `path` from."""
    found = out(["rev-list", "-n1", commit, "--", path], cwd)
    return Sha(found) if found else None


def path_history(cwd: Path, commit: Sha, path: str) -> list[tuple[Sha, tuple[Sha, ...]]]:
    """The commits of `commit`'s history, newest first, that change `path` against any of their
    parents (a merge too, whichever parent it took the file from), each with its parents."""
    found: dict[Sha, tuple[Sha, ...]] = {}
    for line in out(["log", "-m", "--full-history", "--format=%H %P", commit, "--", path], cwd).splitlines():
        sha, *parents = line.split()
        found.setdefault(Sha(sha), tuple(Sha(p) for p in parents))
    return list(found.items())


def last_deleted(cwd: Path, commit: Sha, path: str) -> Sha | None:
    """The last commit of `commit`'s history that deleted `path`, if any."""
    found = out(["log", "-n1", "--format=%H", "--diff-filter=D", commit, "--", path], cwd)
    return Sha(found) if found else None


def author(cwd: Path, commit: Sha) -> str:
    """Who made `commit`, as git records it: "Name <email>"."""
    return out(["log", "-n1", "--format=%an <%ae>", commit, "--"], cwd)


def is_branch_name(cwd: Path, name: str) -> bool:
    """Whether git takes `name` as a branch name (`git check-ref-format --branch`)."""
    return run(["check-ref-format", "--branch", name], cwd, check=False).returncode == 0
