"""One GitHub issue that tracks the coordination's health: opened, updated or closed to match.

It talks to GitHub through the `gh` command line (preinstalled on GitHub's runners, given
GH_TOKEN), so the workflow needs no other tool and no token in its command lines.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from gitcoord.errors import FatalError

LABEL = "coordination-health"


def _gh(*args: str) -> str:
    try:
        done = subprocess.run(["gh", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise FatalError("the GitHub command line `gh` is not installed (GitHub's runners have it)") from None
    if done.returncode != 0:
        raise FatalError(f"`gh {' '.join(args)}` failed: {done.stderr.strip()}")
    return done.stdout


def track(*, unhealthy: bool, title: str, body: str) -> str:
    """Open, update or close the one labelled issue so that it matches the report; what was done."""
    found: Sequence[dict[str, int]] = json.loads(
        _gh("issue", "list", "--label", LABEL, "--state", "open", "--json", "number", "--limit", "1")
    )
    number = str(found[0]["number"]) if found else None
    if not unhealthy:
        if number is None:
            return "healthy; no issue open"
        _gh("issue", "close", number, "--comment", "Healthy again: every error-level rule holds.")
        return f"healthy; closed issue #{number}"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.md"
        report.write_text(body, "utf-8")
        if number is not None:
            _gh("issue", "edit", number, "--title", title, "--body-file", str(report))
            return f"updated issue #{number}"
        _gh(
            "label",
            "create",
            LABEL,
            "--force",
            "--color",
            "d93f0b",
            "--description",
            "Opened and closed by coord health",
        )
        url = _gh("issue", "create", "--title", title, "--label", LABEL, "--body-file", str(report)).strip()
        return f"opened {url}"
