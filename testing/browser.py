"""Headless Chromium for the board's browser tests, driven by Selenium through chromedriver.

WebDriver is the W3C's protocol for exactly this (load, find, click, type, read the DOM
after scripts ran, screenshot), with waits and errors that make failures readable; the
distribution's chromedriver matches its Chromium, and Selenium is only a test dependency.
Chrome DevTools Protocol would need a WebSocket client and hand-written messages instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

ARTIFACTS = Path(__file__).resolve().parents[1] / "tests" / "artifacts"
WRITTEN: list[Path] = []  # this run's screenshots, listed at the end of the run
INSTALL_HINT = (
    "the browser tests need headless Chromium and its chromedriver: "
    "`apt-get install chromium chromium-driver` (Debian, Ubuntu), "
    "or point COORD_CHROMIUM and COORD_CHROMEDRIVER at them"
)
# Without the networking switches Chromium reaches for Google's services at start; in a
# closed network that costs time and fills the log. As root it needs --no-sandbox.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1100",
)


def _which(variable: str, names: tuple[str, ...]) -> str | None:
    given = os.environ.get(variable)
    if given:
        return given
    return next((found for found in map(shutil.which, names) if found), None)


def find() -> tuple[str, str] | None:
    """(chromium, chromedriver), or None when either is missing."""
    chromium = _which("COORD_CHROMIUM", ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"))
    driver = _which("COORD_CHROMEDRIVER", ("chromedriver",))
    runner = os.environ.get("CHROMEWEBDRIVER")  # GitHub's runner images keep it there, off PATH
    if driver is None and runner and Path(runner, "chromedriver").is_file():
        driver = str(Path(runner, "chromedriver"))
    return (chromium, driver) if chromium and driver else None


def start(chromium: str, chromedriver: str, profile: Path) -> WebDriver:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Both paths are given, so Selenium Manager never goes looking (or downloading).
    return webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)


def screenshot(driver: WebDriver, name: str, *, full: bool = False) -> Path:
    """Save what the browser shows under tests/artifacts/ (the whole page when `full`)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    size = driver.get_window_size()
    if full:
        # The window is the viewport plus whatever frame the browser keeps around it.
        height = driver.execute_script(
            "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight"
        )
        driver.set_window_size(size["width"], int(height))
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(size["width"], size["height"])
    WRITTEN.append(path)
    return path


def console_errors(driver: WebDriver) -> list[str]:
    """What the page logged as errors since the last call: script errors, CSP violations, failed loads."""
    logged: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]  # selenium leaves it unannotated
    return [e["message"] for e in logged if e["level"] == "SEVERE"]
