"""`POST`/`DELETE /v1/tracks` (admin token, published to the catalog topic) and the API
following the catalog: direct answers, track lookups, search and status on the new catalog."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from confluent_kafka import Message
from prometheus_client import CollectorRegistry
from pydantic import SecretStr, ValidationError
from web_api import (
    FakePublisher,
    FakeReader,
    FakeTrackPublisher,
    TestClient,
    catalog_with_names,
    model_set,
    problem,
)

import web.clusters
from consumer.catalog_feed import CatalogFeed
from consumer.metrics import CatalogMetrics
from web.app import create_app
from web.catalog_live import CatalogFollower
from web.evaluations import Evaluations, EvaluationSetup
from web.settings import WebSettings
from web.state import ModelState

ADMIN = "admin-s3cret"


class Edges:
    """The app with a fake catalog publisher and a follower fed by hand (no broker)."""

    def __init__(self, admin_token: str | None = ADMIN) -> None:
        self.catalog = catalog_with_names()
        self.state = ModelState(lambda: model_set(self.catalog))
        self.state.load_now()
        self.publisher = FakeTrackPublisher()
        self.follower = CatalogFollower(
            self.state, CatalogFeed(CatalogMetrics(CollectorRegistry())), None
        )
        settings = WebSettings(admin_token=SecretStr(admin_token) if admin_token else None, k=5)
        setup = EvaluationSetup(Path("c.csv"), self.catalog.feature_names, Path("a"), ("knn",))
        app = create_app(
            settings,
            CollectorRegistry(),
            model_state=self.state,
            live=lambda s, m, f: (FakePublisher(), FakeReader()),
            jobs=Evaluations(setup, kept=1),
            catalog_live=lambda s, m, st: (self.publisher, self.follower),
        )
        self.client = TestClient(app, raise_server_exceptions=False)

    def apply_published(self) -> None:
        """What the follower does with the records the API published (offsets in order)."""
        messages = [
            Message(
                topic="encore.catalog",
                partition=0,
                offset=i,
                key=key.encode(),
                value=value,
                timestamp=(1, int(time.time() * 1000)),
            )
            for i, (key, value) in enumerate(self.publisher.published)
        ]
        self.publisher.published.clear()
        self.follower._step(messages, caught_up=True)


def new_track(like: str, edges: Edges, track_id: str = "new-1") -> dict:
    c = edges.catalog
    row = c.index[like]
    features = dict(zip(c.feature_names, c.features[row].tolist(), strict=True))
    return {"track_id": track_id, "track_name": "Brand New", "artist": "Newcomer",
            "features": features, "updated_at": "2026-12-01T22:00:00Z"}  # fmt: skip


@pytest.fixture
def edges() -> Edges:
    made = Edges()
    with made.client:
        yield made


def auth(token: str = ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_catalog_changes_need_the_admin_token(edges: Edges) -> None:
    body = new_track(edges.catalog.track_ids[0], edges)
    assert problem(edges.client.post("/v1/tracks", json=body))["status"] == 401
    assert problem(edges.client.post("/v1/tracks", json=body, headers=auth("no")))["status"] == 403
    assert problem(edges.client.delete("/v1/tracks/x", headers=auth("no")))["status"] == 403
    assert edges.publisher.published == []
    disabled = Edges(admin_token=None)
    with disabled.client:
        answer = disabled.client.post("/v1/tracks", json=body, headers=auth())
        assert "--admin-token" in problem(answer)["detail"] and answer.status_code == 403


def test_a_blank_token_or_upload_dir_is_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What docker-compose.yml passes when the user set none: POST endpoints stay open,
    catalog changes and uploads stay off (403 above), and an upload folder still needs a
    real token."""
    monkeypatch.setenv("ENCORE_API_TOKEN", " ")
    monkeypatch.setenv("ENCORE_ADMIN_TOKEN", "")
    monkeypatch.setenv("ENCORE_UPLOAD_DIR", "")
    settings = WebSettings()
    assert settings.api_token is None
    assert settings.admin_token is None and settings.upload_dir is None
    with pytest.raises(ValidationError, match="needs --admin-token"):
        WebSettings(upload_dir=tmp_path)


def test_post_and_delete_publish_to_the_catalog_topic(edges: Edges) -> None:
    body = new_track(edges.catalog.track_ids[0], edges)
    answer = edges.client.post("/v1/tracks", json=body, headers=auth())
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"track_id": "new-1", "topic": "encore.catalog"}
    key, value = edges.publisher.published[0]
    assert key == "new-1" and json.loads(value)["track_name"] == "Brand New"
    assert edges.client.delete("/v1/tracks/new-1", headers=auth()).status_code == 202
    assert edges.publisher.published[1] == ("new-1", None)  # a tombstone
    bad = {**body, "features": "loud"}
    assert problem(edges.client.post("/v1/tracks", json=bad, headers=auth()))["status"] == 422


def test_the_api_serves_the_catalog_the_topic_made(edges: Edges) -> None:
    seed = str(edges.catalog.track_ids[10])
    client = edges.client
    edges.client.post("/v1/tracks", json=new_track(seed, edges), headers=auth())
    edges.apply_published()
    direct = client.post("/v1/recommendations", json={"track_id": seed}).json()
    assert direct["items"][0]["track_id"] == "new-1"
    assert client.get("/v1/tracks/new-1").json()["track_name"] == "Brand New"
    status = client.get("/v1/status").json()
    assert status["catalog_size"] == len(edges.catalog) + 1
    assert status["latest_tracks"][0]["track_id"] == "new-1"
    gone = str(edges.catalog.track_ids[0])  # "Café del Mar"
    assert [i["track_id"] for i in client.get("/v1/tracks?q=cafe").json()["items"]] == [gone]
    client.delete("/v1/tracks/new-1", headers=auth())
    client.delete(f"/v1/tracks/{gone}", headers=auth())
    edges.apply_published()
    direct = client.post("/v1/recommendations", json={"track_id": seed}).json()
    assert "new-1" not in [i["track_id"] for i in direct["items"]]
    assert problem(client.get("/v1/tracks/new-1"))["status"] == 404
    assert client.get("/v1/tracks?q=cafe").json()["items"] == []  # the stale index, filtered
    status = client.get("/v1/status").json()
    assert status["catalog_size"] == len(edges.catalog) - 1 and status["latest_tracks"] == []
    points = client.get("/v1/map?limit=1000").json()["points"]
    assert {p["track_id"] for p in points}.isdisjoint({gone, "new-1"})


def test_the_map_keeps_its_points_when_the_catalog_grows(
    edges: Edges, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live update is the same model on a grown catalog: the map stays on its axes and its
    clusters, and a song added is placed on them (here beside the song whose features it
    copies, in its cluster), without k-means over the catalog again."""

    def points() -> dict[str, tuple[float, float, int]]:
        answer = edges.client.get("/v1/map?limit=20000").json()["points"]
        return {p["track_id"]: (p["x"], p["y"], p["cluster"]) for p in answer}

    before = points()
    models = edges.client.get("/v1/models").json()["models"]
    assert [m["has_clusters"] for m in models if m["name"] == "knn"] == [False]  # web k-means
    monkeypatch.setattr(web.clusters, "kmeans", _no_kmeans)
    seed = str(edges.catalog.track_ids[10])
    edges.client.post("/v1/tracks", json=new_track(seed, edges), headers=auth())
    edges.apply_published()
    after = points()
    assert {t: after[t] for t in before} == before
    assert after["new-1"][:2] == pytest.approx(before[seed][:2], abs=0.05)
    assert after["new-1"][2] == before[seed][2]


def _no_kmeans(*args: object, **kwargs: object) -> None:
    raise AssertionError("k-means ran again")
