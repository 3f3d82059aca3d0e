"""The store's line: the branch a shared repository's store lives on, as its gate keeps it.

The line is the one the refs held before a push (as the gate recorded it in its git config, else as
the branches say); a push moves it only by taking the store away with the human coordinator's
`coord migrate`, to the branch its MOVED.md names. The line's branch is never deleted or
rewound; a branch the store left never holds it again, nor is moved back to a commit that does.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from gitcoord import git
from gitcoord import model
from gitcoord import range_loader
from gitcoord import rulebook
from gitcoord import trust
from gitcoord import workspace
from gitcoord.model import Doc
from gitcoord.pushed import HEADS
from gitcoord.pushed import Refusal
from gitcoord.pushed import Update

LINE = "coord.line"  # the store's branch, as this gate took it: only the store's moving away changes it

LEFT = "coord.left"  # the branches the store moved away from, space-separated: none holds it again


def remember(root: Path, line: StoreLine) -> None:
    """Record the line where it holds the store, and the branches it left to get there: a line the
    store is moving to, not pushed yet, is found again from the one it left."""
    if line.ref is None or line.registry is None:
        return
    config = git.config(root, LINE, LEFT)
    left = left_of(config)
    if not line.left <= left:
        git.set_config(root, LEFT, " ".join(sorted(left | line.left)))
    if config.get(LINE) != line.ref:
        git.set_config(root, LINE, line.ref)


def left_behind(root: Path, line: StoreLine) -> StoreLine:
    """`line` with the branches the store moved away from on its way there: a gate installed after
    a move records them as it records each move it sees, so no branch the store left holds it
    again. Each `coord migrate` of the line's history left the branch its parent's store names
    (settings.store_branch, else the default branch): not a code branch forked since, which holds
    the same MOVED.md and may be deleted as any other."""
    tip = git.rev_parse(root, line.ref) if line.ref else None
    if tip is None:
        return line
    wanted = [tip, "--first-parent", f"--grep=^Coord-Event: {rulebook.MIGRATE}$"]
    parents = [c.parents[0] for c in git.changes(root, wanted) if c.event == rulebook.MIGRATE and len(c.parents) == 1]
    default = git.head_branch(root) or ""
    registries = trust.registries_at(root, parents)
    left = {HEADS + (model.settings_of(r).store_branch or default) for r in registries.values() if r is not None}
    return line._replace(left=line.left | (left - {line.ref, HEADS}))


def left_of(config: dict[str, str]) -> set[str]:
    return set(config.get(LEFT, "").split())


class StoreLine(NamedTuple):
    ref: str | None  # the branch the store lives on, where one is
    registry: Doc | None  # its registry, as the push leaves it
    claiming: list[str]  # the branches whose store names the branch itself as the store's
    kept: str | None = None  # the line before this push, which no push deletes or rewinds
    via: git.Sha | None = None  # the `coord migrate` commit this push moves the line with, if it does
    left: frozenset[str] = frozenset()  # the branches this push moves the line away from


def find(root: Path, pushed: list[Update]) -> StoreLine:
    """The branch the store lives on and its registry, as this push leaves them. The line is the
    one the refs held before the push (as this gate recorded it, else as they say): a push changes
    it only by taking the store away from it with a `coord migrate`, to the branch its MOVED.md
    names. A push chooses the line only where there is none yet: the first store. A commit pushed
    anywhere else answers to the line's registry's keys too: a key rotated out there must not sign
    on a branch made from an old commit, where its parent state still holds it."""
    before = {HEADS + name: sha for name, sha in git.branch_tips(root).items()}
    after = dict(before)
    after.update({u.ref: git.Sha(u.new) for u in pushed if u.ref.startswith(HEADS) and u.new is not None})
    for u in pushed:
        if u.new is None:
            after.pop(u.ref, None)
    loader = range_loader.Loader(root)
    shas = sorted({*before.values(), *after.values()})
    at = loader.at(shas)
    # A branch with no store files reads as an empty store: it holds none.
    states = {sha: loader.state(at[sha]) for sha in shas}
    registry_at = {sha: state.get(model.REGISTRY) if state.exists else None for sha, state in states.items()}
    held_before = {ref: registry_at[sha] for ref, sha in before.items()}
    held = {ref: registry_at[sha] for ref, sha in after.items()}
    named = _naming_themselves(held)
    kept = git.config(root, LINE).get(LINE) or _chosen(root, held_before)
    if kept is None:
        line = _chosen(root, held)
        return StoreLine(line, held.get(line) if line else None, named)
    line, via, left = kept, None, set()
    while line in after and held[line] is None and line not in left:  # moved, perhaps on again, by this push
        found = workspace.moved_by(root, after[line])
        if found is None:
            break
        left.add(line)
        via, line = found[0], HEADS + found[1]
    return StoreLine(line, held.get(line), [r for r in named if r != line], kept, via, frozenset(left))


def _naming_themselves(held: dict[str, Doc | None]) -> list[str]:
    return [ref for ref, r in held.items() if r is not None and model.settings_of(r).store_branch == ref[len(HEADS) :]]


def _chosen(root: Path, held: dict[str, Doc | None]) -> str | None:
    """The line as the branches say: the default branch where it holds the store (unless its
    settings name another branch that holds it), else the one branch whose store names the branch
    itself as the store's. A branch beside the line that names itself so is a branch like any
    other: who could push one would otherwise choose which line counts as shared."""
    named = _naming_themselves(held)
    default = HEADS + (git.head_branch(root) or "")  # a bare repository's HEAD names its default branch
    there = held.get(default)
    if there is not None:
        moved = model.settings_of(there).store_branch
        return HEADS + moved if moved and HEADS + moved in named else default
    if named:
        return named[0] if len(named) == 1 else None
    if default in held:  # the default branch is here and holds no store: a copy elsewhere is no line
        return None
    holding = [ref for ref, r in held.items() if r is not None]  # HEAD names a branch not here
    return holding[0] if len(holding) == 1 else None


def unmoved(root: Path, pushed: list[Update], line: str, registry: Doc | None, via: git.Sha) -> list[Refusal]:
    """Where a push moves the store, the branch it moves to continues that store, named so, or is
    not there yet: a branch made beforehand from an older commit must not become the line."""
    tip = next((u.new for u in pushed if u.ref == line), None) or git.rev_parse(root, line)
    if tip is None:
        return []
    parent = git.rev_parse(root, f"{via}^")
    branch = line[len(HEADS) :]
    named = registry is not None and model.settings_of(registry).store_branch == branch
    if named and parent is not None and git.is_ancestor(root, parent, git.Sha(tip)):
        return []
    message = (
        f"the store moves to {branch} (the MOVED.md of {via[:12]}), and {branch} does not continue the store that "
        f"commit took away, naming itself its branch: push the branch `coord migrate` made there"
    )
    return [Refusal(line, "", "", "store-line", message)]


def beside(line: str, u: Update) -> Refusal:
    """A branch that would hold a store naming itself the store's branch while the line still holds
    the store: the move (`coord migrate`) takes the store away from the line in the same push."""
    branch, there = u.ref[len(HEADS) :], line[len(HEADS) :]
    message = (
        f"{branch} would hold a store that names itself the store's branch while {there} still holds the store: "
        f"a store has one line. `coord migrate` pushes both at once (`git push --atomic REMOTE {there} {branch}`, "
        f"{there} with the commit that takes the store away)"
    )
    return Refusal(u.ref, "", "", "store-line", message)


def copied(root: Path, line: str, u: Update) -> list[Refusal]:
    """A branch a newcomer's `coord install` looks at (the code's default branch, the store's own
    name) that would come to hold a copy of the store beside the line: every join after it would be
    asked which of the two the team shares (`workspace.store_branch`), and anyone who may push code
    could make it so with one `git merge`. Only `coord migrate` brings the store to another branch."""
    assert u.new is not None
    if (u.old is not None and holds_store(root, [u.old])) or not holds_store(root, [u.new]):
        return []
    branch, there = u.ref[len(HEADS) :], line[len(HEADS) :]
    message = (
        f"{branch} would hold a copy of {model.COORD_DIR}/ while the store lives on {there}: every newcomer's "
        f"`coord install` would have to ask which one the team shares"
    )
    return [Refusal(u.ref, "", "", "copy", message)]


def holds_store(root: Path, tips: list[str]) -> bool:
    shas = [git.Sha(t) for t in tips]
    return any(blob is not None for blobs in workspace.blobs_at(root, shas).values() for blob in blobs.values())


def kept(root: Path, u: Update) -> list[Refusal]:
    """The line's branch is never deleted or moved to a tip that drops its history: that history is
    the event log. A copy of the store on another branch is that branch's own affair."""
    assert u.old is not None
    branch = u.ref[len(HEADS) :]
    if u.new is None:
        message = f"deleting {branch} is refused: it holds {model.COORD_DIR}/, and its history is the event log"
        return [Refusal(u.ref, "", "", "deletion", message)]
    if not git.is_ancestor(root, git.Sha(u.old), git.Sha(u.new)):
        message = (
            f"{branch} would move from {u.old[:12]} to {u.new[:12]}, which does not contain it: a rewrite or "
            "rollback of the coordination history is refused"
        )
        return [Refusal(u.ref, "", "", "history", message)]
    return []


def abandoned(root: Path, u: Update) -> list[Refusal]:
    """A branch the store moved away from keeps what it holds: its history says where the store
    went, and made again holding the store it would split the team (a newcomer would find it)."""
    branch = u.ref[len(HEADS) :]
    if u.new is None:
        message = f"deleting {branch} is refused: the store moved away from it, and its history says where"
        return [Refusal(u.ref, "", "", "deletion", message)]
    if holds_store(root, [u.new]):
        message = f"{branch} would hold the store again at {u.new[:12]}: the store moved away from it, and lives on"
        return [Refusal(u.ref, "", "", "recreated", message)]
    moved = workspace.moved_by(root, git.Sha(u.old)) if u.old is not None else None
    if moved is not None and not git.is_ancestor(root, moved[0], git.Sha(u.new)):
        message = (
            f"{branch} would move to {u.new[:12]}, which drops {moved[0][:12]}, the `coord migrate` that took "
            f"the store to {moved[1]}: a newcomer's `coord install` follows that commit to the store"
        )
        return [Refusal(u.ref, "", "", "history", message)]
    return []


def revived(root: Path, u: Update) -> list[Refusal]:
    """A branch the store moved away from is not moved back to a commit that holds it: the store
    would live on in two places, the abandoned one read by every clone that looks there first."""
    assert u.old is not None
    assert u.new is not None
    if git.is_ancestor(root, git.Sha(u.old), git.Sha(u.new)) or not holds_store(root, [u.new]):
        return []
    # The commit that took the store away, not the MOVED.md at the tip, which a later commit can drop.
    moved = workspace.moved_by(root, git.Sha(u.old))
    if moved is None:
        return []
    branch = u.ref[len(HEADS) :]
    message = (
        f"{branch} would move from {u.old[:12]}, after the store moved away to {moved[1]} ({moved[0][:12]}), "
        f"back to {u.new[:12]}, which holds it: the store lives on where it moved"
    )
    return [Refusal(u.ref, "", "", "recreated", message)]
