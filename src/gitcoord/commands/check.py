"""`coord check`: the rules that need history, on the staged change or over a range of commits.

Client-side hooks can be skipped (`--no-verify`, rebase, cherry-pick, a merge button), so
CI replays every commit of a push or a pull request through the same checks: schema,
invariants, transitions and authorization, with the acting instance taken from each
commit's Coord-Instance trailer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import NamedTuple

from gitcoord import authenticity
from gitcoord import git
from gitcoord import history
from gitcoord import invariants
from gitcoord import merge
from gitcoord import model
from gitcoord import records
from gitcoord import store
from gitcoord import workspace
from gitcoord.errors import FatalError
from gitcoord.findings import Finding
from gitcoord.model import Doc
from gitcoord.output import Output
from gitcoord.output import safe
from gitcoord.output import workflow_escape


class Loader:
    """Parsed coordination files by blob id, so that a range of commits parses each version once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._raw: dict[str, bytes | None] = {}
        self._parsed: dict[str, tuple[Doc | None, list[Finding]]] = {}

    def raw(self, blob: str | None) -> bytes | None:
        if blob is None:
            return None
        if blob not in self._raw:
            [self._raw[blob]] = git.read_blobs(self.root, [blob])
        return self._raw[blob]

    def parse(self, file: str, blob: str | None) -> tuple[Doc | None, list[Finding]]:
        key = f"{file}:{blob}"
        if key not in self._parsed:
            self._parsed[key] = store.parse_findings(file, self.raw(blob))
        return self._parsed[key]

    def state(self, blobs: workspace.Blobs) -> tuple[dict[str, Doc] | None, list[Finding]]:
        """The store at one commit (None when it has no coordination files), or what stops it loading."""
        if all(b is None for b in blobs.values()):
            return None, []
        docs, found = {}, []
        for file, blob in blobs.items():
            if blob is None and file in model.ARCHIVE_FILES:
                continue  # nothing archived yet
            doc, problems = self.parse(file, blob)
            found.extend(problems)
            if doc is not None:
                docs[file] = doc
        return docs, found


def review(
    loader: Loader,
    old: workspace.Blobs | None,
    new: workspace.Blobs,
    actor: str | None,
    *,
    invariant: bool = True,
    merged: Sequence[workspace.Blobs] = (),
) -> list[Finding]:
    """Everything wrong with one commit's store, and with the change that made it from `old`.

    `old` is None for a store being created. For a merge, `old` is the merge base and
    `merged` the two sides: the commit is judged against what the merge driver makes of
    them, so that only what the person merging changed beyond it needs their authority.
    """
    new_state, found = loader.state(new)
    if new_state is None:
        return found
    sides = list(merged) or ([old] if old is not None else [])
    changed = [f for f in model.ALL_FILES if not sides or any(side[f] != new[f] for side in sides)]
    problems = invariants.check(new_state, files=changed, archived=store.archived_in(new_state)) if invariant else []
    if merged:
        before = _expected(loader, old, merged, new_state)
    else:
        before = loader.state(old)[0] if old is not None else None
    if before is not None and all(f in before and f in new_state for f in changed):
        problems += history.check(before, new_state, actor, files=changed)
    for file in {f.file for f in problems}:
        found += store.locate(file, loader.raw(new[file]) or b"", [f for f in problems if f.file == file])
    return found


def _expected(
    loader: Loader, base: workspace.Blobs | None, sides: Sequence[workspace.Blobs], actual: dict[str, Doc]
) -> dict[str, Doc] | None:
    """What the merge driver makes of the two sides, with any conflict settled as `actual` settled it."""
    ours, _ = loader.state(sides[0])
    theirs, _ = loader.state(sides[1])
    start = loader.state(base)[0] if base is not None else None
    if ours is None or theirs is None:
        return None
    expected: dict[str, Doc] = {}
    for file, settled in actual.items():
        if file not in ours or file not in theirs:
            if file in model.FILES:
                return None
            expected[file] = ours.get(file) or theirs[file]  # archived on one side only
            continue
        doc = merge.merge_file(model.base(file), start.get(file) if start else None, ours[file], theirs[file]).doc
        expected[file] = _settled(file, doc, settled)
    return expected


def _settled(file: str, doc: Doc, actual: Doc) -> Doc:
    coll = model.COLLECTIONS[model.base(file)]
    conflicts = doc.get("merge_conflicts", [])
    if not conflicts:
        return doc
    doc = {k: v for k, v in doc.items() if k != "merge_conflicts"}
    if "merge_conflicts" in actual:
        doc["merge_conflicts"] = actual["merge_conflicts"]
    mine = records.by_id(actual, coll)
    for c in conflicts:
        record, found = records.get({coll.file: doc}, coll.kind, c["record"]), mine.get(c["record"])
        if record is not None and found is not None and merge.chosen(c, found):
            doc = records.put(
                doc,
                coll,
                merge.settle(
                    record,
                    c,
                    found.get(c["field"])
                    if c["field"] != "outcome"
                    else {f: found[f] for f in merge.OUTCOME_FIELDS if f in found},
                ),
                c["record"] if not coll.id_key else None,
            )
    return doc


class Verdict(NamedTuple):
    commits: int
    findings: list[Finding]
    subjects: dict[str, str]  # commit -> its subject line


def check_range(root: Path, revisions: Sequence[str]) -> Verdict:
    commits = git.commits(root, revisions)
    wanted = {c.sha for c in commits} | {p for c in commits for p in c.parents}
    at = workspace.blobs_at(root, sorted(wanted))
    loader = Loader(root)
    findings: list[Finding] = []
    who = authenticity.acting(root, [c.sha for c in commits])  # from git's parse of each trailer block
    changing = []
    for c in commits:
        if c.parents and all(at[p] == at[c.sha] for p in c.parents):
            continue  # no coordination change in this commit
        changing.append(c)
        actor = who[c.sha].instance
        if len(c.parents) == 2:
            base = git.merge_base(root, *c.parents)
            found = review(
                loader,
                workspace.blobs_at(root, [base])[base] if base else None,
                at[c.sha],
                actor,
                merged=[at[p] for p in c.parents],
            )
        else:
            found = review(loader, at[c.parents[0]] if c.parents else None, at[c.sha], actor)
        findings += [f._replace(commit=c.sha) for f in found]
    findings += authenticity.review(
        root, changing, who, lambda sha: loader.parse(model.REGISTRY, at[sha][model.REGISTRY])[0]
    )
    return Verdict(len(commits), findings, {c.sha: c.message.splitlines()[0] if c.message else "" for c in commits})


def check_staged(ws: workspace.Workspace) -> Verdict:
    """The index against HEAD (and, while a merge is being concluded, against the other side too)."""
    root = ws.root
    head = git.rev_parse(root, "HEAD")
    staged_ids = git.object_ids(root, [":" + store.repo_path(f) for f in model.ALL_FILES])
    staged = dict(zip(model.ALL_FILES, staged_ids, strict=True))
    loader = Loader(root)
    if head is None:
        return Verdict(0, review(loader, None, staged, ws.identity, invariant=False), {})
    # The invariants of the staged files are coord-validate's to report; this hook adds history.
    others = _merge_heads(ws.repo)
    if len(others) == 1:
        base = git.merge_base(root, head, others[0])
        at = workspace.blobs_at(root, [head, others[0], *([base] if base else [])])
        found = review(
            loader, at[base] if base else None, staged, ws.identity, invariant=False, merged=[at[head], at[others[0]]]
        )
        return Verdict(0, found, {})
    old = None if others else workspace.blobs_at(root, [head])[head]
    return Verdict(0, review(loader, old, staged, ws.identity, invariant=False), {})


def _merge_heads(repo: git.Repo) -> list[str]:
    """The other side of a merge being committed: MERGE_HEAD, or during the pre-merge-commit
    hook (before git writes MERGE_HEAD) the GITHEAD_<sha> variables git sets for each head."""
    path = repo.git_dir / "MERGE_HEAD"
    if path.exists():
        return path.read_text().split()
    return sorted(name[len("GITHEAD_") :] for name in os.environ if name.startswith("GITHEAD_"))


def check(*, cwd: Path, as_instance: str | None, revisions: str | None, output_format: str, out: Output) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    revisions = revisions or _pre_push_range()
    if revisions:
        if ".." not in revisions:
            raise FatalError(f"--range takes BASE..HEAD, not {revisions!r}")
        verdict = check_range(ws.root, _range(ws.root, revisions))
    else:
        verdict = check_staged(ws)
    return report(verdict, output_format=output_format, out=out)


def _pre_push_range() -> str | None:
    # pre-commit's pre-push stage says what is being pushed.
    start, end = os.environ.get("PRE_COMMIT_FROM_REF"), os.environ.get("PRE_COMMIT_TO_REF")
    return f"{start}..{end}" if start and end else None


def _range(root: Path, revisions: str) -> list[str]:
    base, _, head = revisions.partition("..")
    if not base or set(base) == {"0"}:  # a new branch: everything not already on another branch
        return [head or "HEAD", "--not", "--remotes", "--exclude=HEAD"] if head else ["HEAD"]
    return [revisions]


def report(verdict: Verdict, *, output_format: str, out: Output) -> int:
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
        lines += ["  " + store.format_finding(f._replace(commit="")) for f in shown if f.rule == rule]
    if not verdict.findings:
        lines.append(
            f"ok: {verdict.commits} commit(s) checked" if verdict.commits else "ok: the staged change keeps every rule"
        )
    out.emit(data, lines)
    return 1 if verdict.findings else 0
