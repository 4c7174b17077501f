"""Feedback over the real broker: `POST /v1/feedback` lands a valid SongFeedback on
`--feedback-topic` keyed by user_id; a like clicked on the page (headless Chromium) on a live
answer does too, and the service applies it. The browser test skips only where Chromium or
chromedriver is not installed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from chromium import MISSING, NOT_INSTALLED, chromium_session
from confluent_kafka import Message
from harness import create_topics, metric_values, read_topic, wait_until
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from recommender.catalog import BUNDLED_CATALOG
from recommender.ingest import read_catalog
from schemas import FeedbackAction, SongFeedback


@pytest.fixture
def feedback_topic(broker, topics: tuple[str, str, str]) -> str:  # type: ignore[no-untyped-def]
    """The name a service of `service_factory` reads feedback from (co-partitioned: 3)."""
    name = f"{topics[0]}.feedback"
    create_topics(broker.bootstrap_servers, [name], partitions=3)
    return name


@pytest.fixture
def web_args(feedback_topic: str) -> list[str]:
    return ["--feedback-topic", feedback_topic]


def feedback_on(broker, topic: str, expected: int) -> list[tuple[Message, SongFeedback]]:  # type: ignore[no-untyped-def]
    messages = read_topic(broker.bootstrap_servers, topic, expected, timeout_s=15, settle_s=0.5)
    return [(m, SongFeedback.model_validate_json(m.value())) for m in messages]


def test_posted_feedback_lands_on_the_topic_keyed_by_user_id(
    broker, web: str, feedback_topic: str
) -> None:
    tracks = read_catalog(BUNDLED_CATALOG).track_ids
    sent = []
    for n, (user, action) in enumerate([("u-a", "like"), ("u-b", "skip"), ("u-a", "dislike")]):
        body = {"user_id": user, "track_id": str(tracks[n]), "action": action}
        response = httpx.post(f"{web}/v1/feedback", json=body, timeout=10)
        assert response.status_code == 202, response.text  # the broker has it
        sent.append((response.json()["event_id"], body))
    unknown = {"user_id": "u-a", "track_id": "not-a-track", "action": "like"}
    assert httpx.post(f"{web}/v1/feedback", json=unknown, timeout=10).status_code == 404

    found = feedback_on(broker, feedback_topic, len(sent))
    assert len(found) == len(sent)  # the 404 was not published
    by_id = {event.event_id: (message, event) for message, event in found}
    for event_id, body in sent:
        message, event = by_id[event_id]
        assert message.key() == body["user_id"].encode()
        assert (event.user_id, event.track_id) == (body["user_id"], body["track_id"])
        assert event.action is FeedbackAction(body["action"]) and event.timestamp is not None
    # Keyed by user_id: one listener's feedback is on one partition, in order.
    a = [m for m, e in found if e.user_id == "u-a"]
    assert len({m.partition() for m in a}) == 1
    assert [SongFeedback.model_validate_json(m.value()).action for m in a] == [
        FeedbackAction.LIKE,
        FeedbackAction.DISLIKE,
    ]


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    if MISSING:
        pytest.skip(NOT_INSTALLED)
    with chromium_session() as driver:
        yield driver


def wait(driver: WebDriver, timeout_s: float) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, timeout_s, poll_frequency=0.05)


def test_a_like_clicked_on_the_page_lands_on_the_topic_and_the_service_counts_it(
    browser: WebDriver, broker, web: str, feedback_topic: str, service_factory
) -> None:
    """The whole loop: the live answer shows the listener's variant and withheld songs; a like
    clicked on it is a SongFeedback on the topic, keyed by the tab's listener, and the service
    applies it."""
    with service_factory() as service:
        browser.get(web)
        user_id = browser.find_element(By.ID, "user-id").text
        state = browser.find_element(By.ID, "kafka-state")
        wait(browser, 15).until(lambda d: state.get_attribute("data-state") == "up")
        box = browser.find_element(By.ID, "search")
        box.send_keys("Song 00009")
        option = "#search-results [role='option'][data-track-id]"
        wait(browser, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, option))
        browser.find_element(By.CSS_SELECTOR, option).click()
        recs = browser.find_element(By.ID, "recommendations")
        wait(browser, 20).until(lambda d: recs.get_attribute("data-source") == "live")
        variant = recs.find_element(By.CSS_SELECTOR, ".answer-variant")
        assert variant.get_attribute("data-variant") and variant.text.startswith("variant ")
        heard = recs.find_element(By.CSS_SELECTOR, ".answer-excluded-heard")
        assert int(str(heard.get_attribute("data-count"))) >= 0

        like = recs.find_elements(By.CSS_SELECTOR, "button.feedback-like[data-track-id]")[1]
        track_id = like.get_attribute("data-track-id")
        like.click()
        wait(browser, 10).until(lambda d: like.get_attribute("data-state") == "sent")
        assert like.get_attribute("aria-pressed") == "true" and "liked" in like.text

        ((message, event),) = feedback_on(broker, feedback_topic, 1)
        assert message.key() == user_id.encode() and event.user_id == user_id
        assert event.track_id == track_id and event.action is FeedbackAction.LIKE
        assert event.recommendation_event_id == recs.get_attribute("data-event-id")

        def liked() -> float:
            counts = metric_values(service.metrics(), "encore_feedback_total")
            return sum(v for labels, v in counts.items() if 'action="like"' in labels)

        wait_until(lambda: liked() >= 1, 15, "the service counting the like")
        assert liked() == 1
