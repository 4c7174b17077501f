"""POST /v1/feedback: a valid SongFeedback on the feedback topic keyed by user_id, 404 for a
track the catalog lacks, 422 for bad input, 503 when the broker does not take it (the fake
publisher, then the real one against a port nobody listens on), and its OpenAPI entry."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from web_api import TOKEN, Api, make_api, problem

from consumer.settings import settings_from_args
from embedded.broker import free_port
from schemas import FeedbackAction, SongFeedback
from web.live import KafkaPublisher
from web.metrics import WebMetrics
from web.problems import ProblemError
from web.settings import WebSettings, build_web_parser

TRACK = "t3-0002"  # a track of the tiny catalog of web_api.py


def published_feedback(api: Api) -> tuple[str, str, SongFeedback]:
    ((topic, key, value),) = api.publisher.published
    # As the service reads it: JSON, strictly.
    return topic, key, SongFeedback.model_validate_json(value)


def test_feedback_is_published_keyed_by_user_id(api: Api) -> None:
    before_ms = time.time_ns() // 1_000_000
    response = api.client.post(
        "/v1/feedback", json={"user_id": "u-7", "track_id": TRACK, "action": "like"}
    )
    assert response.status_code == 202, response.text
    topic, key, event = published_feedback(api)
    assert topic == "song-feedback" and key == "u-7"
    assert response.json() == {"event_id": event.event_id} and event.event_id
    assert event.user_id == "u-7" and event.track_id == TRACK
    assert event.action is FeedbackAction.LIKE and event.recommendation_event_id is None
    assert isinstance(event.timestamp, int) and event.timestamp >= before_ms


def test_what_the_client_gives_is_kept(api: Api) -> None:
    body = {
        "event_id": "fb-1",
        "user_id": "u",
        "track_id": TRACK,
        "action": "skip",
        "timestamp": "2026-12-01T10:00:00Z",
        "recommendation_event_id": "sel-9",
    }
    response = api.client.post("/v1/feedback", json=body)
    assert response.status_code == 202, response.text
    assert response.json() == {"event_id": "fb-1"}  # a retry with it counts once
    _, _, event = published_feedback(api)
    assert event.event_id == "fb-1" and event.action is FeedbackAction.SKIP
    assert event.timestamp == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert event.recommendation_event_id == "sel-9"


def test_every_action_and_an_epoch_timestamp(api: Api) -> None:
    for action in ("play", "skip", "like", "dislike"):
        body = {"user_id": "u", "track_id": TRACK, "action": action, "timestamp": 1_700_000_000_000}
        assert api.client.post("/v1/feedback", json=body).status_code == 202
    events = [SongFeedback.model_validate_json(v) for _, _, v in api.publisher.published]
    assert [e.action.value for e in events] == ["play", "skip", "like", "dislike"]
    assert {e.timestamp for e in events} == {1_700_000_000_000}
    assert len({e.event_id for e in events}) == 4


def test_a_track_the_catalog_lacks_is_404_not_published(api: Api) -> None:
    response = api.client.post(
        "/v1/feedback", json={"user_id": "u", "track_id": "nope", "action": "like"}
    )
    assert response.status_code == 404
    assert "nope" in problem(response)["detail"]
    assert api.publisher.published == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_id": "u", "track_id": TRACK, "action": "love"}, "action"),
        ({"track_id": TRACK, "action": "like"}, "user_id"),
        ({"user_id": "", "track_id": TRACK, "action": "like"}, "user_id"),
        ({"user_id": "u", "action": "like"}, "track_id"),
        ({"user_id": "u", "track_id": TRACK, "action": "like", "timestamp": True}, "timestamp"),
        ({"user_id": "u", "track_id": TRACK, "action": "like", "timestamp": "soon"}, "timestamp"),
        ({"user_id": 7, "track_id": TRACK, "action": "like"}, "user_id"),
        ({"user_id": "u", "track_id": TRACK, "action": "like", "acton": "skip"}, "acton"),
    ],
)
def test_bad_feedback_is_422_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.client.post("/v1/feedback", json=body)
    assert response.status_code == 422, body
    assert field in problem(response)["detail"]
    assert api.publisher.published == []


def test_not_json_is_422(api: Api) -> None:
    response = api.client.post(
        "/v1/feedback", content=b"{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "malformed JSON" in problem(response)["detail"]


def test_kafka_down_is_503(api: Api) -> None:
    api.publisher.down = True
    response = api.client.post(
        "/v1/feedback", json={"user_id": "u", "track_id": TRACK, "action": "like"}
    )
    assert response.status_code == 503
    problem(response)


def test_the_feedback_topic_is_a_setting() -> None:
    settings = settings_from_args(["--feedback-topic", "fb-x"], WebSettings, build_web_parser())
    assert settings.feedback_topic == "fb-x"
    assert WebSettings().feedback_topic == "song-feedback"
    client, api = make_api(feedback_topic="fb-x")
    with client:
        body = {"user_id": "u", "track_id": TRACK, "action": "dislike"}
        assert client.post("/v1/feedback", json=body).status_code == 202
    assert [topic for topic, _, _ in api.publisher.published] == ["fb-x"]


def test_the_token_guards_feedback(api_with_token: Api) -> None:
    body = {"user_id": "u", "track_id": TRACK, "action": "like"}
    response = api_with_token.client.post("/v1/feedback", json=body)
    assert response.status_code == 401
    problem(response)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert api_with_token.client.post("/v1/feedback", json=body, headers=headers).status_code == 202


def test_the_openapi_document_has_feedback(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    post = schema["paths"]["/v1/feedback"]["post"]
    assert {"202", "401", "404", "413", "422", "503"} <= set(post["responses"])
    assert list(post["responses"]["404"]["content"]) == ["application/problem+json"]
    body = schema["components"]["schemas"]["FeedbackRequest"]
    assert set(body["required"]) == {"user_id", "track_id", "action"}
    assert schema["components"]["schemas"]["FeedbackAction"]["enum"] == [
        "play",
        "skip",
        "like",
        "dislike",
    ]


def test_the_real_publisher_answers_503_when_no_broker_acknowledges() -> None:
    settings = WebSettings(bootstrap_servers=f"127.0.0.1:{free_port()}", publish_timeout_s=0.5)
    registry = CollectorRegistry()
    publisher = KafkaPublisher(settings, WebMetrics(registry))
    try:
        started = time.monotonic()
        with pytest.raises(ProblemError) as raised:
            asyncio.run(publisher.publish("song-feedback", "u", b"{}"))
        assert raised.value.status == 503 and raised.value.headers == {"Retry-After": "5"}
        assert time.monotonic() - started < 3  # bounded by --publish-timeout-s
    finally:
        publisher.close()
    failures = registry.get_sample_value(
        "encore_http_publish_failures_total", {"topic": "song-feedback", "reason": "not_delivered"}
    )
    assert failures == 1


def test_a_full_producer_queue_is_503_at_once_not_a_blocked_event_loop() -> None:
    settings = WebSettings(
        bootstrap_servers=f"127.0.0.1:{free_port()}",
        publish_timeout_s=1.0,
        kafka_options={"queue.buffering.max.messages": 1},
    )
    registry = CollectorRegistry()
    publisher = KafkaPublisher(settings, WebMetrics(registry))

    async def two() -> list[BaseException | None]:
        first = asyncio.create_task(publisher.publish("song-feedback", "u", b"{}"))
        await asyncio.sleep(0)  # the first is in the queue, waiting for its acknowledgement
        started = time.monotonic()
        with pytest.raises(ProblemError) as full:
            await publisher.publish("song-feedback", "u", b"{}")
        assert time.monotonic() - started < 0.5  # one 50 ms wait for room, then 503
        assert "queue is full" in full.value.detail
        return await asyncio.gather(first, return_exceptions=True)

    try:
        (first,) = asyncio.run(two())
    finally:
        publisher.close()
    assert isinstance(first, ProblemError) and first.status == 503
    failures = {
        reason: registry.get_sample_value(
            "encore_http_publish_failures_total", {"topic": "song-feedback", "reason": reason}
        )
        for reason in ("queue_full", "not_delivered")
    }
    assert failures == {"queue_full": 1, "not_delivered": 1}
