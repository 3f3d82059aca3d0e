"""`coord decision pr`: what a pull request does to the decision log, for its review and its merge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitcoord import git
from gitcoord import model
from gitcoord import records
from gitcoord import views
from gitcoord import workspace
from gitcoord.errors import BadUsage
from gitcoord.errors import FatalError
from gitcoord.output import Output
from gitcoord.output import markdown_cell


def _decisions(ws: workspace.Workspace, rev: str) -> dict[str, dict[str, Any]]:
    commit = git.rev_parse(ws.root, rev)
    if commit is None:
        return {}
    try:
        snap = workspace.snapshot(ws, strict=False, commit=commit)
        return records.by_id(snap[model.DECISIONS], model.DECISION_RECORDS)
    except FatalError:  # the base has no coordination files yet
        return {}


def decision_pr(*, cwd: Path, as_instance: str | None, out: Output, revisions: str, output_file: Path | None) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    base, sep, head = revisions.partition("..")
    if not sep or not base or not head:
        raise BadUsage(f"--range takes BASE..HEAD, not {revisions!r}")
    before, after = _decisions(ws, base), _decisions(ws, head)
    changed = [d for rid, d in sorted(after.items()) if before.get(rid) != d]
    decided = bool(changed) and all(model.decision_status(d) in ("active", "superseded") for d in changed)
    complete = all(not views.missing_inputs(d) for d in changed)
    outside = _beyond_decisions(ws.root, base, head)
    mergeable = decided and complete and not outside
    rows = [
        {
            **views.decision_summary(d),
            "inputs": d.get("inputs", []),
            "new": d["decision_id"] not in before,
        }
        for d in changed
    ]
    if output_file is not None:
        with output_file.open("a", encoding="utf-8") as f:
            f.write(f"decided={str(decided).lower()}\nchanged={len(changed)}\nmergeable={str(mergeable).lower()}\n")
    data = {"decided": decided, "inputs_complete": complete, "beyond_decisions": outside, "mergeable": mergeable}
    out.emit({**data, "decisions": rows}, _markdown(rows, decided, complete=complete, outside=outside))
    return 0


# What a decision's steps write: the decision log, and the consultations an escalation sends.
_DECISION_FILES = frozenset(f"{model.COORD_DIR}/{f}" for f in (model.DECISIONS, model.MESSAGES))


def _beyond_decisions(root: Path, base: str, head: str) -> list[str]:
    """The files the pull request changes (from where it left its base) that no decision step
    writes: code, and the store's registry (its keys and settings) and task queue, which the
    merge workflow, a writer every pull request can set going, must never land."""
    start, end = git.rev_parse(root, base), git.rev_parse(root, head)
    if start is None or end is None:
        raise FatalError(f"--range {base}..{head}: no such commit here; fetch it first")
    fork = git.merge_base(root, start, end) or start
    return sorted(p for p in git.changed_paths(root, fork, end) if p not in _DECISION_FILES)


def _markdown(rows: list[dict[str, Any]], decided: bool, *, complete: bool, outside: list[str]) -> list[str]:
    if not rows:
        return ["## Decisions", "", "This pull request changes no decision."]
    if outside:
        shown = ", ".join(markdown_cell(p) for p in outside[:10]) + (" …" if len(outside) > 10 else "")
        verdict = f"it also changes files beyond the decisions ({shown}): the workflow does not merge it"
    elif not decided or not complete:
        verdict = "waiting for inputs or a decision"
    else:
        verdict = "every decision here is made and every input is in: the workflow merges it with the coord driver"
    lines = [
        "## Decisions in this pull request",
        "",
        f"_{verdict}_",
        "",
        "| decision | status | inputs received | still missing | outcome |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        received = "<br>".join(markdown_cell(f"{i['from']}: {i['option']}") for i in r["inputs"]) or "none"
        missing = ", ".join(markdown_cell(x) for x in r["inputs_missing"]) or "none"
        outcome = markdown_cell(r["decision"]) if r["decision"] else ""
        title = f"{markdown_cell(r['decision_id'])}: {markdown_cell(r['title'])}" + (" (new)" if r["new"] else "")
        lines.append(f"| {title} | {r['status']} | {received} | {missing} | {outcome} |")
    return lines
