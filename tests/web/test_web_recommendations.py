"""POST /v1/recommendations (same items as the Kafka path), POST /v1/selections, the token,
the body limit and the problem answers for bad input."""

from __future__ import annotations

import json

import pytest
from fakes.kafka import consumed
from web_api import TOKEN, Api, make_api, problem

from consumer.batch import BatchProcessor
from schemas import Recommendations, SongSelected


def kafka_answer(api: Api, event: dict[str, object]) -> dict[str, object]:
    """What the service publishes for `event`: BatchProcessor on a fresh copy of the set."""
    processor = BatchProcessor(api.models, default_k=5, max_event_bytes=64 * 1024)
    result = processor.process([consumed(json.dumps(event).encode())])
    assert result.recommendations, result.dead_letters
    return json.loads(result.recommendations[0][1])


@pytest.mark.parametrize(
    "body",
    [
        {"k": 4},
        {"k": 7, "model": "knn-cosine", "with_features": True},
        {},  # the service's default k (5 in these tests) and model
    ],
)
def test_same_items_as_the_kafka_path(api: Api, body: dict[str, object]) -> None:
    track_id = str(api.models.catalog.track_ids[12])
    response = api.client.post("/v1/recommendations", json={"track_id": track_id, **body})
    assert response.status_code == 200, response.text
    direct = response.json()
    event = {"event_id": "e1", "user_id": "u1", "track_id": track_id, **body}
    published = kafka_answer(api, {**event, "schema_version": direct["schema_version"]})
    assert direct["items"] == published["items"]
    assert direct["model_version"] == published["model_version"]
    assert direct["user_id"] is None and direct["seed_track_id"] == track_id
    assert len(direct["items"]) == body.get("k", 5)
    Recommendations.model_validate({**direct, "user_id": "-"})  # the wire contract's shape


def test_a_feature_seed(api: Api) -> None:
    catalog = api.models.catalog
    features = dict(zip(catalog.feature_names, catalog.features[3].tolist(), strict=True))
    body = api.client.post("/v1/recommendations", json={"features": features, "k": 3}).json()
    assert body["seed_track_id"] is None and len(body["items"]) == 3
    # The seed's own group (of ten tight tracks) comes first.
    genre = catalog.labels("genre")
    assert {genre[catalog.index[i["track_id"]]] for i in body["items"]} == {genre[3]}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"track_id": "nope"}, 404, "nope"),
        ({"track_id": "t3-0001", "model": "missing"}, 404, "missing"),
        ({}, 422, "exactly one"),
        ({"track_id": "t3-0001", "features": {"energy": 0.5}}, 422, "exactly one"),
        ({"track_id": "t3-0001", "k": 0}, 422, "k"),
        ({"track_id": "t3-0001", "k": 101}, 422, "100"),
        ({"track_id": "t3-0001", "k": "5"}, 422, "k"),
        ({"features": {"energy": 0.5}}, 422, "missing feature"),
        ({"track_id": ""}, 422, "track_id"),
        ([1, 2], 422, "object"),
    ],
)
def test_bad_requests_are_problems(api: Api, body: object, status: int, words: str) -> None:
    response = api.client.post("/v1/recommendations", json=body)
    assert response.status_code == status, response.text
    assert words in problem(response)["detail"]


@pytest.mark.parametrize("raw", [b"{", b"not json", b"", b"\xff\xfe"])
def test_malformed_json_is_422(api: Api, raw: bytes) -> None:
    response = api.client.post(
        "/v1/recommendations", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    problem(response)


def test_a_body_over_the_limit_is_413() -> None:
    client, _ = make_api(max_body_bytes=1024)
    with client:
        big = {"track_id": "t3-0001", "exclude_track_ids": ["x" * 200] * 10}
        response = client.post("/v1/recommendations", json=big)
        assert response.status_code == 413
        problem(response)

        def chunks():  # no Content-Length: the streamed size is counted
            for _ in range(20):
                yield b" " * 100
            yield b'{"track_id": "t3-0001"}'

        response = client.post(
            "/v1/recommendations", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert "1024" in problem(response)["detail"]


def test_selection_is_published_as_a_song_selected(api: Api) -> None:
    response = api.client.post(
        "/v1/selections", json={"user_id": "u-7", "track_id": "t3-0002", "k": 3}
    )
    assert response.status_code == 202, response.text
    event_id = response.json()["event_id"]
    ((topic, key, value),) = api.publisher.published
    event = SongSelected.model_validate_json(value)
    assert topic == "song-selected"
    assert key == "u-7" and event.user_id == "u-7" and event.event_id == event_id
    assert event.track_id == "t3-0002" and event.k == 3 and event.timestamp is not None


def test_a_selection_the_service_would_dead_letter_is_refused_here(api: Api) -> None:
    for body, status in [
        ({"user_id": "u", "track_id": "nope"}, 404),
        ({"user_id": "u", "track_id": "t3-0001", "model": "nope"}, 404),
        ({"user_id": "u", "features": {"energy": 2.0}}, 422),
        ({"track_id": "t3-0001"}, 422),  # no user
    ]:
        response = api.client.post("/v1/selections", json=body)
        assert response.status_code == status, body
        problem(response)
    assert api.publisher.published == []


def test_kafka_down_is_503(api: Api) -> None:
    api.publisher.down = True
    response = api.client.post("/v1/selections", json={"user_id": "u", "track_id": "t3-0001"})
    assert response.status_code == 503
    problem(response)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": f"Basic {TOKEN}"}, 401),
        ({"Authorization": f"Bearer {TOKEN}"}, 200),
    ],
)
def test_token_guards_posts(api_with_token: Api, headers: dict[str, str], status: int) -> None:
    client = api_with_token.client
    response = client.post("/v1/recommendations", json={"track_id": "t3-0001"}, headers=headers)
    assert response.status_code == status
    if status == 401:
        problem(response)
        assert response.headers["www-authenticate"].startswith("Bearer")
    selection = client.post(
        "/v1/selections", json={"user_id": "u", "track_id": "t3-0001"}, headers=headers
    )
    assert selection.status_code == (202 if status == 200 else 401)
    # GETs need no token.
    assert client.get("/v1/tracks", params={"q": "queen"}).status_code == 200


def test_a_selection_with_rules_the_service_would_refuse_is_422_not_published(api: Api) -> None:
    for body, field in [
        ({"min_tempo": 150, "max_tempo": 100}, "min_tempo"),
        ({"target_loudnes": -5}, "target_loudnes"),
        ({"pool": 2, "k": 5}, "pool"),
    ]:
        response = api.client.post(
            "/v1/selections", json={"user_id": "u", "track_id": "t3-0001", **body}
        )
        assert response.status_code == 422, body
        assert field in problem(response)["detail"]
    assert api.publisher.published == []
