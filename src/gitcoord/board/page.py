"""The board's HTML: one template, the package's own CSS and JS, and the data as JSON.

Served, the page loads its script and style from the server (so the Content-Security-Policy
header allows only same-origin code); as a static file, they are inlined, and a CSP
`<meta>` allows exactly those two by their hashes. Either way the data sits in a
`<script type="application/json">` element that the browser never runs, with `<`, `>`
and `&` escaped so that no text in it can end the element.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import string
from importlib import resources
from typing import Any

from gitcoord.output import to_json

SCRIPTS = ("dom.js", "graph.js", "render.js", "tasks.js", "live.js")

# Served pages: code and style only from the board itself, data only from its own API, no
# framing (its buttons act), no forms posting anywhere, no base-URL games.
SERVED_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@functools.cache
def asset(name: str) -> str:
    return resources.files("gitcoord.board").joinpath("static").joinpath(name).read_text("utf-8")


@functools.lru_cache(maxsize=1)
def script() -> str:
    """The page's code: the static/*.js files in order, inside one function (their shared scope)."""
    parts = "\n".join(asset(name) for name in SCRIPTS)
    return f"(function () {{\n'use strict';\n{parts}\n}})();\n"


def stylesheet() -> str:
    return asset("board.css")


def embed(data: Any) -> str:
    """JSON that can sit inside a <script> element: no `</script>`, no `<!--`, whatever the text."""
    text = to_json(data, indent=None)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _title(data: dict[str, Any]) -> str:
    branch = data.get("branch")
    return f"coord board: {branch}" if branch else "coord board"


def _fill(**parts: str) -> str:
    return string.Template(asset("page.html")).substitute(parts)


def served_html(data: dict[str, Any], *, csrf: str) -> str:
    return _fill(
        csp="",  # the server sends it as a header (SERVED_CSP), which also covers frame-ancestors
        title=html.escape(_title(data)),
        style='<link rel="stylesheet" href="/board.css">',
        script='<script src="/board.js"></script>',
        config=embed({"mode": "served", "csrf": csrf}),
        data=embed(data),
    )


def static_html(data: dict[str, Any]) -> str:
    """One self-contained file: no request leaves it (the policy allows none), so it works offline."""
    code, style = script(), stylesheet()
    if "</script" in code.lower() or "</style" in style.lower():  # pragma: no cover (our own files)
        raise AssertionError("an inlined asset would end its own element")
    policy = (
        f"default-src 'none'; script-src {_sha256(code)}; style-src {_sha256(style)}; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    return _fill(
        csp=f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">',
        title=html.escape(_title(data)),
        style=f"<style>{style}</style>",
        script=f"<script>{code}</script>",
        config=embed({"mode": "static"}),
        data=embed(data),
    )
