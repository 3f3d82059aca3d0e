"""`coord merge-driver %O %A %B %P`: what git runs to merge a coordination file.

It writes the merge into %A (ours) and exits 0, or 1 when a person must choose (the file
then holds valid JSON with `merge_conflicts` entries, never text markers). If it cannot
merge as JSON at all (a side that does not parse, a bug), it falls back to git's own text
merge and exits 1, so that nothing is lost and git stops for a person. %P is only a label:
it is printed, never run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from pathlib import PurePosixPath

from gitcoord import fileio
from gitcoord import git
from gitcoord import jsonio
from gitcoord import merge
from gitcoord import model
from gitcoord import store


def merge_texts(name: str, base: bytes | None, ours: bytes, theirs: bytes) -> tuple[bytes, merge.Outcome]:
    """Merge three versions of coordination file `name` record by record (raises ParseError)."""
    parsed = [None if not base or not base.strip() else jsonio.parse(base), jsonio.parse(ours), jsonio.parse(theirs)]
    outcome = merge.merge_file(name, *parsed)
    # Records the merge kept as ours had them are copied from our text, not written again.
    return store.dump(name, outcome.doc, store.reusable(name, ours, parsed[1])), outcome


def merge_into(
    root: Path,
    commits: tuple[git.Sha, git.Sha, git.Sha],
    tree: git.Sha,
    paths: Sequence[str],
    fail: Callable[[str], Exception],
    *,
    replaying: bool = False,
) -> git.Sha:
    """`tree` with each of `paths`, coordination files, merged record by record from `commits`
    (the base, ours and theirs), in this process; `fail(why)` is raised when one needs a person.
    `replaying` a step on another tip, a clash the driver would settle (a claim that lost, kept in
    `contested`) fails too: the step no longer applies there, and a plain commit writes no settlement.

    Where only one side changed a file, that side's bytes are taken as they are."""
    texts = iter(git.read_blobs(root, [f"{c}:{p}" for p in paths for c in commits]))
    merged: dict[str, git.Sha] = {}
    for path in paths:
        base, ours, theirs = next(texts), next(texts), next(texts)
        if theirs in (ours, base):
            continue  # `tree` has ours
        if ours == base and theirs is not None:
            merged[path] = git.hash_object(root, theirs)
            continue
        if ours is None or theirs is None or path not in store.PATHS:
            raise fail(f"{path} was changed on one side and deleted on the other, or is not the store's")
        try:
            text, outcome = merge_texts(PurePosixPath(path).name, base, ours, theirs)
        except jsonio.ParseError as e:
            raise fail(f"{path}: cannot merge as JSON: a side does not parse ({e.message}, line {e.line})") from None
        if outcome.conflicts or (replaying and outcome.notes):
            raise fail("\n".join(merge_notes(path, outcome)))
        merged[path] = git.hash_object(root, text)
    return git.write_tree(root, tree, merged) if merged else tree


def merge_notes(label: str, outcome: merge.Outcome) -> list[str]:
    """What a person should read about a merge: its notes, and each conflict with how to settle it."""
    lines = [f"{label}: {note}" for note in outcome.notes]
    for c in outcome.conflicts:
        fix = f"choose with `coord resolve {c.record} {c.field} --pick N`"
        lines.append(f"{label}: CONFLICT in {c.record}.{c.field}: {c.reason}; {fix}")
    return lines


def merge_paths(base: Path, ours: Path, theirs: Path, label: str) -> int:
    name = PurePosixPath(label).name
    if name not in model.FILES:
        return _text_merge(base, ours, theirs, label, f"{name} is not a coordination file")
    try:
        merged, outcome = merge_texts(name, base.read_bytes(), ours.read_bytes(), theirs.read_bytes())
        fileio.write_atomic(ours, merged)
    except jsonio.ParseError as e:
        return _text_merge(base, ours, theirs, label, f"a side does not parse ({e.message}, line {e.line})")
    except Exception as e:  # a bug must not lose either side: fall back to git's text merge
        return _text_merge(base, ours, theirs, label, f"internal error {type(e).__name__}: {e}")
    for line in merge_notes(label, outcome):
        _say(line)
    return 1 if outcome.conflicts else 0


def _text_merge(base: Path, ours: Path, theirs: Path, label: str, why: str) -> int:
    _say(f"{label}: cannot merge as JSON: {why}; merged as text instead, resolve the markers by hand")
    git.text_merge(ours, base, theirs, labels=("ours", "base", "theirs"))
    return 1


def _say(text: str) -> None:
    print(f"coord merge: {text}", file=sys.stderr)


def main(argv: Sequence[str]) -> int:
    if len(argv) != 4:
        _say("usage: coord merge-driver %O %A %B %P (git passes these; see `coord install`)")
        return 1
    base, ours, theirs, label = argv
    return merge_paths(Path(base), Path(ours), Path(theirs), label)
