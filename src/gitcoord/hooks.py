"""The hooks gitcoord runs before a commit, a merge commit and a push, declared once.

`coord hook run STAGE` (what the git hooks `coord install` writes call) runs them from this
table; `.pre-commit-hooks.yaml` (for `repo:` users, pinned to a gitcoord release) and the local
block `coord init` writes (which runs the `coord` already on PATH) are both rendered from it;
a test keeps the committed manifest equal to it.
"""

from __future__ import annotations

import json
from typing import NamedTuple

FILES = r"^coordination/.*\.json$"


class Hook(NamedTuple):
    id: str
    name: str
    description: str
    entry: str
    files: str
    stages: tuple[str, ...]


HOOKS = (
    Hook(
        "coord-validate",
        "coord validate (schemas and invariants)",
        "The coordination files keep their JSON Schemas and the invariants: references, ids, placement, cycles.",
        # HEAD passed this hook and CI replays every commit, so only what changed needs checking.
        "coord validate --since HEAD",
        FILES,
        ("pre-commit", "pre-merge-commit", "manual"),
    ),
    Hook(
        "coord-check",
        "coord check (transitions, history, authorization)",
        "Each change is a step of the protocol, made by an instance allowed to make it; pre-push checks every commit.",
        "coord check",
        FILES,
        ("pre-commit", "pre-merge-commit", "pre-push"),
    ),
    Hook(
        "coord-merge-driver",
        "coord merge driver is registered",
        "Without the driver in .git/config, git silently merges the coordination files as text.",
        "coord doctor --driver",
        r"^(coordination/.*\.json|\.gitattributes)$",
        ("pre-commit", "pre-merge-commit", "pre-push"),
    ),
)
HOOK_TYPES = ("pre-commit", "pre-merge-commit", "pre-push")


def _fields(hook: Hook) -> list[str]:
    # Each hook checks the whole store (references cross files), so it takes no file names.
    return [
        f"entry: {hook.entry}",
        f"files: {hook.files}",
        "pass_filenames: false",
        "require_serial: true",
        f"stages: [{', '.join(hook.stages)}]",
    ]


def manifest() -> str:
    """`.pre-commit-hooks.yaml`: the hooks as a hook repository offers them."""
    out = ["# Generated from src/gitcoord/hooks.py; tests keep the two equal.\n"]
    for hook in HOOKS:
        out.append(f"- id: {hook.id}\n  name: {json.dumps(hook.name)}\n  description: {json.dumps(hook.description)}\n")
        out.append("  language: python\n")
        out += [f"  {line}\n" for line in _fields(hook)]
        out.append('  minimum_pre_commit_version: "3.2.0"\n')
    return "".join(out)


def local_block() -> str:
    """The block `coord init` adds under `repos:`: the same hooks, run by the `coord` on PATH."""
    out = ["  # gitcoord: the coordination files stay valid at every commit\n", "  - repo: local\n", "    hooks:\n"]
    for hook in HOOKS:
        out.append(f"      - id: {hook.id}\n        name: {json.dumps(hook.name)}\n        language: system\n")
        out += [f"        {line}\n" for line in _fields(hook)]
    return "".join(out)
