"""New record ids: the seed's prefixes, unique across clones without any coordination.

`task_` + 6 characters of time + 4 random characters, in lowercase Crockford base32:
`task_0qk2m9x7ab`. Ids sort by creation time, which keeps the lists chronological in
their canonical id order; the random part makes two clones that create a record in the
same second collide once in a million, and a collision is caught (the merge driver
reports two different records under one id instead of losing either). Sequential ids
(`msg_{n+1}`, as in the specification's pseudo-code) collide every time two clones append.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Container

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)


def _base32(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


IdMaker = Callable[[str, Container[str]], str]


def maker(now: dt.datetime, entropy: Callable[[int], int] | None = None) -> IdMaker:
    """A function that makes ids with `prefix`, avoiding those already `taken`."""
    if entropy is None:
        import secrets

        entropy = secrets.randbits
    stamp = _base32(max(0, int((now - EPOCH).total_seconds())), 6)

    draw = entropy

    def new(prefix: str, taken: Container[str]) -> str:
        while True:
            candidate = f"{prefix}_{stamp}{_base32(draw(20), 4)}"
            if candidate not in taken:
                return candidate

    return new


def created(rid: str) -> dt.datetime | None:
    """When a record with an id made here was created (to the second); None for other ids (seed-style)."""
    _, _, rest = rid.partition("_")
    if len(rest) != 10 or any(c not in ALPHABET for c in rest):
        return None
    seconds = 0
    for c in rest[:6]:
        seconds = seconds * 32 + ALPHABET.index(c)
    return EPOCH + dt.timedelta(seconds=seconds)
