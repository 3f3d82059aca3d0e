"""`coord board`: the static file, and the server's access rules, over real HTTP and real git."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from testing.board import page_headers
from testing.board import request
from testing.board import running_board
from testing.repos import git
from testing.signed import HUMAN
from testing.signed import Team as SignedTeam
from testing.unsigned import UnsignedTeam
from tests.conftest import Coord

from gitcoord.board import server


@pytest.fixture
def board(seed_repo: Path) -> Iterator[server.Board]:
    with running_board(seed_repo) as b:
        yield b


def embedded(html: str, element: str) -> object:
    (text,) = re.findall(rf'<script type="application/json" id="{element}">(.*?)</script>', html, flags=re.S)
    return json.loads(text)


def cookie(b: server.Board) -> dict[str, str]:
    """What the page's own reads send: the cookie and the page's token."""
    return {"Cookie": f"{b.cookie}={b.session}", server.CSRF_HEADER: b.csrf}


def act(b: server.Board, body: object, **headers: str) -> tuple[int, dict[str, object]]:
    sent = {**page_headers(b), **headers}
    answer = request(b, "POST", "/api/action", headers=sent, body=json.dumps(body).encode())
    return answer.status, answer.json()


def test_board_needs_a_mode(seed_repo: Path, coord: Coord) -> None:
    result = coord(seed_repo, "board")
    assert result.code == 2
    assert "--serve, or --html FILE" in result.err
    result = coord(seed_repo, "board", "--html", "x.html", "--port", "8000")
    assert result.code == 2
    assert "go with --serve" in result.err


def test_the_static_file_holds_the_board_of_the_tip(seed_repo: Path, coord: Coord, tmp_path: Path) -> None:
    target = tmp_path / "out" / "board.html"
    target.parent.mkdir()
    result = coord(seed_repo, "board", "--html", str(target))
    assert result.code == 0, result
    tip = git(seed_repo, "rev-parse", "main")
    assert f"wrote {target}: the board of {seed_repo.name} (branch main) at {tip[:12]}" in result.err
    html = target.read_text()
    data = embedded(html, "board-data")
    assert isinstance(data, dict)
    assert (data["commit"], data["branch"]) == (tip, "main")
    assert [t["task_id"] for c in data["columns"] for t in c["tasks"]] == ["task_002", "task_003", "task_001"]
    assert embedded(html, "board-config") == {"mode": "static"}
    assert oct(target.stat().st_mode & 0o777) != oct(0o600), "a file to share, not a private one"
    assert [p.name for p in target.parent.iterdir()] == ["board.html"], "no part file left behind"


def test_the_static_file_to_standard_output(seed_repo: Path, coord: Coord) -> None:
    result = coord(seed_repo, "board", "--html", "-")
    assert result.code == 0, result
    assert result.out.startswith("<!doctype html>")


def test_a_directory_that_is_not_there_is_an_error(seed_repo: Path, coord: Coord, tmp_path: Path) -> None:
    result = coord(seed_repo, "board", "--html", str(tmp_path / "missing" / "board.html"))
    assert result.code == 1
    assert "cannot write" in result.err


def test_help_stays_light() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gitcoord", "board", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert not {"http.server", "gitcoord.board", "gitcoord.commands.board"} & imported


def test_nothing_without_the_token(board: server.Board) -> None:
    for path in ("/", "/board.js", "/board.css", "/api/tip", "/api/board"):
        answer = request(board, "GET", path)
        assert answer.status == 403, (path, answer)
        assert board.session.encode() not in answer.body
    assert request(board, "GET", "/?token=not-the-token").status == 403
    assert request(board, "GET", "/api/tip", headers={"Cookie": f"{board.cookie}=guess"}).status == 403


def test_the_token_once_then_the_cookie(board: server.Board, seed_repo: Path) -> None:
    answer = request(board, "GET", f"/?token={board.session}")
    assert answer.status == 200, answer
    assert answer.headers["Set-Cookie"] == f"{board.cookie}={board.session}; HttpOnly; SameSite=Strict; Path=/"
    for name, value in {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
    }.items():
        assert answer.headers[name] == value
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    html = answer.body.decode()
    assert embedded(html, "board-config") == {"mode": "served", "csrf": board.csrf}
    assert board.session not in html, "the page never carries the access token"
    # Every server on 127.0.0.1 is sent the cookie, whatever its port: alone, it gets neither
    # the page (nor the token in it) nor the board's data.
    alone = {"Cookie": f"{board.cookie}={board.session}"}
    assert request(board, "GET", "/", headers=alone).status == 403
    assert request(board, "GET", "/api/board", headers=alone).status == 403
    assert request(board, "GET", "/api/tip", headers=alone).status == 403
    script = request(board, "GET", "/board.js", headers=cookie(board))
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    tip = request(board, "GET", "/api/tip", headers=cookie(board)).json()
    assert tip == {"commit": git(seed_repo, "rev-parse", "main")}
    assert request(board, "GET", "/nowhere", headers=cookie(board)).status == 404


def test_the_servers_own_refusals_carry_the_same_headers(board: server.Board) -> None:
    answer = request(board, "PUT", "/api/action", headers=cookie(board))
    assert answer.status == 501
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert answer.body == b"coord board: Unsupported method ('PUT')\n"


def test_serving_a_repository_without_a_store_says_what_to_do(repo: Path, coord: Coord) -> None:
    result = coord(repo, "board", "--serve", "--no-open")
    assert result.code == 1
    assert "coord init" in result.err
    assert result.out == "", "no address for a board that cannot be shown"


def test_another_host_name_is_refused(board: server.Board) -> None:
    # A DNS-rebound name pointing at 127.0.0.1 arrives with its own Host header.
    answer = request(board, "GET", f"/?token={board.session}", headers={"Host": "evil.example:80"})
    assert answer.status == 421
    other_name = f"localhost:{board.host.split(':')[1]}"
    assert request(board, "GET", "/", headers={**cookie(board), "Host": other_name}).status == 421


def test_the_tip_moves_and_the_board_follows(board: server.Board, seed_repo: Path, coord: Coord) -> None:
    before = request(board, "GET", "/api/tip", headers=cookie(board)).json()["commit"]
    assert coord(seed_repo, "--as", "instance-1", "task", "claim", "task_002").code == 1  # not ready: refused
    assert coord(seed_repo, "--as", "instance-2", "task", "complete", "task_001").code == 0
    after = request(board, "GET", "/api/tip", headers=cookie(board)).json()["commit"]
    assert after != before
    assert after == git(seed_repo, "rev-parse", "main")
    data = request(board, "GET", "/api/board", headers=cookie(board)).json()
    assert data["commit"] == after
    assert [t["task_id"] for t in data["columns"][2]["tasks"]] == ["task_001"]


def test_the_board_shows_what_the_others_pushed(
    tmp_path: Path, coord: Coord, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No one syncs the human's clone: the static file and the served page fetch the shared branch."""
    team = UnsignedTeam(tmp_path, coord, ["human", "instance-2"])
    human = team.clones["human"]
    team.ok(team.clones["instance-2"], "task", "complete", "task_001", "--sync")
    pushed = git(team.clones["instance-2"], "rev-parse", "coord")
    target = tmp_path_factory.mktemp("out") / "board.html"
    assert coord(human, "board", "--html", str(target)).code == 0
    data = embedded(target.read_text(), "board-data")
    assert isinstance(data, dict)
    assert data["commit"] == pushed
    monkeypatch.setattr(server, "REFETCH", 0.0)
    with running_board(human) as b:
        team.ok(team.clones["instance-2"], "task", "claim", "task_002", "--sync")
        again = git(team.clones["instance-2"], "rev-parse", "coord")
        assert request(b, "GET", "/api/tip", headers=cookie(b)).json()["commit"] == again
        assert request(b, "GET", "/api/board", headers=cookie(b)).json()["commit"] == again


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        ({server.CSRF_HEADER: ""}, 403, "needs the page's X-Coord-Board-Token header"),
        ({server.CSRF_HEADER: "guess"}, 403, "needs the page's X-Coord-Board-Token header"),
        ({"Origin": "http://evil.example"}, 403, "must come from the board's own page"),
        ({"Origin": "http://127.0.0.1:1"}, 403, "must come from the board's own page"),
        ({"Sec-Fetch-Site": "same-site"}, 403, "must come from the board's own page"),
        ({"Content-Type": "text/plain"}, 415, "application/json"),
    ],
)
def test_a_change_needs_the_page_itself(
    board: server.Board, seed_repo: Path, headers: dict[str, str], status: int, error: str
) -> None:
    head = git(seed_repo, "rev-parse", "main")
    answer = act(board, {"action": "cancel", "task_id": "task_002", "reason": "r"}, **headers)
    assert answer == (status, {"ok": False, "error": answer[1]["error"]})
    assert error in str(answer[1]["error"])
    assert git(seed_repo, "rev-parse", "main") == head


def test_a_change_without_the_cookie_is_refused(board: server.Board) -> None:
    answer = act(board, {"action": "cancel", "task_id": "task_002", "reason": "r"}, Cookie="")
    assert answer[0] == 403


def test_bodies_are_bounded_and_must_be_json(board: server.Board) -> None:
    big = request(board, "POST", "/api/action", headers=page_headers(board), body=b"{" + b" " * server.MAX_BODY + b"}")
    assert big.status == 413
    assert request(board, "POST", "/api/action", headers=page_headers(board), body=b"{not json").status == 400
    wrong = act(board, {"action": "merge"})
    assert wrong == (400, {"ok": False, "error": "unknown action 'merge'; expected one of: decide, cancel, release"})


def test_a_human_action_is_the_core_step_as_the_human(board: server.Board, seed_repo: Path, coord: Coord) -> None:
    status, answer = act(
        board, {"action": "release", "task_id": "task_001", "reason": "instance-2 is needed elsewhere"}
    )
    assert status == 200, answer
    assert answer["ok"] is True
    assert answer["summary"] == "human releases task_001: instance-2 is needed elsewhere"
    assert answer["commit"] == git(seed_repo, "rev-parse", "main")
    assert git(seed_repo, "log", "-1", "--format=%(trailers:key=Coord-Event,key=Coord-Instance,valueonly)") == (
        "task.release\nhuman"
    )
    assert coord(seed_repo, "check", "--range", "HEAD~1..HEAD").code == 0
    assert git(seed_repo, "status", "--porcelain") == "", "the checkout follows, as after the command line"
    shown = json.loads(coord(seed_repo, "task", "show", "task_001", "--json").out)["data"]
    assert (shown["status"], shown["assigned_to"]) == ("pending_assignment", None)


def test_a_refusal_of_the_core_comes_back_readable(board: server.Board, seed_repo: Path) -> None:
    head = git(seed_repo, "rev-parse", "main")
    status, answer = act(board, {"action": "release", "task_id": "task_002", "reason": "r"})
    assert status == 409
    assert answer == {"ok": False, "error": answer["error"]}
    assert "task_002 is pending_assignment; release needs it assigned or in_progress or blocked" in str(answer["error"])
    status, answer = act(board, {"action": "decide", "decision_id": "dec_404", "option": "A", "rationale": "r"})
    assert (status, answer["error"]) == (
        409,
        "there is no decision 'dec_404'; `coord decision list --all` shows them (an id, or its start after the prefix)",
    )
    assert git(seed_repo, "rev-parse", "main") == head


def test_an_action_whose_push_loses_the_race_is_made_again_with_no_merge(tmp_path: Path, coord: Coord) -> None:
    team = UnsignedTeam(tmp_path, coord, ["human", "instance-2"])
    human = team.clones["human"]
    with running_board(human) as b:
        team.ok(team.clones["instance-2"], "task", "add", "Other work", "--sync")  # the board has not seen it
        status, answer = act(b, {"action": "release", "task_id": "task_001", "reason": "needed elsewhere"})
    assert status == 200, answer
    assert (answer["shared"], answer["warning"]) == (True, None)
    assert answer["commit"] == git(human, "rev-parse", "origin/coord") == git(human, "rev-parse", "coord")
    assert git(human, "rev-list", "--merges", "--count", "origin/coord") == "0"
    mine, theirs = git(human, "log", "-2", "--format=%s", "origin/coord").splitlines()
    assert mine == "coord(task): human releases task_001: needed elsewhere"
    assert theirs.startswith("coord(task): instance-2 adds task_")
    assert theirs.endswith(": Other work")


def test_an_action_that_no_longer_applies_on_what_the_others_pushed_is_taken_back(tmp_path: Path, coord: Coord) -> None:
    team = UnsignedTeam(tmp_path, coord, ["human", "instance-2"])
    human = team.clones["human"]
    with running_board(human) as b:
        team.ok(team.clones["instance-2"], "task", "complete", "task_001", "--sync")
        status, answer = act(b, {"action": "release", "task_id": "task_001", "reason": "needed elsewhere"})
    assert status == 409, answer
    assert "no longer applies" in str(answer["error"])
    assert "Nothing was committed" in str(answer["error"])
    assert git(human, "rev-parse", "coord") == git(human, "rev-parse", "origin/coord"), "taken back"
    assert git(human, "log", "-1", "--format=%s", "coord") == "coord(task): instance-2 completes task_001"


def test_the_human_is_whoever_the_settings_name(board: server.Board, seed_repo: Path, coord: Coord) -> None:
    registry = seed_repo / "coordination" / "instance-registry.json"
    doc = json.loads(registry.read_text())
    doc["settings"] = {"human_coordinator": "alice"}
    registry.write_text(json.dumps(doc, indent=2))
    git(seed_repo, "-c", "coord.instance=human", "commit", "-qam", "the human hands over to alice")
    assert coord(seed_repo, "--as", "instance-3", "escalate", "dec_002", "--reason", "we disagree").code == 0
    status, answer = act(board, {"action": "decide", "decision_id": "dec_002", "option": "REST API", "rationale": "r"})
    assert status == 200, answer
    assert answer["summary"] == "alice decides dec_002: REST API"


def _serve(repo: Path, branch: str = "main") -> str:
    """Start `coord board --serve` in `repo`, reach it, stop it with Ctrl-C: what it said on stderr."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitcoord", "-C", str(repo), "board", "--serve", "--no-open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        pattern = (
            rf"The board of {re.escape(repo.name)} \(branch {branch}\): (http://127\.0\.0\.1:(\d+)/\?token=[\w-]+)\n"
        )
        match = re.fullmatch(pattern, line)
        assert match, line
        with socket.create_connection(("127.0.0.1", int(match[2])), timeout=10) as conn:
            conn.sendall(b"GET /api/tip HTTP/1.0\r\nHost: 127.0.0.1:" + match[2].encode() + b"\r\n\r\n")
            assert conn.recv(100).startswith(b"HTTP/1.0 403")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "The board has stopped." in err
    assert "Traceback" not in err
    return err


def test_the_command_serves_until_interrupted(seed_repo: Path) -> None:
    _serve(seed_repo)


def test_served_where_the_human_cannot_sign_the_board_says_its_buttons_would_be_refused(
    tmp_path: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COORD_KEYS_DIR", str(tmp_path / "keys"))
    team = SignedTeam.build(tmp_path / "team", coord, ("instance-1",))
    told = _serve(team.clones["instance-1"])
    assert "its buttons would be refused here" in told
    assert "a key the registry does not hold for human" in told
    assert "Serve the board from the human coordinator's clone" in told
    assert "refused" not in _serve(team.clones[HUMAN]), "the human's own clone signs as the human"


def test_a_port_in_use_is_a_clear_error(seed_repo: Path, coord: Coord) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = coord(seed_repo, "board", "--serve", "--no-open", "--port", str(port))
    assert result.code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.err
    assert "choose another --port" in result.err
