"""Headless Chromium for the page tests: where it is, what is missing, and one way to start it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
MISSING = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
NOT_INSTALLED = f"not installed: {', '.join(MISSING)} (Debian packages chromium, chromium-driver)"

_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


def chromium(
    profile: str | Path,
    *flags: str,
    console_log: bool = False,
    window: tuple[int, int] = (1400, 900),
) -> WebDriver:
    """A headless Chromium with its profile in `profile`, plus `flags`; `console_log`: keep
    the page's console for `driver.get_log("browser")`; `window`: width and height in px, a
    parameter because the screenshots (docs/screenshots/take.py) choose their own."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    width, height = window
    for flag in (*_FLAGS, f"--window-size={width},{height}", *flags, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if console_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))


@contextmanager
def chromium_session(*flags: str, console_log: bool = False) -> Iterator[WebDriver]:
    """`chromium` in a temporary profile, quit on the way out."""
    with tempfile.TemporaryDirectory(prefix="encore-chromium-") as profile:
        driver = chromium(profile, *flags, console_log=console_log)
        try:
            yield driver
        finally:
            driver.quit()
