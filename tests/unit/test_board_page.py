"""The board's HTML and the actions it may send: escaping, the inline policy, request checks."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from importlib import resources

import pytest

from gitcoord.board import actions
from gitcoord.board import page

HOSTILE = "</script><script>alert(1)</script><!-- <img src=x onerror=alert(1)> & \u202e"


def script_bodies(text: str) -> list[str]:
    return re.findall(r"<script(?: [^>]*)?>(.*?)</script>", text, flags=re.S)


def test_embedded_json_cannot_end_its_element_and_reads_back_unchanged() -> None:
    embedded = page.embed({"title": HOSTILE})
    assert "<" not in embedded
    assert ">" not in embedded
    assert "&" not in embedded
    assert json.loads(embedded) == {"title": HOSTILE}


def test_the_static_file_is_self_contained_and_its_policy_allows_exactly_its_own_code() -> None:
    text = page.static_html({"branch": "main <b>", "title": HOSTILE})
    assert "<title>coord board: main &lt;b&gt;</title>" in text
    code = page.script()
    style = page.stylesheet()
    assert f"<script>{code}</script>" in text
    assert f"<style>{style}</style>" in text

    def digest(s: str) -> str:
        return base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()

    (policy,) = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', text)
    policy = policy.replace("&#x27;", "'")
    assert f"script-src 'sha256-{digest(code)}'" in policy
    assert f"style-src 'sha256-{digest(style)}'" in policy
    assert "default-src 'none'" in policy
    assert "connect-src" not in policy, "a static file fetches nothing"
    # Nothing from the web: no scheme-relative or absolute address outside the data.
    assert not re.search(r"(src|href)=\"(https?:)?//", text)
    assert "@import" not in style
    assert "url(http" not in style
    bodies = script_bodies(text)
    assert len(bodies) == 3  # the config, the data and the code
    assert json.loads(bodies[1]) == {"branch": "main <b>", "title": HOSTILE}


def test_the_served_page_loads_its_code_from_the_board_and_carries_the_csrf_token() -> None:
    text = page.served_html({"title": HOSTILE}, csrf="tok")
    assert '<script src="/board.js"></script>' in text
    assert '<link rel="stylesheet" href="/board.css">' in text
    config, data, code = script_bodies(text)
    assert json.loads(config) == {"mode": "served", "csrf": "tok"}
    assert json.loads(data) == {"title": HOSTILE}
    assert code == ""
    assert "frame-ancestors 'none'" in page.SERVED_CSP


def test_the_page_code_never_turns_text_into_markup() -> None:
    code = page.script()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "srcdoc"):
        assert sink not in code, sink
    assert "</script" not in code.lower()


def test_the_assets_ship_with_the_package() -> None:
    static = resources.files("gitcoord.board").joinpath("static")
    names = {p.name for p in static.iterdir()}
    assert {"page.html", "board.css", *page.SCRIPTS} <= names


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"action": "decide", "decision_id": "dec_002", "option": "REST API", "rationale": "simple"},
            actions.Action("decide", {"decision_id": "dec_002", "option": "REST API", "rationale": "simple"}),
        ),
        (
            {"action": "cancel", "task_id": "task_002", "reason": "not needed"},
            actions.Action("cancel", {"task_id": "task_002", "reason": "not needed"}),
        ),
        (
            {"action": "release", "task_id": "task_001", "reason": "back to the queue"},
            actions.Action("release", {"task_id": "task_001", "reason": "back to the queue"}),
        ),
    ],
)
def test_the_three_actions(body: object, expected: actions.Action) -> None:
    assert actions.parse(body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "expected a JSON object"),
        ({"action": "merge"}, "unknown action 'merge'; expected one of: decide, cancel, release"),
        ({"action": "cancel", "task_id": "task_002"}, "write a reason"),
        ({"action": "cancel", "task_id": "task_002", "reason": "   "}, "write a reason"),
        ({"action": "cancel", "reason": "r"}, "task_id is missing"),
        ({"action": "cancel", "task_id": 7, "reason": "r"}, "task_id is missing"),
        (
            {"action": "cancel", "task_id": "task_002", "reason": "r", "as": "instance-1"},
            "unexpected field(s) for cancel: as",
        ),
        ({"action": "decide", "decision_id": "dec_002", "option": "A", "rationale": "x" * 10_001}, "longer than 10000"),
        ({"action": "release", "task_id": "t" * 201, "reason": "r"}, "task_id is longer than 200"),
    ],
)
def test_malformed_actions_are_refused_with_the_reason(body: object, message: str) -> None:
    with pytest.raises(actions.BadRequest, match=re.escape(message)):
        actions.parse(body)
