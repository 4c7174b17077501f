"""The page's request controls in headless Chromium, over the real `python -m web` of
test_web_browser.py (bundled catalog, no Kafka): an artist cap with explanations, a second
seed, and a range the API refuses. Each time the page must show exactly the list the API
answers for the same controls."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from test_web_browser import SEARCH, Web, browser, choose, page, script_errors, wait, web

__all__ = ["browser", "page", "web"]  # the fixtures, shared with test_web_browser.py

ANSWER_S = 3.0  # from a control changed (300 ms of it debounce) to the new list on screen
# Its 10 nearest songs hold two by one artist: the default cap (2) lets them both in.
REPEATS = "Song 0000200"
SEARCH_NAME = "Song 0000100"  # the first match of SEARCH
# What a listener sees of each recommendation.
SHOWN = """
return [...document.querySelectorAll('#recommendations button.rec')].map((b) => ({
  id: b.dataset.trackId,
  artist: b.querySelector('.artist').textContent,
  because: [...b.querySelectorAll('.because .tag')].map((t) => t.textContent),
}));
"""


def pick(driver: WebDriver, name: str) -> str:
    """Chooses the song called `name` from its search; its track id. Unlike `choose`, waits
    for this query's matches, not the last query's still in the list."""
    box = driver.find_element(By.ID, "search")
    box.clear()
    box.send_keys(name)
    option = "#search-results:not([hidden]) [role='option'][data-track-id]"

    def match(d: WebDriver) -> Any:
        options = d.find_elements(By.CSS_SELECTOR, option)
        return options and options[0].find_element(By.CLASS_NAME, "name").text == name

    wait(driver, 5).until(match)
    first = driver.find_element(By.CSS_SELECTOR, option)
    track_id = str(first.get_attribute("data-track-id"))
    first.click()
    return track_id


def shown(driver: WebDriver) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = driver.execute_script(SHOWN)
    return rows


def ids(driver: WebDriver) -> list[str]:
    return [row["id"] for row in shown(driver)]


def answer(web: Web, **body: Any) -> list[dict[str, Any]]:
    """The items the API answers directly for this body."""
    response = httpx.post(f"{web.url}/v1/recommendations", json=body, timeout=10)
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def rules(driver: WebDriver) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, "#recommendations .constraints").text)


def k_of(driver: WebDriver) -> int:
    return int(driver.find_element(By.ID, "k").get_attribute("value") or 0)


def test_an_artist_cap_of_one_with_explanations(page: WebDriver, web: Web, tmp_path: Path) -> None:
    track_id = choose(page, REPEATS)
    k = k_of(page)
    plain = [item["track_id"] for item in answer(web, track_id=track_id, k=k)]
    wait(page, ANSWER_S).until(lambda d: ids(d) == plain)
    artists = [row["artist"] for row in shown(page)]
    assert len(set(artists)) < len(artists), "the seed no longer has a repeated artist"

    cap = page.find_element(By.ID, "max-per-artist")
    cap.clear()
    cap.send_keys("1")
    page.find_element(By.ID, "explain").click()
    changed = time.monotonic()
    shaped = answer(web, track_id=track_id, k=k, max_per_artist=1, explain=True)
    expected = [item["track_id"] for item in shaped]

    def explained(d: WebDriver) -> bool:
        rows = shown(d)
        return [r["id"] for r in rows] == expected and all(r["because"] for r in rows)

    wait(page, ANSWER_S).until(explained)
    reshaped_s = time.monotonic() - changed
    rows = shown(page)
    assert len(rows) == k
    assert len({row["artist"] for row in rows}) == k  # no artist twice
    seed_artist = page.find_element(By.CSS_SELECTOR, "#song .song-artist").text
    assert seed_artist not in {row["artist"] for row in rows}  # the seed's artist counts
    for row, item in zip(rows, shaped, strict=True):
        assert 1 <= len(row["because"]) <= 3
        assert row["because"] == [feature.replace("_", " ") for feature in item["because"]]
    assert "≤ 1 per artist" in rules(page) and "explained" in rules(page)
    assert script_errors(page) == []
    assert page.save_screenshot(str(tmp_path / "capped.png"))
    print(f"capped and explained list on screen {reshaped_s * 1000:.0f} ms after the change")


def test_a_second_seed_is_sent_and_blended(page: WebDriver, web: Web) -> None:
    track_id = choose(page, SEARCH)
    k = k_of(page)
    plain = [item["track_id"] for item in answer(web, track_id=track_id, k=k)]
    wait(page, ANSWER_S).until(lambda d: ids(d) == plain)
    assert "seeds" not in rules(page)

    first = page.find_element(By.CSS_SELECTOR, "#recommendations .rec-item")
    second = str(first.find_element(By.CSS_SELECTOR, "button.rec").get_attribute("data-track-id"))
    first.find_element(By.CSS_SELECTOR, "button.add-seed").click()
    added = time.monotonic()
    blended = [
        item["track_id"] for item in answer(web, track_id=track_id, seed_track_ids=[second], k=k)
    ]
    assert blended != plain
    wait(page, ANSWER_S).until(lambda d: ids(d) == blended)
    blended_s = time.monotonic() - added
    chips = page.find_elements(By.CSS_SELECTOR, "#seeds li[data-track-id]")
    assert [chip.get_attribute("data-track-id") for chip in chips] == [track_id, second]
    assert second not in ids(page)  # a seed is never recommended
    assert "2 seeds" in rules(page)

    # Removed, the second seed is no longer sent: the one-seed list is back.
    page.find_element(By.CSS_SELECTOR, f"#seeds li[data-track-id='{second}'] .seed-remove").click()
    wait(page, ANSWER_S).until(lambda d: ids(d) == plain)
    assert len(page.find_elements(By.CSS_SELECTOR, "#seeds li[data-track-id]")) == 1
    assert "seeds" not in rules(page)
    assert script_errors(page) == []
    print(f"two-seed list on screen {blended_s * 1000:.0f} ms after the click")


def test_a_minimum_above_the_maximum_shows_the_apis_detail_by_the_controls(
    page: WebDriver, web: Web
) -> None:
    track_id = choose(page, SEARCH)
    k = k_of(page)
    wait(page, ANSWER_S).until(lambda d: len(ids(d)) == k)
    page.find_element(By.ID, "max-tempo").send_keys("100")
    low = page.find_element(By.ID, "min-tempo")
    low.send_keys("150")
    refused = httpx.post(
        f"{web.url}/v1/recommendations",
        json={"track_id": track_id, "k": k, "min_tempo": 150, "max_tempo": 100},
    )
    assert refused.status_code == 422
    detail = refused.json()["detail"]  # min_tempo: 150.0 is above max_tempo 100.0

    error = page.find_element(By.CSS_SELECTOR, "#controls #controls-error")
    wait(page, ANSWER_S).until(lambda d: error.is_displayed())
    assert detail in error.text
    assert low.get_attribute("aria-invalid") == "true"
    assert "controls-error" in (low.get_attribute("aria-describedby") or "")
    assert not page.find_element(By.ID, "recommendations-error").is_displayed()
    assert page.find_element(By.ID, "latency").text == "not asked"

    # Fixed, the error goes and the list for the range that is left comes.
    low.clear()
    upto = [item["track_id"] for item in answer(web, track_id=track_id, k=k, max_tempo=100)]
    wait(page, ANSWER_S).until(lambda d: not error.is_displayed() and ids(d) == upto)
    assert low.get_attribute("aria-invalid") == "false"
    assert "tempo ≤ 100 BPM" in rules(page)
    assert script_errors(page) == []


def test_a_kept_song_stays_a_seed_and_the_next_seed_replaces_a_removed_first(
    page: WebDriver, web: Web
) -> None:
    kept = pick(page, SEARCH_NAME)
    keep = page.find_element(By.CSS_SELECTOR, "#song button.keep-seed")
    keep.click()
    assert keep.get_attribute("aria-pressed") == "true"
    chosen = pick(page, REPEATS)
    k = k_of(page)
    blended = [
        item["track_id"] for item in answer(web, track_id=chosen, seed_track_ids=[kept], k=k)
    ]
    wait(page, ANSWER_S).until(lambda d: ids(d) == blended)

    def seeds(d: WebDriver) -> list[str | None]:
        chips = d.find_elements(By.CSS_SELECTOR, "#seeds li[data-track-id]")
        return [chip.get_attribute("data-track-id") for chip in chips]

    assert seeds(page) == [chosen, kept]
    # The chosen song removed from the seeds, the kept one is the chosen song.
    page.find_element(By.CSS_SELECTOR, f"#seeds li[data-track-id='{chosen}'] .seed-remove").click()
    alone = [item["track_id"] for item in answer(web, track_id=kept, k=k)]
    wait(page, ANSWER_S).until(lambda d: ids(d) == alone)
    assert page.find_element(By.ID, "song").get_attribute("data-track-id") == kept
    assert seeds(page) == [kept]
    assert page.find_element(By.CSS_SELECTOR, "#seeds .seed-remove").get_attribute("disabled")
    assert script_errors(page) == []
