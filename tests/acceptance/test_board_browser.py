"""The board in a real browser: headless Chromium loads the served page and the static file.

The assertions read the DOM after the page's scripts ran; the actions are real clicks,
and their commits are checked in the real repository. Screenshots go to tests/artifacts/.
Without Chromium and chromedriver these tests are skipped, saying how to install them
(COORD_BROWSER_TESTS=required, as .ci/run sets it, makes that a failure instead).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import pytest
from testing import browser as chromium
from testing.board import running_board
from testing.repos import git
from tests.conftest import Coord

from gitcoord.board import server

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

REQUIRED = os.environ.get("COORD_BROWSER_TESTS") == "required"  # read before the tests clear COORD_*
NOW = "2024-01-15T14:00:00Z"
HOSTILE_TITLE = "Fix <img src=x onerror=alert(1)> parser \u202eevil"
HOSTILE_BODY = '</script><script>window.pwned = 1</script>\n<img src=x onerror="window.pwned = 2"> \u202etxt.exe'


def shown(text: str) -> str:
    """How the page shows instance text: verbatim, with bidi marks as visible escapes."""
    return text.replace("\u202e", "\\u202e")


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    pytest.importorskip("selenium", reason=chromium.INSTALL_HINT)
    found = chromium.find()
    if found is None:
        if REQUIRED:
            pytest.fail(chromium.INSTALL_HINT)
        pytest.skip(chromium.INSTALL_HINT)
    d = chromium.start(*found, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield d
    finally:
        d.quit()


@pytest.fixture
def team(seed_repo: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    monkeypatch.setenv("COORD_NOW", NOW)  # the board's ages as of one moment, and the steps' unless `at` says

    def run(who: str, *args: str, at: str = NOW) -> str:
        monkeypatch.setenv("COORD_NOW", at)
        try:
            result = coord(seed_repo, "--as", who, *args)
        finally:
            monkeypatch.setenv("COORD_NOW", NOW)
        assert result.code == 0, result
        return result.out.strip()

    return run


@pytest.fixture
def scene(seed_repo: Path, team: Callable[..., str]) -> Path:
    """The seed's team at work, with a hostile title and message, and dec_002 escalated."""
    team("instance-1", "checkin")
    team("instance-2", "task", "add", HOSTILE_TITLE, "--depends", "task_003")
    team("instance-3", "msg", "send", "--to", "instance-1", "--subject", "</script> subject", "--body", HOSTILE_BODY,
         "--requires-response")  # fmt: skip
    team("instance-3", "escalate", "dec_002", "--reason", "REST or GraphQL: instance-1 and I disagree",
         "--position", "instance-1=GraphQL federation scales better")  # fmt: skip
    return seed_repo


@pytest.fixture
def served(scene: Path, driver: WebDriver) -> Iterator[server.Board]:
    with running_board(scene) as board:
        driver.get(board.url)
        wait(driver, lambda d: d.execute_script("return document.body.dataset.commit"))
        yield board
        leave(driver)


def leave(driver: WebDriver) -> None:
    """Close the page before its server stops, so that its polling does not log into the next test."""
    driver.get("about:blank")
    chromium.console_errors(driver)  # read, so that the next test sees only its own


def wait(driver: WebDriver, until: Callable[[Any], Any], seconds: float = 15) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.1).until(until)


def one(driver: WebDriver | WebElement, css: str) -> WebElement:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def every(driver: WebDriver | WebElement, css: str) -> list[WebElement]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def text_of(element: WebElement) -> str:
    return str(element.get_property("textContent"))


def hostile_text_stays_text(driver: WebDriver) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    titles = [text_of(e) for e in every(driver, ".card[data-task] .title")]
    assert shown(HOSTILE_TITLE) in titles
    bodies = [text_of(e) for e in every(driver, "tr[data-message] .body")]
    assert shown(HOSTILE_BODY) in bodies
    assert every(driver, "img") == [], "no markup was made of the text"
    assert driver.execute_script("return window.pwned === undefined")
    assert "\u202e" not in one(driver, "body").text
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 (reading it is the check)


def test_the_served_board_shows_text_as_text_and_the_human_decides(
    served: server.Board, driver: WebDriver, seed_repo: Path, coord: Coord
) -> None:
    assert driver.current_url == served.url, "the token stays in the address: a reload needs it"
    hostile_text_stays_text(driver)
    escalation = one(driver, ".escalation")
    assert "REST or GraphQL: instance-1 and I disagree" in escalation.text
    assert "instance-1 (per instance-3): GraphQL federation scales better" in escalation.text, "who wrote it down"
    late = one(driver, "tr[data-message='msg_001']")
    assert "2.7 h of 40 min\nlate" in late.text
    assert "held by instance-2" in one(driver, ".card[data-task='task_001']").text
    print("screenshot:", chromium.screenshot(driver, "board-served.png", full=True))

    every(escalation, "input[type=radio]")[0].click()  # REST API
    one(escalation, "textarea").send_keys("Simpler to run and debug; revisit at ten times the load")
    one(escalation, "button[type=submit]").click()
    notice = wait(driver, lambda d: every(d, "#notice.done"))[0]
    assert notice.text.startswith("Done: human decides dec_002: REST API")
    assert "note: decided without input from instance-1, instance-3" in notice.text  # the step's own notes

    tip = git(seed_repo, "rev-parse", "main")
    assert tip[:12] in notice.text
    trailers = git(seed_repo, "log", "-1", "--format=%(trailers:key=Coord-Event,key=Coord-Instance,valueonly)")
    assert trailers == "decision.decide\nhuman"
    decision = json.loads(coord(seed_repo, "decision", "show", "dec_002", "--json").out)["data"]
    assert (decision["status"], decision["decision"], decision["decided_by"]) == ("active", "REST API", ["human"])
    assert decision["rationale"] == "Simpler to run and debug; revisit at ten times the load"
    wait(driver, lambda d: d.execute_script("return document.body.dataset.commit") == tip)
    assert every(driver, ".escalation") == []
    assert chromium.console_errors(driver) == []


def test_the_board_follows_the_branch_and_a_refusal_reads_well(
    served: server.Board, driver: WebDriver, seed_repo: Path, team: Callable[..., str]
) -> None:
    card = one(driver, ".card[data-task='task_001']")
    one(card, "button[data-action='release']").click()
    reason = wait(driver, lambda d: every(d, "input[data-focus='release:task_001:reason']"))[0]
    reason.send_keys("instance-2 is needed elsewhere")

    team("instance-2", "task", "complete", "task_001")  # meanwhile, in another clone's shell
    tip = git(seed_repo, "rev-parse", "main")
    wait(driver, lambda d: d.execute_script("return document.body.dataset.commit") == tip)
    card = one(driver, "[data-column='closed'] .card[data-task='task_001']")
    assert "COMPLETED" in card.text
    field = one(card, "input[data-focus='release:task_001:reason']")
    assert field.get_property("value") == "instance-2 is needed elsewhere", "what was typed survives the redraw"

    one(card, "button[type=submit]").click()
    error = wait(driver, lambda d: [e for e in every(d, ".form-error") if e.text])[0]
    assert "task_001 is completed; release needs it assigned or in_progress or blocked" in error.text
    assert git(seed_repo, "rev-parse", "main") == tip, "the refused step committed nothing"
    # The browser logs the refusal's status (409) as a failed load; nothing else went wrong.
    errors = chromium.console_errors(driver)
    assert len(errors) == 1, errors
    assert "/api/action - Failed to load resource: the server responded with a status of 409 (Conflict)" in errors[0]


def test_a_store_broken_at_the_tip_is_reported_on_the_page(
    served: server.Board, driver: WebDriver, seed_repo: Path
) -> None:
    path = seed_repo / "coordination" / "task-queue.json"
    path.write_text(path.read_text().replace('"status": "in_progress"', '"state": "in_progress"'))
    git(seed_repo, "commit", "-q", "--no-verify", "-am", "broken by hand, past the hooks")
    notice = wait(driver, lambda d: every(d, "#notice.error"))[0]
    assert "task-queue.json:3:5: $.active_tasks[0]: missing required field 'status'" in notice.text
    assert one(driver, "#live").text == "error"
    assert every(driver, ".escalation"), "the last good board stays on the page"


def test_the_static_file_renders_offline_with_the_command_lines(
    scene: Path, driver: WebDriver, coord: Coord, tmp_path: Path
) -> None:
    target = tmp_path / "board.html"
    assert coord(scene, "board", "--html", str(target)).code == 0
    driver.get(target.as_uri())
    wait(driver, lambda d: every(d, ".escalation"))
    hostile_text_stays_text(driver)
    assert "static snapshot" in one(driver, "header").text
    assert every(driver, "[data-action]") == [], "no task actions in a static file"
    escalation = one(driver, ".escalation")
    assert one(escalation, "button[type=submit]").get_property("disabled") is True
    command = one(escalation, ".cmd")
    assert command.text == "coord --as human decision decide dec_002 --option OPTION --rationale WHY"
    every(escalation, "input[type=radio]")[1].click()  # GraphQL Federation
    one(escalation, "textarea").send_keys("it's the one that scales")
    assert command.text == (
        "coord --as human decision decide dec_002 --option 'GraphQL Federation' --rationale 'it'\\''s the one that scales'"
    )
    assert len(every(driver, "svg.graph g.node")) == 4
    print("screenshot:", chromium.screenshot(driver, "board-static.png", full=True))
    # The inline code ran under the file's own policy: a wrong hash would have blocked it, and said so here.
    assert chromium.console_errors(driver) == []


def test_the_picture_for_the_readme(seed_repo: Path, team: Callable[..., str], driver: WebDriver) -> None:
    team("instance-1", "checkin", at="2024-01-15T11:30:00Z")
    team("instance-2", "task", "complete", "task_001", at="2024-01-15T11:40:00Z")
    team("instance-1", "task", "claim", "task_002", at="2024-01-15T11:45:00Z")
    team("instance-1", "task", "start", "task_002", at="2024-01-15T11:50:00Z")
    deploy = team("instance-2", "task", "add", "Deploy the coordination API", "--depends", "task_002",
                  "--priority", "high", "--due", "2024-01-16T18:00:00Z", at="2024-01-15T12:00:00Z")  # fmt: skip
    team("instance-2", "task", "add", "Write the runbook", "--depends", deploy, "--due", "2024-01-18T12:00:00Z",
         at="2024-01-15T12:00:00Z")  # fmt: skip
    team("instance-2", "task", "add", "Load-test the API", "--depends", "task_002", "--depends", "task_003",
         "--priority", "low", at="2024-01-15T12:05:00Z")  # fmt: skip
    team("instance-3", "checkin", at="2024-01-15T12:10:00Z")
    team("instance-3", "msg", "send", "--to", "instance-1", "--subject", "Pagination in the task API?",
         "--body", "Cursor or offset pagination for the task list? The UI needs to know by tomorrow.",
         "--requires-response", at="2024-01-15T12:30:00Z")  # fmt: skip
    team("instance-1", "decision", "input", "dec_002", "--option", "GraphQL Federation", "--comment", "scales better",
         at="2024-01-15T12:45:00Z")  # fmt: skip
    hosting = team("instance-2", "decision", "propose", "Hosting for the coordination API", "--option", "Managed PaaS",
                   "--option", "Our own VMs", "--input-from", "instance-1", "--input-from", "instance-5",
                   "--deadline", "2024-01-16T12:00:00Z", at="2024-01-15T12:20:00Z")  # fmt: skip
    team("instance-1", "decision", "input", hosting, "--option", "Our own VMs", "--comment", "we know how to run them",
         at="2024-01-15T12:50:00Z")  # fmt: skip
    team("instance-3", "escalate", "dec_002", "--reason", "REST is what the UI team knows; instance-1 wants GraphQL",
         at="2024-01-15T13:10:00Z")  # fmt: skip
    with running_board(seed_repo) as board:
        driver.get(board.url)
        wait(driver, lambda d: d.execute_script("return document.body.dataset.commit"))
        assert len(every(driver, "svg.graph g.node")) == 5
        assert len(every(driver, "svg.graph path.edge")) == 5
        print("screenshot:", chromium.screenshot(driver, "board.png", full=True))
        assert chromium.console_errors(driver) == []
        leave(driver)
