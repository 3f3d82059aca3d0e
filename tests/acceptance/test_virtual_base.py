"""The base a merge of criss-cross lines is judged from: its merge bases merged, as git merges them."""

from __future__ import annotations

import json
from pathlib import Path

from testing.repos import git

from gitcoord import model
from gitcoord.expected import virtual_base
from gitcoord.range_loader import Loader


def _retitle(repo: Path, title: str) -> None:
    path = repo / "coordination" / model.TASKS
    doc = json.loads(path.read_text())
    doc["active_tasks"][0]["title"] = title
    path.write_text(json.dumps(doc, indent=2) + "\n")


def test_three_merge_bases_merge_each_with_the_merge_of_those_before(seed_repo: Path) -> None:
    """Two lines that each merged the same three commits: b2 forked before Q retitled a task, b0 and
    b1 after. Merged against the merge base of b0 and b1 (Q), b2 would take the title back to the
    old one; against the merge base of b2 and the merge of b0 and b1 (the root), Q's title stands."""
    root = git(seed_repo, "rev-parse", "HEAD")
    git(seed_repo, "commit", "-q", "--allow-empty", "--no-verify", "-m", "b2, before Q")
    b2 = git(seed_repo, "rev-parse", "HEAD")
    git(seed_repo, "reset", "-q", "--hard", root)
    _retitle(seed_repo, "retitled in Q")
    git(seed_repo, "commit", "-q", "-a", "--no-verify", "-m", "Q")
    q = git(seed_repo, "rev-parse", "HEAD")
    sides = []
    for name in ("b0", "b1"):
        git(seed_repo, "reset", "-q", "--hard", q)
        git(seed_repo, "commit", "-q", "--allow-empty", "--no-verify", "-m", name)
        sides.append(git(seed_repo, "rev-parse", "HEAD"))
    b0, b1 = sides
    tree = git(seed_repo, "rev-parse", f"{q}^{{tree}}")
    x = git(seed_repo, "commit-tree", tree, "-p", b0, "-p", b1, "-p", b2, "-m", "x")
    y = git(seed_repo, "commit-tree", tree, "-p", b2, "-p", b1, "-p", b0, "-m", "y")
    bases = git(seed_repo, "merge-base", "--all", x, y).split()
    assert sorted(bases) == sorted([b0, b1, b2])
    for order in (bases, list(reversed(bases)), [b0, b1, b2]):
        state = virtual_base(Loader(seed_repo), order)
        assert state[model.TASKS]["active_tasks"][0]["title"] == "retitled in Q", order
