"""Text written by instances, made safe to show: control characters escaped instead of obeyed.

An escape sequence in a title must not repaint or retitle the reader's terminal, nor a bidi
override disguise what a commit subject or a message says. Pure: the core uses it for commit
subjects, the edges for everything they print.
"""

from __future__ import annotations

import re
from typing import Any

# Every character of Unicode's categories Cc (controls), Cf (format: bidi marks and overrides,
# zero-width and invisible characters, the tag characters an LLM reads and a person never sees),
# Zl and Zp (line and paragraph separators, which fake a new line of output). Listed, not
# computed at import: every command would pay for a walk of the whole code space. A test checks
# the list against `unicodedata`.
_INVISIBLE = (
    "\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
# Blank letters that show as nothing (Hangul fillers), and variation selectors in a run: one after
# a character picks its look (an emoji's colour, a CJK variant); a run of them says nothing a
# person sees, and is how a text is smuggled past the eye, a byte a selector.
_BLANK = "\u115f\u1160\u3164\uffa0"
_RUN = "[\ufe00-\ufe0f\U000e0100-\U000e01ef]{2,}"
UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}{_BLANK}]|{_RUN}")  # tabs and new lines kept
UNSAFE_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}{_BLANK}]|{_RUN}")


def safe(text: Any, *, one_line: bool = True) -> str:
    """`text` with every control and invisible character shown as an escape instead of obeyed."""
    pattern = UNSAFE_ONE_LINE if one_line else UNSAFE
    return pattern.sub(_escaped, str(text))


def _escaped(match: re.Match[str]) -> str:
    return "".join(f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}" for c in match[0])


def in_json(text: str) -> str:
    """JSON text with those characters escaped as JSON escapes them (\\uXXXX, a surrogate pair
    above U+FFFF): the same value to a parser, nothing invisible to a reader."""
    return UNSAFE.sub(_json_escaped, text)


def _json_escaped(match: re.Match[str]) -> str:
    return "".join(_json_escape(ord(c)) for c in match[0])


def _json_escape(code: int) -> str:
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
