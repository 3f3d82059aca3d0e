"""The board's server for tests: the real one, on a free port, in a thread of the test process."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from typing import NamedTuple

from gitcoord import workspace
from gitcoord.board import server


@contextlib.contextmanager
def running_board(repo: Path) -> Iterator[server.Board]:
    httpd = server.make_server(workspace.open_workspace(repo), port=0)
    thread = threading.Thread(target=server.serve, args=(httpd,), daemon=True)
    thread.start()
    try:
        yield httpd.board
    finally:
        httpd.shutdown()
        thread.join(timeout=10)


class Answer(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def __str__(self) -> str:
        return f"HTTP {self.status}\n{self.headers}\n{self.body[:2000]!r}"


def request(
    board: server.Board, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes | None = None
) -> Answer:
    """One HTTP request with exactly the headers given (Host too, when given)."""
    port = int(board.host.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        conn.close()


def page_headers(board: server.Board) -> dict[str, str]:
    """What the board's own page sends with an action: its cookie, its token, its origin."""
    return {
        "Cookie": f"{board.cookie}={board.session}",
        server.CSRF_HEADER: board.csrf,
        "Origin": board.origin,
        "Content-Type": "application/json",
    }
