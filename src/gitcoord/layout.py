"""The canonical layout of each file, read from its JSON Schema: key order and how lists sort.

This is not validation (the validator is `schema`): the serializer in `jsonio` writes keys
in the order the schema declares them and keeps lists of records in id order, so every
writer and every merge produces the same bytes.
"""

from __future__ import annotations

import functools
from typing import Any

from gitcoord import model
from gitcoord import schemas
from gitcoord.canonical import Shape


def object_schema(schema: dict[str, Any], base: str) -> tuple[dict[str, Any], str]:
    """Follow $ref, allOf and anyOf down to the schema that describes an object or a list."""
    while True:
        if "$ref" in schema:
            base, schema = schemas.resolve(schema["$ref"], base)
        elif "allOf" in schema:
            schema = schema["allOf"][0]
        elif "anyOf" in schema:
            schema = schema["anyOf"][0]
        else:
            return schema, base


def _shape(schema: dict[str, Any], base: str, sort_key: tuple[str, ...] = ()) -> Shape:
    schema, base = object_schema(schema, base)
    props = schema.get("properties", {})
    children = {k: _shape(v, base, _SORT_KEYS.get(k, ())) for k, v in props.items()}
    values = None
    if isinstance(schema.get("additionalProperties"), dict):
        values = _shape(schema["additionalProperties"], base)
    elif isinstance(schema.get("items"), dict):
        values = _shape(schema["items"], base)
    return Shape({k: n for n, k in enumerate(props)}, children, values, sort_key)


# Lists of records are kept in id order, so that every writer and every merge agrees.
_SORT_KEYS: dict[str, tuple[str, ...]] = {
    **{name: (c.id_key,) for c in model.COLLECTIONS.values() if c.id_key for name in c.lists},
    "response_queue": ("responding_to",),
    "merge_conflicts": ("record", "field"),
}


@functools.cache
def shape(file: str) -> Shape:
    return _shape(schemas.document(file), file)
