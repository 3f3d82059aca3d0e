"""How results reach people and agents: one versioned JSON envelope, or short text that is safe to print.

With --json a command prints exactly one JSON document on stdout, whatever happens:

    {"version": 1, "ok": true, "command": "task claim", "data": ..., "notes": [...], "error": null}

`data` is the command's result, `notes` what the reader should know beyond it, and `error`
(when `ok` is false) says what went wrong with a stable `kind` and the exit code. The schema
is `schemas/output.json`; the README describes it. Without --json the result is text on
stdout and notes and errors are text on stderr.

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

from gitcoord.errors import ExitCode
from gitcoord.escape import in_json
from gitcoord.escape import safe as safe  # commands escape what they print with it

VERSION = 1  # of the envelope and of every command's `data`: a key removed or changed in meaning bumps it


def to_json(data: Any, *, indent: int | None = 2) -> str:
    # JSON escapes C0 controls itself; C1 controls, bidi marks and invisible characters are escaped here too.
    return in_json(json.dumps(data, ensure_ascii=False, indent=indent))


class Output:
    """One command's output: its result, its notes, and how it ended, printed once.

    In JSON the envelope is printed when the command ends (`finish` or `fail`), so that the
    notes a command gives after its result, and an error raised after some work, all land
    in the one document.
    """

    def __init__(self, *, as_json: bool, command: str = "") -> None:
        self.as_json = as_json
        self.command = command
        self.data: Any = None
        self.notes: list[str] = []
        self.problem: str | None = None
        self.printed = False
        self.color: bool | None = None  # click's: None colours only at a terminal (`--color`, NO_COLOR)

    def emit(self, data: Any, text: str | Iterable[str] = (), *, problem: str | None = None) -> None:
        """The result: `data` for JSON, or `text` for people (an iterable is only consumed then).

        `problem` says, in a line, why the command will exit non-zero although it ran (what a
        check found); it becomes the envelope's error.
        """
        self.problem = problem
        if self.as_json:
            self.data = data
            return
        lines = [text] if isinstance(text, str) else list(text)
        for line in lines:
            click.echo(line, color=self.color)

    def note(self, text: str) -> None:
        """What the reader should know beyond the result: in the envelope's notes, or on stderr."""
        if self.as_json:
            self.notes.append(text)
        else:
            click.echo(f"{click.style('note:', fg='yellow')} {safe(text, one_line=False)}", err=True, color=self.color)

    def tell(self, text: str) -> None:
        """A remark for a person (progress, where something went): stderr, and never in JSON."""
        if not self.as_json:
            click.echo(text, err=True, color=self.color)

    def finish(self, code: int) -> None:
        """The command returned `code`: print the envelope (JSON only)."""
        error = None
        if code:
            kind = "timed_out" if code == ExitCode.TIMED_OUT else "check_failed"
            error = {"kind": kind, "message": self.problem or f"exit code {code}", "exit_code": code}
        self._envelope(error)

    def fail(self, kind: str, message: str, code: int, details: dict[str, Any] | None = None) -> int:
        """The command failed: the envelope with its error, or the message on stderr. Returns `code`."""
        if self.as_json:
            self._envelope({"kind": kind, "message": message, "exit_code": code, **(details or {})})
        elif message:
            error(message, color=self.color)
        return code

    def _envelope(self, error: dict[str, Any] | None) -> None:
        if not self.as_json or self.printed:
            return
        self.printed = True
        envelope = {
            "version": VERSION,
            "ok": error is None,
            "command": self.command,
            "data": self.data,
            "notes": self.notes,
            "error": error,
        }
        # Indented for a person at a terminal; one line for a program (and much faster to write).
        click.echo(to_json(envelope, indent=2 if sys.stdout.isatty() else None))


def error(text: str, *, color: bool | None = None) -> None:
    click.echo(click.style("error:", fg="red", bold=True) + " " + text, err=True, color=color)


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
