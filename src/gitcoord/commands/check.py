"""`coord check`: the rules that need history, on the staged change or over a range of commits.

Client-side hooks can be skipped (`--no-verify`, rebase, cherry-pick, a merge button), so
CI and the server's gate replay every commit of a push or a pull request through the same
checks (`replay.py`, commit by commit in `judge.py`): schema, invariants, transitions and authorization, every commit
against its parent's state.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gitcoord import checkout
from gitcoord import clock
from gitcoord import expected
from gitcoord import git
from gitcoord import judge
from gitcoord import model
from gitcoord import range_loader
from gitcoord import replay
from gitcoord import trust
from gitcoord import validation
from gitcoord import workspace
from gitcoord.errors import BadUsage
from gitcoord.errors import FatalError
from gitcoord.escape import safe
from gitcoord.findings import Finding
from gitcoord.model import Doc
from gitcoord.output import Output
from gitcoord.output import workflow_escape


def check_range(
    root: Path, revisions: Sequence[str], *, joins: Doc | None = None, line: str | None = None
) -> replay.Verdict:
    return replay.check_range(root, revisions, now=clock.now(), joins=joins, line=line)


def check_staged(ws: workspace.Workspace) -> replay.Verdict:
    """The index against HEAD (and, while a merge is being concluded, against what merging gives)."""
    root = ws.root
    if checkout.moving(ws.repo.common_dir, ws.ref):
        # A person's commit begun while a step moves the branch: HEAD may be the step's, the index
        # not yet, and the commit would undo the step. Judged, it would read as records deleted.
        message = (
            f"a coord step is bringing this checkout up to {ws.branch} (or was cut off doing so), so HEAD and "
            "the index disagree for a moment: run any coord command (it finishes the update), then commit again"
        )
        return replay.Verdict(0, [Finding(model.REGISTRY, (), "busy", message)], {})
    loader = range_loader.Loader(root)
    staged = loader.state({p: b for p, b in git.index_blobs(root, model.COORD_DIR).items() if model.is_store_file(p)})
    head = git.rev_parse(root, "HEAD")
    others = _merge_heads(ws.repo)
    if head is not None and len(others) == 1:
        old, problem = expected.of_parents(loader, [head, others[0]], staged)
        if problem is not None:
            return replay.Verdict(0, [problem], {})
    else:
        old = loader.state(loader.at([head])[head] if head else range_loader.EMPTY)
    now = clock.now()
    standing = loader.standing(head, old)
    # The invariants of the staged files are coord-validate's to report; this hook adds history.
    found = judge.review(
        old, staged, ws.identity, when=now, now=now, invariant=False, fresh=standing.fresh, authority=standing.authority
    )
    return replay.Verdict(0, found, {})


def _merge_heads(repo: git.Repo) -> list[git.Sha]:
    """The other side of a merge being committed: MERGE_HEAD, or during the pre-merge-commit
    hook (before git writes MERGE_HEAD) the GITHEAD_<sha> variables git sets for each head."""
    path = repo.git_dir / "MERGE_HEAD"
    if path.exists():
        return [git.Sha(s) for s in path.read_text().split()]
    return sorted(git.Sha(name[len("GITHEAD_") :]) for name in os.environ if name.startswith("GITHEAD_"))


def check(
    *,
    cwd: Path,
    as_instance: str | None,
    revisions: str | None,
    output_format: str,
    out: Output,
    joins: str | None = None,
    trust: str | None = None,
) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    revisions = revisions or _pre_push_range()
    if (joins is not None or trust is not None) and not revisions:
        raise BadUsage("--joins and --trust go with --range: they say what the range is judged against")
    if revisions:
        if ".." not in revisions:
            raise BadUsage(f"--range takes BASE..HEAD, not {revisions!r}")
        rewritten = _rewritten(ws.root, revisions)
        line = _registry_of(ws.root, joins) if joins is not None else None
        verdict = check_range(ws.root, revisions_of(revisions), joins=line)
        verdict = _trusted(ws, verdict, revisions, trust)
        if rewritten:
            verdict = verdict._replace(findings=[rewritten, *verdict.findings])
    else:
        verdict = check_staged(ws)
    return show_verdict(verdict, output_format=output_format, out=out, staged=not revisions)


def _trusted(ws: workspace.Workspace, verdict: replay.Verdict, revisions: str, given: str | None) -> replay.Verdict:
    """The range's verdict, with what does not start from the human key told (`trust.untrusted`)."""
    from gitcoord.commands.key import read_key

    told = read_key(given) if given is not None else ws.config.get(trust.TRUST)
    tip = git.rev_parse(ws.root, revisions.partition("..")[2] or "HEAD")
    if not told or tip is None:
        return verdict
    return verdict._replace(findings=trust.untrusted(ws.root, told, verdict, tip) + verdict.findings)


def _registry_of(root: Path, rev: str) -> Doc | None:
    commit = git.rev_parse(root, rev)
    if commit is None:
        raise FatalError(f"--joins {rev}: no such commit in this clone; fetch it first")
    loader = range_loader.Loader(root)
    return loader.registry(commit, loader.at([commit])[commit])


def _pre_push_range() -> str | None:
    # pre-commit's pre-push stage says what is being pushed.
    start, end = os.environ.get("PRE_COMMIT_FROM_REF"), os.environ.get("PRE_COMMIT_TO_REF")
    return f"{start}..{end}" if start and end else None


def _rewritten(root: Path, revisions: str) -> Finding | None:
    """A range whose base is not an ancestor of its head: history was rewound or rewritten."""
    base, _, head = revisions.partition("..")
    if not base or set(base) == {"0"}:
        return None
    start, end = git.rev_parse(root, base), git.rev_parse(root, head or "HEAD")
    if start is None or end is None:
        raise FatalError(f"{revisions} names a commit this clone does not have; fetch it first")
    if git.is_ancestor(root, start, end):
        return None
    message = (
        f"{base[:12]} is not an ancestor of {head or 'HEAD'}: the history was rewound or rewritten, "
        "which drops coordination events; restore the branch to a descendant of the checked commit"
    )
    return Finding(model.REGISTRY, (), "rewritten", message)


def revisions_of(revisions: str) -> list[str]:
    """`git log` arguments for BASE..HEAD, where BASE may be zeros (a branch git is creating)."""
    base, _, head = revisions.partition("..")
    if not base or set(base) == {"0"}:  # a new branch: everything not already on another branch
        return [head or "HEAD", "--not", "--remotes"] if head else ["HEAD"]
    return [revisions]


def show_verdict(verdict: replay.Verdict, *, output_format: str, out: Output, staged: bool = False) -> int:
    first: dict[str, str] = {}
    for f in verdict.findings:
        first.setdefault(f.rule, f.commit)
    shown = [f for f in verdict.findings if first[f.rule] == f.commit]
    if output_format == "github":
        for f in shown:
            title = workflow_escape(f"coord check: {f.rule}", prop=True)
            where = f"file={model.COORD_DIR}/{f.file}" + (f",line={f.line},col={f.column}" if f.line else "")
            commit = f" (commit {f.commit[:12]}: {verdict.subjects.get(f.commit, '')})" if f.commit else ""
            out.emit(None, f"::error {where},title={title}::{workflow_escape(f.where + ': ' + f.message + commit)}")
        if not verdict.findings:
            out.emit(None, f"::notice title=coord check::{verdict.commits} commit(s) checked; every rule holds")
        return 1 if verdict.findings else 0
    data: dict[str, Any] = {
        "valid": not verdict.findings,
        "commits_checked": verdict.commits,
        "first_bad_commit": {rule: {"commit": c, "subject": verdict.subjects.get(c, "")} for rule, c in first.items()},
        "findings": [f.as_dict() for f in verdict.findings],
    }
    lines = []
    for rule, c in first.items():
        lines.append(
            f"[{rule}] "
            + (f"first broken by {c[:12]} {safe(verdict.subjects.get(c, ''))}" if c else "in the staged change")
        )
        lines += ["  " + validation.format_finding(f._replace(commit="")) for f in shown if f.rule == rule]
    if not verdict.findings:
        lines.append("ok: the staged change keeps every rule" if staged else f"ok: {verdict.commits} commit(s) checked")
    broken = f"{len(first)} rule(s) broken: {', '.join(first)}"
    out.emit(data, lines, problem=broken if verdict.findings else None)
    return 1 if verdict.findings else 0
