"""Whose side each candidate of a merge conflict is: ours or theirs, the commit, who made it.

The merge driver writes the candidates in a fixed order, so that a merge gives the same
bytes whichever side is "ours"; the conflict itself therefore says nothing of who wrote
which. While the merge is being concluded git knows the two sides (HEAD and MERGE_HEAD),
and each side's store says which candidate it holds.
"""

from __future__ import annotations

from typing import Any

from gitcoord import git
from gitcoord import jsonio
from gitcoord import merge
from gitcoord import model
from gitcoord import records
from gitcoord import store
from gitcoord.model import Doc

Side = dict[str, Any] | None  # {"side": "ours"|"theirs", "commit": sha, "author": who}, or None: unknown


def label(repo: git.Repo, conflicts: list[dict[str, Any]]) -> list[list[Side]]:
    """For each conflict (with its "file"), a side for each of its values, in their order."""
    heads = _heads(repo)
    if heads is None:
        return [[None] * len(c["values"]) for c in conflicts]
    files = sorted({c["file"] for c in conflicts})
    held = {name: {f: _doc(repo, sha, f) for f in files} for name, sha in heads.items()}
    base = git.merge_base(repo.root, heads["ours"], heads["theirs"])
    who = {(name, f): _last_change(repo, base, sha, f) for name, sha in heads.items() for f in files}
    return [[_side(c, v, held, who) for v in c["values"]] for c in conflicts]


def _heads(repo: git.Repo) -> dict[str, git.Sha] | None:
    path = repo.git_dir / "MERGE_HEAD"
    ours = git.rev_parse(repo.root, "HEAD")
    if not path.exists() or ours is None:
        return None  # no merge under way: nothing left says which side wrote what
    return {"ours": ours, "theirs": git.Sha(path.read_text().split()[0])}


def _doc(repo: git.Repo, sha: str, file: str) -> Doc | None:
    [blob] = git.read_blobs(repo.root, [f"{sha}:{store.repo_path(file)}"])
    try:
        return jsonio.parse(blob) if blob is not None else None
    except jsonio.ParseError:
        return None


def _last_change(repo: git.Repo, base: git.Sha | None, tip: git.Sha, file: str) -> dict[str, Any]:
    """The newest commit on that side (since the merge base) that changed the file, and who acted."""
    found = git.log(repo.root, f"{base}..{tip}" if base else tip, paths=[store.repo_path(file)], limit=1)
    if not found:
        return {"commit": tip, "author": None}
    entry = found[0]
    return {"commit": entry.sha, "author": entry.trailers.get("Coord-Instance") or entry.author or None}


def _side(conflict: dict[str, Any], value: Any, held: dict[str, dict[str, Doc | None]], who: dict[Any, Any]) -> Side:
    for name in ("ours", "theirs"):
        doc = held[name][conflict["file"]]
        if doc is not None and merge.same(_value(conflict, doc), value):
            return {"side": name, **who[(name, conflict["file"])]}
    return None


def _value(conflict: dict[str, Any], doc: Doc) -> Any:
    if conflict["record"] == "$":
        return doc.get(conflict["field"], merge.MISSING)
    kind = model.COLLECTIONS[conflict["file"]].kind
    record = records.get({conflict["file"]: doc}, kind, conflict["record"])
    if record is None:
        return merge.MISSING
    if conflict["field"] == "outcome":  # a group of fields, as the driver names it
        return {f: record[f] for f in merge.OUTCOME_FIELDS if f in record}
    return record.get(conflict["field"], merge.MISSING)
