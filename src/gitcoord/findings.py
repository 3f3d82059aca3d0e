"""What every check reports: a rule broken at one place in one coordination file."""

from __future__ import annotations

from typing import NamedTuple

from gitcoord.jsonio import JsonPath
from gitcoord.jsonio import format_path

ABOUT_THE_COMMIT = frozenset({"signature", "trailer"})  # rules about who made a commit, not a place in a file


class Finding(NamedTuple):
    file: str  # the file name inside coordination/, e.g. "task-queue.json"
    path: JsonPath  # where in the file; () for the whole file
    rule: str  # a stable name: "schema", "reference", "transition", "authorization", ...
    message: str  # what is wrong and, where it helps, what to do
    line: int = 0  # 0 until an edge that has the text locates it
    column: int = 0
    commit: str = ""  # set by checks over history

    @property
    def where(self) -> str:
        return format_path(self.path)

    @property
    def about_the_commit(self) -> bool:
        return self.rule in ABOUT_THE_COMMIT

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line or None,
            "column": self.column or None,
            "path": self.where,
            "rule": self.rule,
            "message": self.message,
            **({"commit": self.commit} if self.commit else {}),
        }
