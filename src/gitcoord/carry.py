"""The steps a clone had not shared when the store moved (`coord migrate`), made again where it went.

A clone that follows a move to the branch the store went to (`coord install`) still holds, on
the branch it left, the steps it made and had not shared yet. Each is made again on the new
branch: its change of the store's files, record by record against its own parent (as the
merge driver merges), committed with its own message by this clone, in the order they were
made. The new commits are judged by the rules before the branch takes them, as the gate will
judge them; when one does not apply any more (a conflict, a refusal), none is carried and the
clone is told which, so nothing lands that the clone did not mean and nothing it meant is lost:
the old branch keeps them as they were.
"""

from __future__ import annotations

from typing import NamedTuple

from gitcoord import clock
from gitcoord import git
from gitcoord import model
from gitcoord import validation
from gitcoord import workspace
from gitcoord.errors import FatalError
from gitcoord.workspace import Workspace


class Carried(NamedTuple):
    steps: int  # the steps made again on the new branch
    left: str | None  # why none was, where some were to carry


def over(ws: Workspace, old: str) -> Carried:
    """Make again on `ws.branch` the steps of this clone's branch `old` that its remote lacks."""
    mine = git.rev_parse(ws.root, f"refs/heads/{old}")
    shared = git.rev_parse(ws.root, f"refs/remotes/{ws.remote}/{old}")
    onto = git.rev_parse(ws.root, ws.ref)
    start = onto or git.rev_parse(ws.root, ws.tracking)
    if mine is None or shared is None or start is None:
        return Carried(0, None)
    steps = [
        (c, paths)
        for c in git.commits(ws.root, [mine, "--not", shared, start, "--no-merges"])
        if (paths := _store_paths(ws, c))
    ]
    if not steps:
        return Carried(0, None)
    try:
        tip = start
        for c, paths in steps:
            tip = _again(ws, c, paths, tip)
    except FatalError as e:
        return Carried(0, f"{e}; they are kept on {old} as they were: redo on {ws.branch} those you still want")
    from gitcoord import replay  # here: only a clone that carries steps over judges them itself

    verdict = replay.check_range(ws.root, [tip, "--not", start], now=clock.now())
    if verdict.findings:
        first = verdict.findings[0]
        step = verdict.subjects.get(first.commit, "a step")
        return Carried(
            0,
            f"made again on {ws.branch}, {step!r} breaks the rules there ({first.message}): the others "
            f"did something else meanwhile; they are kept on {old} as they were: redo on {ws.branch} "
            "those you still want",
        )
    if not git.update_ref(ws.root, ws.ref, tip, onto, f"coord: steps not shared carried over from {old}"):
        return Carried(0, f"{ws.branch} moved meanwhile; run `coord install` again")
    return Carried(len(steps), None)


def _store_paths(ws: Workspace, c: git.Commit) -> list[str]:
    if len(c.parents) != 1:
        return []
    prefix = f"{model.COORD_DIR}/"
    return sorted(
        p
        for p in git.changed_paths(ws.root, c.parents[0], c.sha)
        if p.startswith(prefix) and model.is_store_file(p.removeprefix(prefix))
    )


def _again(ws: Workspace, c: git.Commit, paths: list[str], tip: git.Sha) -> git.Sha:
    from gitcoord import driver  # here: only a carry merges records

    def fail(why: str) -> FatalError:
        return FatalError(f"{c.sha[:12]} ({c.subject}) no longer applies on {ws.branch}: {why}")

    [ours] = git.tree_ids(ws.root, [f"{tip}:"])
    assert ours is not None  # a commit has a tree
    tree = driver.merge_into(ws.root, (c.parents[0], tip, c.sha), ours, paths, fail)
    problems = validation.check(workspace.snapshot(ws, commit=tree))
    if problems:
        raise fail(problems[0].message)
    return git.commit_tree(ws.root, tree, [tip], c.message)
