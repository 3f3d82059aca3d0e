"""The board's local web server: the standard library's, on 127.0.0.1 only, behind a token.

- The URL printed at start carries a random access token, and the page is served only to a
  request that carries it; the answer also sets it as an HttpOnly, SameSite=Strict cookie,
  which every other request needs.
- The page holds a second token, which its reads of the board's data and its actions send in
  a header; an action also needs an Origin that is exactly this server's and a JSON body. A
  cookie is sent to every server on 127.0.0.1, whatever its port: another local server the
  human's browser opens receives this one's, and with it alone gets neither the page nor its
  token, so it can neither read the board nor act through it.
- A Host header other than this server's is refused, so a DNS-rebound name cannot reach it.
- Bodies are bounded, clients time out, and only a few are served at once.

The page shows the shared branch: the page's poll fetches it (`refresh`, at most every
REFETCH seconds), so what the other instances pushed shows up without anyone syncing here.
"""

from __future__ import annotations

import hmac
import http.cookies
import json
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from gitcoord import clock
from gitcoord import git
from gitcoord import model
from gitcoord import refresh
from gitcoord import validation
from gitcoord import workspace
from gitcoord.board import actions
from gitcoord.board import page
from gitcoord.board.data import page_data
from gitcoord.combine import Undone
from gitcoord.commands import step
from gitcoord.errors import FatalError

MAX_BODY = 64 * 1024
MAX_CLIENTS = 16
REFETCH = 10.0  # seconds between the served board's fetches of the shared branch
CSRF_HEADER = "X-Coord-Board-Token"

_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": page.SERVED_CSP,
}
_ASSETS: dict[str, tuple[str, Callable[[], str]]] = {
    "/board.js": ("text/javascript", page.script),
    "/board.css": ("text/css", page.stylesheet),
}


def read(ws: workspace.Workspace, commit: git.Sha | None = None) -> dict[str, Any]:
    """The board's data at `commit` (by default the local tip of the shared branch), as of now."""
    commit = commit or workspace.tip(ws)
    snap = workspace.snapshot(ws, strict=False, commit=commit)
    snap.prefetch(list(model.FILES))
    with validation.reading(snap):
        return page_data(snap, clock.now(), commit=commit, branch=ws.branch)


class Board:
    """What the handlers share: the workspace, the two secrets, and the lock that orders actions."""

    def __init__(self, ws: workspace.Workspace, port: int) -> None:
        self.ws = ws
        self.origin = f"http://127.0.0.1:{port}"
        self.host = f"127.0.0.1:{port}"
        self.cookie = f"coord-board-{port}"  # cookies ignore ports; two boards must not share one
        self.session = secrets.token_urlsafe(32)
        self.csrf = secrets.token_urlsafe(32)
        self._acting = threading.Lock()
        self._fetching = threading.Lock()
        self._fetched = -REFETCH  # when the last fetch ended (time.monotonic)
        self._fresh: refresh.Freshness | None = None  # what it chose to read

    @property
    def url(self) -> str:
        return f"{self.origin}/?token={self.session}"

    def tip(self) -> git.Sha | None:
        """The commit the page shows, after a fetch when the last is REFETCH seconds old: the page
        polls this, and re-reads the store only when it moved."""
        self._refetch()
        return self.showing()

    def showing(self) -> git.Sha | None:
        """What the last fetch chose to read (the remote's tip, when the branch is checked out and
        cannot move), while the local branch stays where it was then; else the local branch."""
        local = git.rev_parse(self.ws.root, self.ws.ref)
        fresh = self._fresh
        return fresh.commit if fresh is not None and fresh.local == local and fresh.commit else local

    def _refetch(self) -> None:
        if time.monotonic() - self._fetched < REFETCH or not self._fetching.acquire(blocking=False):
            return  # fetched a moment ago, or another poll is fetching now
        try:
            with self._acting:  # never beside an action's own sync
                self._fresh = refresh.refresh(self.ws, timeout=refresh.timeout(self.ws))
        except FatalError:
            pass  # nothing arrived that can be read: the page keeps showing what it had
        finally:
            self._fetched = time.monotonic()
            self._fetching.release()

    def act(self, action: actions.Action) -> dict[str, Any]:
        """Run the action as the human coordinator, through the same step as the command line."""
        with self._acting:
            snap = workspace.snapshot(self.ws, strict=False)
            with validation.reading(snap):
                human = model.settings_of(snap[model.REGISTRY]).human_coordinator
            ws = self.ws._replace(identity=human)
            applied = step.commit_now(action.build, ws)
            warning = None
            try:  # a push that lost the race makes the step again on what the others did, no merge
                applied, synced = step.share(ws, action.build, applied, None)
            except Undone:
                raise  # it no longer applies there: taken back, and the page says why (409)
            except FatalError as e:
                synced, warning = None, str(e)
        change = applied.change
        return {
            "ok": True,
            "summary": change.event.summary,
            "commit": applied.commit,
            "notes": list(change.notes),
            "shared": synced is not None,
            "warning": warning,
        }


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a client that hangs on does not keep the process alive

    def __init__(self, ws: workspace.Workspace, port: int) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.board = Board(ws, self.server_address[1])
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # busy: the page's next poll tries again
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def make_server(ws: workspace.Workspace, *, port: int) -> Server:
    try:
        return Server(ws, port)
    except OSError as e:
        raise FatalError(
            f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}; "
            "choose another --port, or leave it out for a free one"
        ) from None


class Handler(BaseHTTPRequestHandler):
    server: Server
    timeout = 15  # seconds a client may take to send its request

    def version_string(self) -> str:
        return "coord-board"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (a malformed request, an unknown method), with our headers."""
        self.close_connection = True
        reason = message or self.responses.get(code, ("error",))[0]
        self._send(code, f"coord board: {reason}\n".encode(), "text/plain; charset=utf-8")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the standard library's name)
        # Quiet: the page polls every two seconds, and a request line can carry the token.
        return

    def _handle(self, method: str) -> None:
        board = self.server.board
        try:
            url = urlsplit(self.path)
            if self.headers.get("Host") != board.host:
                return self._error(421, f"this board answers only as {board.host}")
            if method == "GET" and url.path == "/":
                return self._page(board, url.query)
            if not self._has_cookie(board):
                return self._error(403, "open the address `coord board --serve` printed, with its token")
            if method == "POST" and url.path == "/api/action":
                return self._action(board)
            if method == "GET" and url.path in _ASSETS:
                kind, text = _ASSETS[url.path]
                return self._send(200, text().encode("utf-8"), f"{kind}; charset=utf-8")
            if url.path.startswith("/api/") and not _same(self.headers.get(CSRF_HEADER, ""), board.csrf):
                return self._error(403, f"the board's data and actions need the page's {CSRF_HEADER} header")
            if method == "GET" and url.path == "/api/tip":
                return self._json(200, {"commit": board.tip()})
            if method == "GET" and url.path == "/api/board":
                return self._json(200, read(board.ws, board.showing()))
            return self._error(404 if method == "GET" else 405, "no such page")
        except FatalError as e:
            return self._error(409, str(e))
        except (TimeoutError, ConnectionError):
            return None
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return self._error(500, "unexpected error: this is a bug in gitcoord (details on the server's stderr)")

    def _page(self, board: Board, query: str) -> None:
        given = parse_qs(query).get("token", [])
        if not given:  # the cookie alone does not do: every server on 127.0.0.1 is sent it
            return self._error(403, "open the address `coord board --serve` printed, with its token")
        if not _same(given[0], board.session):
            return self._error(403, "this token is not (or no longer) this board's: use the address it printed")
        cookie = f"{board.cookie}={board.session}; HttpOnly; SameSite=Strict; Path=/"
        body = page.served_html(read(board.ws, board.tip()), csrf=board.csrf).encode("utf-8")
        return self._send(200, body, "text/html; charset=utf-8", {"Set-Cookie": cookie})

    def _has_cookie(self, board: Board) -> bool:
        jar = http.cookies.SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie", ""))
        except http.cookies.CookieError:
            return False
        morsel = jar.get(board.cookie)
        return morsel is not None and _same(morsel.value, board.session)

    def _action(self, board: Board) -> None:
        if not _same(self.headers.get(CSRF_HEADER, ""), board.csrf):
            return self._error(403, f"a change needs the page's {CSRF_HEADER} header")
        site = self.headers.get("Sec-Fetch-Site")
        if self.headers.get("Origin") != board.origin or site not in (None, "same-origin"):
            return self._error(403, "a change must come from the board's own page")
        if self.headers.get_content_type() != "application/json":
            return self._error(415, "send the action as application/json")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return self._error(411, "say the body's Content-Length")
        if not 0 < length <= MAX_BODY:
            return self._error(413, f"a body of 1 to {MAX_BODY} bytes, please")
        try:
            action = actions.parse(json.loads(self.rfile.read(length)))
        except (ValueError, UnicodeDecodeError) as e:  # BadRequest and malformed JSON alike
            return self._error(400, str(e))
        return self._json(200, board.act(action))

    def _error(self, status: int, message: str) -> None:
        if self.path.startswith("/api/"):
            return self._json(status, {"ok": False, "error": message})
        # A person who opened the wrong address reads this in the browser.
        return self._send(status, f"coord board: {message}\n".encode(), "text/plain; charset=utf-8")

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {**_HEADERS, **(extra or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _same(given: str, secret: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8"))


def serve(server: Server) -> None:
    """Serve until Ctrl-C (or `server.shutdown()` from another thread), then close the socket."""
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
