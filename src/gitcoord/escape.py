"""Text written by instances, made safe to show: control characters escaped instead of obeyed.

An escape sequence in a title must not repaint or retitle the reader's terminal, nor a bidi
override disguise what a commit subject or a message says. Pure: the core uses it for commit
subjects, the edges for everything they print.
"""

from __future__ import annotations

import re
from typing import Any

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
UNSAFE_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def safe(text: Any, *, one_line: bool = True) -> str:
    """`text` with every control character shown as an escape instead of obeyed."""
    pattern = UNSAFE_ONE_LINE if one_line else UNSAFE
    return pattern.sub(lambda m: f"\\u{ord(m[0]):04x}", str(text))
