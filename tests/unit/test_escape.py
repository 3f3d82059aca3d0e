"""What instances write is shown, not obeyed: every control and invisible character escaped."""

from __future__ import annotations

import json
import sys
import unicodedata

from gitcoord import escape
from gitcoord.output import to_json

HIDDEN = {"Cc", "Cf", "Zl", "Zp"}


def test_every_control_format_and_separator_character_is_escaped() -> None:
    """The listed ranges are Unicode's own categories, as this Python knows them: a tag character
    (U+E0041, which an LLM reads and a person never sees) or a line separator is escaped too."""
    hidden = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in HIDDEN]
    missed = [f"U+{ord(c):04X}" for c in hidden if escape.safe(c) == c]
    assert missed == []
    assert escape.safe("a\tb\nc", one_line=False) == "a\tb\nc", "tabs and new lines stay in text shown whole"
    shown = [c for c in "Grüße, 東京, 👍, -–—" if escape.safe(c) != c]
    assert shown == [], "visible text stays as it is"


def test_characters_past_the_basic_plane_are_escaped_in_their_own_form() -> None:
    assert escape.safe("x\U000e0041y\u2028z") == "x\\U000e0041y\\u2028z"
    text = to_json({"subject": "x\U000e0041y\u202ez"})
    assert "\U000e0041" not in text
    assert "\u202e" not in text
    assert json.loads(text) == {"subject": "x\U000e0041y\u202ez"}, "the same value to a parser"


def test_a_run_of_variation_selectors_and_blank_letters_are_escaped_one_selector_is_not() -> None:
    """One selector after a character picks its look (a red heart); a run of them encodes text a
    person never sees, a byte a selector. Hangul fillers show as nothing at all."""
    assert escape.safe("love \u2764\ufe0f") == "love \u2764\ufe0f"
    smuggled = "green \U0001f44d" + "\ufe01\ufe02" + "\U000e0101\U000e0142"
    assert escape.safe(smuggled) == "green \U0001f44d\\ufe01\\ufe02\\U000e0101\\U000e0142"
    assert escape.safe("a\u3164b\u115fc") == "a\\u3164b\\u115fc"
    assert json.loads(to_json({"s": smuggled})) == {"s": smuggled}
