"""The JSON Schemas (draft 2020-12) of the four coordination files: the contract other tools read too.

`common.json` holds the definitions the four share; each file's schema refers to it by name.
"""

from __future__ import annotations

import functools
import json
from typing import Any

COMMON = "common.json"


class SchemaError(Exception):
    """A schema is broken or uses what the code around it does not expect: our bug, not the user's."""


@functools.cache
def document(name: str) -> dict[str, Any]:
    """The schema `name` (a coordination file's name, or "common.json"); shared: do not change it."""
    from importlib.resources import files  # here, not at the top: importing it costs every read ~4 ms

    loaded: dict[str, Any] = json.loads(files(__name__).joinpath(name).read_text("utf-8"))
    return loaded


def pointer(node: Any, fragment: str) -> Any:
    """The part of a schema a JSON Pointer fragment ("/$defs/task") names."""
    if fragment and not fragment.startswith("/"):
        raise SchemaError(f"#{fragment} is a plain-name anchor; the schemas refer by JSON Pointer only")
    for part in fragment.split("/")[1:]:
        key = part.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def resolve(ref: str, base: str) -> tuple[str, Any]:
    """The schema document and the part of it that `ref` (e.g. "common.json#/$defs/name") names, seen from `base`."""
    name, _, fragment = ref.partition("#")
    name = name or base
    return name, pointer(document(name), fragment)
