"""`coord resolve`: settle what the merge driver left for a person, in this working tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitcoord import canonical
from gitcoord import fileio
from gitcoord import git
from gitcoord import jsonio
from gitcoord import merge
from gitcoord import model
from gitcoord import records
from gitcoord import store
from gitcoord.commands import sides
from gitcoord.errors import FatalError
from gitcoord.errors import NotFound
from gitcoord.escape import safe
from gitcoord.model import Doc
from gitcoord.output import Output


def _load(root: Path) -> dict[str, Doc]:
    docs = {}
    for file in model.FILES:
        path = root / store.repo_path(file)
        if path.exists():
            try:
                docs[file] = jsonio.parse(path.read_bytes())
            except jsonio.ParseError as e:
                raise FatalError(f"{store.repo_path(file)}:{e.line}:{e.column}: {e.message}") from None
    return docs


def _listing(docs: dict[str, Doc]) -> list[dict[str, Any]]:
    return [{"file": f, **c} for f, d in docs.items() for c in d.get("merge_conflicts", ())]


def resolve(
    *, cwd: Path, record: str | None, field: str | None, pick: int | None, value: str | None, out: Output
) -> int:
    repo = git.discover(cwd)
    root = repo.root
    docs = _load(root)
    if record is None:
        conflicts = _listing(docs)
        labelled = [{**c, "sides": s} for c, s in zip(conflicts, sides.label(repo, conflicts), strict=True)]
        out.emit(labelled, [line for c in labelled for line in _lines(c)] or ["no merge conflicts to resolve"])
        return 0
    if field is None or (pick is None) == (value is None):
        raise FatalError("say what to keep: coord resolve RECORD FIELD --pick N, or --value JSON")
    file, entry = _find(docs, record, field)
    chosen = _choice(entry, pick, value)
    doc = _apply(file, docs[file], entry, chosen)
    fileio.write_atomic(root / store.repo_path(file), store.dump(file, doc))
    left = doc.get("merge_conflicts", [])
    if not left:
        git.add(root, [store.repo_path(file)])
    remaining = len(_listing({**docs, file: doc}))
    next_step = (
        f"{remaining} conflict(s) left: `coord resolve` lists them"
        if remaining
        else "no conflicts left: run `coord validate`, then `git commit`"
    )
    out.emit(
        {"file": file, "record": record, "field": field, "value": chosen, "remaining": remaining},
        [f"{record}.{field} settled in {store.repo_path(file)}", next_step],
    )
    return 0


def _lines(conflict: dict[str, Any]) -> list[str]:
    head = f"{store.repo_path(conflict['file'])}: {safe(conflict['record'])} {safe(conflict['field'])}"
    lines = [f"{head}: {safe(conflict['reason'])}"]
    for n, (value, side) in enumerate(zip(conflict["values"], conflict["sides"], strict=True), 1):
        whose = f"{side['side']}, {side['author'] or 'unknown'} in {side['commit'][:12]}" if side else "side unknown"
        lines.append(f"  {n} ({whose}): {safe(canonical.dumps(value).strip(), one_line=False)}")
    lines.append(f"  keep one: coord resolve {conflict['record']} {conflict['field']} --pick N")
    return lines


def _find(docs: dict[str, Doc], record: str, field: str) -> tuple[str, dict[str, Any]]:
    on_field = {
        e["record"]: (f, e) for f, d in docs.items() for e in d.get("merge_conflicts", ()) if e["field"] == field
    }
    record = records.one_of(on_field, record, what=f"records with a conflict on {field}")  # or the start of its id
    if record in on_field:
        return on_field[record]
    raise NotFound(f"no merge conflict on {record} {field}; `coord resolve` lists them", details={"record": record})


def _choice(entry: dict[str, Any], pick: int | None, value: str | None) -> Any:
    if pick is not None:
        if not 1 <= pick <= len(entry["values"]):
            raise FatalError(f"--pick takes 1 to {len(entry['values'])}")
        return entry["values"][pick - 1]
    try:  # the files' own parser: no NaN, no lone surrogate gets into the file this way
        return jsonio.parse((value or "").encode("utf-8", "surrogateescape"))
    except jsonio.ParseError as e:
        raise FatalError(f"--value must be JSON (a quoted string, a list, ...): {e.message}") from None


def _apply(file: str, doc: Doc, entry: dict[str, Any], chosen: Any) -> Doc:
    rest = [c for c in doc["merge_conflicts"] if c is not entry]
    doc = {**doc, "merge_conflicts": rest} if rest else {k: v for k, v in doc.items() if k != "merge_conflicts"}
    if entry["record"] == "$":
        return {**doc, entry["field"]: chosen}
    coll = model.COLLECTIONS[file]
    target = records.get({file: doc}, coll.kind, entry["record"])
    if target is None:
        raise FatalError(f"{entry['record']} is not in {store.repo_path(file)}")
    return records.put(doc, coll, merge.settle(target, entry, chosen), None if coll.id_key else entry["record"])
