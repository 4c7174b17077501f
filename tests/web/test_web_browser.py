"""The page in headless Chromium over a real `python -m web` on the bundled catalog, with no
Kafka reachable: search, choose a song, the direct answer within 3 s, the map drawn, the
banner. Skips only where Chromium or chromedriver is not installed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from chromium import MISSING, NOT_INSTALLED, chromium_session
from harness import terminate
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from embedded.broker import free_port

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    bool(MISSING),
    reason=NOT_INSTALLED,
)

SEARCH = "Song 00001"  # the bundled catalog's songs are "Song 0000000" ... "Song 0005999"
ANSWER_S = 3.0  # from the click to the recommendations on screen
# A canvas pixel read: how many pixels differ from the map's background (its corner pixel).
PAINTED = """
const c = document.getElementById('map');
const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
let n = 0;
for (let i = 0; i < d.length; i += 4) {
  if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) n += 1;
}
return n;
"""


@dataclass
class Web:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"web exited {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"web not ready in {timeout_s}s\n{self.log_tail()}"
            time.sleep(0.1)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """`python -m web` on the bundled catalog, its Kafka a loopback port nobody listens on.
    Not waited for here: Chromium starts while the catalog loads."""
    log = tmp_path_factory.mktemp("web") / "web.log"
    port, nobody = free_port(), free_port()
    command = [
        sys.executable, "-m", "web", "--port", str(port),
        "--bootstrap-servers", f"127.0.0.1:{nobody}", "--publish-timeout-s", "1",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENCORE_")}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    try:
        yield Web(f"http://127.0.0.1:{port}", process, log)
    finally:
        terminate(process, 15)


@pytest.fixture(scope="module")
def browser(web: Web) -> Iterator[WebDriver]:
    with chromium_session(console_log=True) as driver:
        web.wait_ready(60)
        yield driver


@pytest.fixture
def page(browser: WebDriver, web: Web) -> WebDriver:
    """The page freshly loaded, its models known."""
    browser.get(web.url)
    wait(browser, 10).until(lambda d: d.find_element(By.ID, "model").is_enabled())
    return browser


def wait(driver: WebDriver, timeout_s: float) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, timeout_s, poll_frequency=0.05)


def script_errors(driver: WebDriver) -> list[str]:
    """Console errors other than failed requests (the 503 of a selection Kafka cannot take)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
    ]


def choose(driver: WebDriver, query: str) -> str:
    """Types `query`, clicks the first match; its track id."""
    box = driver.find_element(By.ID, "search")
    box.clear()
    box.send_keys(query)
    options = "#search-results [role='option'][data-track-id]"
    wait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, options))
    first = driver.find_element(By.CSS_SELECTOR, options)
    assert query.lower() in first.find_element(By.CLASS_NAME, "name").text.lower()
    track_id = first.get_attribute("data-track-id")
    first.click()
    return str(track_id)


def test_a_chosen_song_gets_its_recommendations_and_the_map_shows_them(
    page: WebDriver, web: Web, tmp_path: Path
) -> None:
    wait(page, 10).until(lambda d: d.execute_script(PAINTED) > 1000)  # the catalog's points
    before = page.execute_script("return document.getElementById('map').toDataURL()")
    k = int(page.find_element(By.ID, "k").get_attribute("value") or 0)
    assert k >= 1

    track_id = choose(page, SEARCH)
    clicked = time.monotonic()
    items = "#recommendations button.rec[data-track-id]"
    wait(page, ANSWER_S).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, items)) >= k)
    answer_s = time.monotonic() - clicked
    assert answer_s <= ANSWER_S

    recs = page.find_element(By.ID, "recommendations")
    assert recs.get_attribute("data-source") == "direct"  # Kafka is unreachable here
    assert page.find_element(By.ID, "song").get_attribute("data-track-id") == track_id
    shown = []
    for rank, item in enumerate(page.find_elements(By.CSS_SELECTOR, items), start=1):
        assert item.find_element(By.CLASS_NAME, "rank").text == str(rank)
        assert item.find_element(By.CLASS_NAME, "name").text.strip()
        assert item.find_element(By.CLASS_NAME, "artist").text.strip()
        assert re.fullmatch(r"-?\d+\.\d{3}", item.find_element(By.CLASS_NAME, "score").text)
        shown.append(item.get_attribute("data-track-id"))
    # The very list the API answers for this seed, in its order, without the seed itself.
    direct = httpx.post(f"{web.url}/v1/recommendations", json={"track_id": track_id, "k": k})
    assert shown == [item["track_id"] for item in direct.json()["items"]]
    assert track_id not in shown

    # The map shows the chosen song and every recommendation (added when its sample lacks
    # them) and was redrawn with them highlighted.
    caption = page.find_element(By.ID, "map-caption")
    everyone = f"chosen song shown, {k} of {k} recommendations"
    wait(page, 3).until(lambda d: caption.text.endswith(everyone))
    assert page.execute_script("return document.getElementById('map').toDataURL()") != before
    assert page.find_element(By.ID, "status-error").get_attribute("hidden") is not None
    assert script_errors(page) == []

    shot = tmp_path / "recommendations.png"
    assert page.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    print(f"direct answer on screen {answer_s * 1000:.0f} ms after the click; {shot}")


def test_the_banner_says_live_answers_are_unavailable_without_kafka(
    page: WebDriver, tmp_path: Path
) -> None:
    banner = page.find_element(By.ID, "live-banner")
    # The status is polled every 2 s; the first poll already says Kafka is unreachable.
    wait(page, 6).until(lambda d: banner.is_displayed())
    assert "unavailable" in banner.text
    state = page.find_element(By.ID, "kafka-state")
    assert state.get_attribute("data-state") == "down" and state.text == "unavailable"
    # A selection cannot be published: the page says so and still shows the direct answer.
    choose(page, SEARCH)
    latency = page.find_element(By.ID, "latency")
    wait(page, 6).until(lambda d: latency.text == "not published")
    assert page.find_element(By.ID, "recommendations").get_attribute("data-source") == "direct"
    assert banner.is_displayed() and script_errors(page) == []
    assert page.save_screenshot(str(tmp_path / "banner.png"))


def test_like_and_skip_on_each_recommendation_say_when_feedback_is_not_sent(
    page: WebDriver,
) -> None:
    choose(page, SEARCH)
    items = "#recommendations button.rec[data-track-id]"
    wait(page, ANSWER_S).until(lambda d: d.find_elements(By.CSS_SELECTOR, items))
    shown = [i.get_attribute("data-track-id") for i in page.find_elements(By.CSS_SELECTOR, items)]
    for action in ("like", "skip"):
        buttons = page.find_elements(By.CSS_SELECTOR, f"#recommendations button.feedback-{action}")
        assert [b.get_attribute("data-track-id") for b in buttons] == shown
        assert {b.get_attribute("data-state") for b in buttons} == {""}
        assert {b.get_attribute("aria-pressed") for b in buttons} == {"false"}
    like = page.find_element(By.CSS_SELECTOR, "#recommendations button.feedback-like")
    like.click()
    # Kafka is unreachable here: the API answers 503 after --publish-timeout-s (1 s).
    wait(page, 6).until(lambda d: like.get_attribute("data-state") == "failed")
    assert "not sent" in like.text and "Kafka" in str(like.get_attribute("title"))
    assert like.is_enabled()  # click again to retry
    assert script_errors(page) == []


# Renders answers with views.js into a detached list: a live answer from the listener's state
# (variant, excluded_heard), then a direct answer (neither) relabelled live by markLive.
RENDER_LISTENER_NOTES = """
const done = arguments[arguments.length - 1];
import('/static/views.js').then((views) => {
  const item = { rank: 1, track_id: 't1', score: 0.9, track_name: 'One', artist: 'A' };
  const answer = { event_id: 'e1', model: 'knn', items: [item], variant: 'b', excluded_heard: 3 };
  const opts = { source: 'live', clusterNames: new Map(), onChoose: () => {}, asked: 1 };
  const live = document.createElement('div');
  views.renderRecommendations(live, answer, opts);
  const direct = document.createElement('div');
  const plain = { event_id: 'e2', model: 'knn', items: [item] };
  views.renderRecommendations(direct, plain, { ...opts, source: 'direct' });
  const before = [direct.querySelectorAll('.listener-notes').length, direct.textContent];
  views.markLive(direct, { ...plain, variant: 'a', excluded_heard: 0 });
  const notes = (el) => [...el.querySelectorAll('.listener-notes > span')]
    .map((s) => [s.className, s.dataset.variant || s.dataset.count, s.textContent]);
  done({ live: notes(live), before, marked: notes(direct) });
}, (err) => done({ error: String(err) }));
"""


def test_a_live_answer_shows_its_variant_and_the_songs_withheld_as_heard(page: WebDriver) -> None:
    shown = page.execute_async_script(RENDER_LISTENER_NOTES)
    assert shown["live"] == [
        ["answer-variant", "b", "variant b"],
        ["answer-excluded-heard", "3", "3 heard or recently shown songs withheld"],
    ]
    notes, text = shown["before"]
    assert notes == 0 and "null" not in text  # a direct answer has no listener
    assert shown["marked"] == [
        ["answer-variant", "a", "variant a"],
        ["answer-excluded-heard", "0", "nothing withheld as heard"],
    ]
