"""Takes the page's screenshots in docs/screenshots/ with the real stack: the embedded broker,
the service, the HTTP API and a simulated listener on free ports (as `make run` starts them),
driven by headless Chromium; everything is stopped at the end.

    .venv/bin/python docs/screenshots/take.py      # chromium and chromedriver; about a minute

`--catalog` and `--models` go to the service and the API; `--out` writes the PNGs elsewhere.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# Run as a script, only this file's folder is on the path: put the repository first, for
# tests/chromium.py (the one Chromium starter) and the packages of this checkout.
sys.path.insert(0, str(REPO))
from embedded.broker import LocalBroker, free_port  # noqa: E402
from embedded.demo import stop, wait_ready  # noqa: E402
from kafkaio.config import KafkaConnection  # noqa: E402
from tests.chromium import chromium  # noqa: E402


class Stack:
    """The broker and the processes `make run` starts, each logging to its own file."""

    def __init__(self, stack: ExitStack, logs: Path, args: argparse.Namespace) -> None:
        self.stack, self.logs = stack, logs
        self.broker = stack.enter_context(LocalBroker(log_path=logs / "tansu.log"))
        connection = KafkaConnection(bootstrap_servers=self.broker.bootstrap_servers)
        self.env = {**os.environ, **connection.environment()}
        catalog = ["--catalog", args.catalog] if args.catalog else []
        models = ["--models", args.models]
        metrics_port, web_port = free_port(), free_port()
        service = self.start("consumer", "--metrics-port", str(metrics_port), *models, *catalog)
        web = self.start("web", "--port", str(web_port), *models, *catalog)
        self.url = f"http://127.0.0.1:{web_port}"
        metrics_url = f"http://127.0.0.1:{metrics_port}/readyz"
        wait_ready(metrics_url, service, 180)
        wait_ready(f"{self.url}/readyz", web, 180)
        self.start("producer", "simulate", "--rate", str(args.rate), *catalog)

    def start(self, module: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{module}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=REPO,
            )  # fmt: skip
        self.stack.callback(stop, process)
        return process


def screenshot_browser(profile: Path, width: int, height: int) -> WebDriver:
    """The tests' headless Chromium without scrollbars, whose viewport (not only its window)
    is width x height, so every shot has the size asked for."""
    driver = chromium(profile, "--hide-scrollbars", window=(width, height))
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    return driver


class Page:
    """The listener's page in one tab, and the shots taken of it."""

    def __init__(self, driver: WebDriver, out: Path) -> None:
        self.driver, self.out = driver, out

    def wait(self, condition: Callable[[WebDriver], object], timeout_s: float) -> None:
        WebDriverWait(self.driver, timeout_s, poll_frequency=0.05).until(condition)

    def by_id(self, id_: str) -> WebElement:
        return self.driver.find_element(By.ID, id_)

    def rect(self, element: WebElement) -> dict[str, float]:
        """The element's box in page coordinates (CSS px)."""
        box: dict[str, float] = self.driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height};",
            element,
        )
        return box

    def shot(self, name: str, clip: dict[str, float] | None = None) -> None:
        """The viewport, or a region of the page (beyond the viewport if need be)."""
        self.driver.execute_script("return document.fonts.ready")
        params: dict[str, object] = {"format": "png"}
        if clip:
            params |= {"clip": {**clip, "scale": 1}, "captureBeyondViewport": True}
        png = base64.b64decode(
            self.driver.execute_cdp_cmd("Page.captureScreenshot", params)["data"]
        )
        path = self.out / f"{name}.png"
        path.write_bytes(png)  # as Chromium encodes it: 256 colours merged the pale greys
        width, height = struct.unpack(">II", png[16:24])  # the PNG header's IHDR
        print(f"wrote {path} {width}x{height} ({path.stat().st_size // 1024} KiB)")

    def search(self, query: str) -> None:
        """Types `query` and waits for its matches (not the last search's) to be listed."""
        box = self.by_id("search")
        box.clear()
        box.send_keys(query)
        first = "#search-results:not([hidden]) [role='option'] .name"
        self.wait(
            lambda d: any(query in e.text for e in d.find_elements(By.CSS_SELECTOR, first)), 10
        )

    def panel(self, id_: str) -> WebElement:
        """The panel (section) holding the element with this id."""
        return self.by_id(id_).find_element(By.XPATH, "ancestor::section[1]")

    def live(self) -> bool:
        return self.by_id("recommendations").get_attribute("data-source") == "live"

    def settle(self) -> None:
        """No focus ring, open list or hovered row in the picture; the page at its top."""
        self.by_id("search").send_keys(Keys.ESCAPE)
        self.driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        ActionChains(self.driver).move_to_element(self.by_id("user-id")).perform()


def take(page: Page, stack: Stack, args: argparse.Namespace) -> None:
    """Every shot, in the order a listener meets them; Kafka goes down last."""
    page.driver.get(stack.url)
    page.wait(lambda d: page.by_id("kafka-state").get_attribute("data-state") == "up", 30)
    page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#clusters tbody tr[data-cluster]"), 60)
    page.wait(lambda d: "songs" in page.by_id("map-caption").text, 60)
    answers = page.by_id("answers-rate")  # "2.0/s", or "…" before the first status

    def rate() -> float:
        return float(re.sub(r"[^\d.]", "", answers.text) or 0)

    # The simulated listener's answers counted in the header, as `make run` shows them.
    page.wait(lambda d: rate() >= args.rate * 0.75, 60)
    search_and_answer(page, args.query)
    panels(page)
    controls(page, args.query_controls)
    evaluation(page, args.evaluation_timeout_s)
    banner(page, stack.broker, args.query_when_down)


def search_and_answer(page: Page, query: str) -> None:
    page.search(query)
    page.by_id("search").send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN)
    page.shot("search")
    page.by_id("search").send_keys(Keys.ENTER)  # the second match, chosen by keyboard
    page.wait(lambda d: page.live(), 30)
    k = page.by_id("k").get_attribute("value")
    page.wait(lambda d: page.by_id("map-caption").text.endswith(f"{k} of {k} recommendations"), 10)
    # Feedback on the live answer: a like and a skip, each shown as sent once the broker has it.
    clicked = [
        page.driver.find_elements(By.CSS_SELECTOR, f"#recommendations button.feedback-{action}")[n]
        for action, n in (("like", 1), ("skip", 3))
    ]
    for button in clicked:
        button.click()
    page.wait(lambda d: all(b.get_attribute("data-state") == "sent" for b in clicked), 10)
    page.settle()
    width = page.driver.execute_script("return document.documentElement.clientWidth")
    recs = page.rect(page.panel("recommendations"))
    page.shot("live", {"x": 0, "y": 0, "width": width, "height": recs["y"] + recs["height"] + 16})


def panels(page: Page) -> None:
    page.shot("map", page.rect(page.panel("map")))
    clusters = page.panel("clusters")
    row = clusters.find_element(By.CSS_SELECTOR, "tbody tr[data-cluster]")
    ActionChains(page.driver).move_to_element(row).perform()  # that row, and its map points
    page.shot("clusters", page.rect(clusters))
    page.settle()


def controls(page: Page, query: str) -> None:
    """A song shaped: a second seed, a tempo range, an energy target, one song per artist,
    explained; the live answer shown with its rules. The controls are reset afterwards."""
    recs = page.by_id("recommendations")
    before = recs.get_attribute("data-event-id")
    page.search(query)
    page.by_id("search").send_keys(Keys.ENTER)
    # The new song's live answer, not the last one's (still shown until the direct answer).
    page.wait(lambda d: page.live() and recs.get_attribute("data-event-id") != before, 30)
    second = page.driver.find_elements(By.CSS_SELECTOR, "#recommendations .add-seed")[1]
    second.click()
    page.by_id("min-tempo").send_keys("100")
    page.by_id("max-tempo").send_keys("130")
    page.by_id("target-energy-on").click()
    slide = "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))"
    page.driver.execute_script(slide, page.by_id("target-energy"), "0.8")
    cap = page.by_id("max-per-artist")
    cap.clear()
    cap.send_keys("1")
    page.by_id("explain").click()
    wanted = ("2 seeds", "energy → 0.8", "tempo 100–130 BPM", "≤ 1 per artist", "explained")

    def shaped() -> bool:
        rules = page.driver.find_elements(By.CSS_SELECTOR, "#recommendations .constraints")
        return page.live() and bool(rules) and all(w in rules[0].text for w in wanted)

    page.wait(lambda d: shaped(), 30)
    page.settle()
    width = page.driver.execute_script("return document.documentElement.clientWidth")
    bottom = max(
        page.rect(page.panel(id_))["y"] + page.rect(page.panel(id_))["height"]
        for id_ in ("recommendations", "controls-title")
    )
    page.shot("controls", {"x": 0, "y": 0, "width": width, "height": bottom + 16})
    page.by_id("controls-reset").click()
    page.driver.find_element(By.CSS_SELECTOR, "#seeds li:nth-child(2) .seed-remove").click()
    page.wait(lambda d: "seeds" not in page.by_id("recommendations").text, 30)
    page.settle()


def evaluation(page: Page, timeout_s: float) -> None:
    page.wait(lambda d: page.by_id("evaluate").is_enabled(), 30)
    page.by_id("evaluate").click()
    failed = page.by_id("evaluation-error")

    def done() -> bool:
        return "done" in page.by_id("evaluate-hint").text

    page.wait(lambda d: done() or failed.is_displayed(), timeout_s)
    if not done():
        raise RuntimeError(f"the evaluation did not finish: {failed.text}")
    page.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#evaluation-chart svg"), 10)
    page.shot("evaluation", page.rect(page.by_id("evaluation")))


def banner(page: Page, broker: LocalBroker, query: str) -> None:
    """Kafka stops answering (the broker frozen): the page says so and answers directly."""
    broker.pause()
    try:
        page.settle()
        page.wait(lambda d: page.by_id("live-banner").is_displayed(), 30)
        page.search(query)
        page.by_id("search").send_keys(Keys.ENTER)
        page.wait(lambda d: page.by_id("latency").text == "not published", 30)
        page.settle()
        page.shot("banner")
    finally:
        broker.resume()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--catalog", help="default: the bundled catalog")
    parser.add_argument("--models", default="knn,knn-cosine")
    parser.add_argument("--query", default="Song 00042")
    parser.add_argument("--query-controls", default="Song 0000200")
    parser.add_argument("--query-when-down", default="Song 00031")
    parser.add_argument("--rate", type=float, default=2.0, help="simulated selections per second")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--evaluation-timeout-s", type=float, default=300)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="encore-shots-") as tmp, ExitStack() as stack:
        logs = Path(tmp)
        try:
            running = Stack(stack, logs, args)
            driver = screenshot_browser(logs / "chromium", args.width, args.height)
            stack.callback(driver.quit)
            take(Page(driver, args.out), running, args)
        except BaseException:
            for log in sorted(logs.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}", file=sys.stderr)
            raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
