"""Text for people: aligned columns and colour, safe whatever instances wrote.

Every cell is escaped (`escape.safe`) before it is measured, so that text from an instance
can neither repaint the terminal nor push the columns out of line, and widths count what
the terminal shows (a CJK character takes two columns, a combining mark none). Colour is
click's: `click.echo` drops it when the output is not a terminal, when `--color=never` or
`NO_COLOR` says so, and keeps it only with `--color=always` when piped.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

import click

from gitcoord.escape import safe

# What each status looks like: open work stands out, closed work fades.
STYLES: dict[str, dict[str, Any]] = {
    # tasks
    "pending_assignment": {},
    "offered": {"fg": "magenta"},
    "assigned": {"fg": "cyan"},
    "in_progress": {"fg": "yellow"},
    "blocked": {"fg": "red", "bold": True},
    "completed": {"fg": "green"},
    "cancelled": {"dim": True},
    # messages
    "pending_response": {"fg": "yellow"},
    "responded": {"fg": "cyan"},
    "sent": {"bold": True},
    "closed": {"dim": True},
    "acknowledged": {"dim": True},
    # decisions (and instances: pending, active, offline)
    "pending": {"fg": "yellow"},
    "escalated": {"fg": "red", "bold": True},
    "active": {"fg": "green"},
    "superseded": {"dim": True},
    "offline": {"dim": True},
    # findings and checks
    "error": {"fg": "red", "bold": True},
    "warning": {"fg": "yellow"},
    "ok": {"fg": "green"},
    "FAIL": {"fg": "red", "bold": True},
    # parts of a line
    "id": {"bold": True},
    "heading": {"bold": True, "underline": True},
    "quiet": {"dim": True},
}


class Cell:
    """Text for one column, shown with the style named (a key of STYLES, or none)."""

    __slots__ = ("style", "text")

    def __init__(self, text: object, style: str | None = None) -> None:
        self.text = safe("-" if text is None else text)
        self.style = style


def width(text: str) -> int:
    """The columns `text` takes in a terminal."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def paint(text: str, style: str | None) -> str:
    return click.style(text, **STYLES[style]) if style and STYLES.get(style) else text


def styled(text: object, style: str | None) -> str:
    """One escaped, painted piece of text, for a line that is not a table."""
    return paint(safe(text), style)


def table(rows: Iterable[Sequence[Cell | object]], *, indent: str = "  ") -> list[str]:
    """The rows with each column as wide as its widest cell (the last one not padded)."""
    cells = [[c if isinstance(c, Cell) else Cell(c) for c in row] for row in rows]
    widths: list[int] = []
    for row in cells:
        for i, cell in enumerate(row):
            if i == len(widths):
                widths.append(0)
            widths[i] = max(widths[i], width(cell.text))
    lines = []
    for row in cells:
        parts = []
        for i, cell in enumerate(row):
            pad = "" if i == len(row) - 1 else " " * (widths[i] - width(cell.text))
            parts.append(paint(cell.text, cell.style) + pad)
        lines.append((indent + "  ".join(parts)).rstrip())
    return lines


def heading(text: str) -> str:
    return paint(text, "heading")
