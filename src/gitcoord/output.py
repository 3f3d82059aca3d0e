"""How results reach people and agents: stable JSON, or short text that is safe to print.

Text written by other instances (subjects, messages, reasons) is shown without the control
characters a terminal would obey: an escape sequence in a message must not repaint or
retitle the reader's terminal, nor a bidi override disguise what it says.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

import click

from gitcoord.escape import UNSAFE
from gitcoord.escape import safe


def to_json(data: Any, *, indent: int | None = 2) -> str:
    # JSON escapes C0 controls itself; C1 controls and bidi marks are escaped here too.
    return UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", json.dumps(data, ensure_ascii=False, indent=indent))


class Output:
    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, data: Any, text: str | Iterable[str] = ()) -> None:
        """Print the result: `data` as JSON, or `text` for people (an iterable is only consumed then)."""
        if self.as_json:
            # Indented for a person at a terminal; one line for a program (and much faster to write).
            click.echo(to_json(data, indent=2 if sys.stdout.isatty() else None))
            return
        lines = [text] if isinstance(text, str) else list(text)
        for line in lines:
            click.echo(line)

    def note(self, text: str) -> None:
        """A remark for people that is not part of the result (stderr, never in JSON)."""
        click.echo(text, err=True)


def error(text: str) -> None:
    click.echo(click.style("error: ", fg="red", bold=True) + text, err=True)


def workflow_escape(text: str, *, prop: bool = False) -> str:
    """GitHub workflow-command escaping, so that text from instances cannot issue commands of its own."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def markdown_cell(text: Any) -> str:
    """Text for a Markdown table cell: no table breaks, no HTML, no @mentions that would ping people."""
    flat = " ".join(safe(text).split())
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("@", "&#64;"), ("`", "&#96;")):
        flat = flat.replace(raw, escaped)
    return flat
