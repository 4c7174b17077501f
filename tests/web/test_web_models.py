"""GET /v1/models, /v1/clusters, /v1/map, /v1/status and the operations endpoints."""

from __future__ import annotations

import threading

import pytest
from prometheus_client import CollectorRegistry
from web_api import Api, catalog_with_names, make_api, model_set, problem

from recommender.catalog import Catalog
from recommender.recommender import Recommender, knn
from recommender.training.synthetic import generate_catalog
from web.app import create_app
from web.maps import extended, project
from web.settings import WebSettings
from web.state import ModelState


def test_models(api: Api) -> None:
    body = api.client.get("/v1/models").json()
    assert body["default"] == "knn"
    assert [(m["name"], m["has_clusters"], m["dimensions"]) for m in body["models"]] == [
        ("knn", False, 9),
        ("knn-cosine", True, 9),
    ]
    assert {m["n_tracks"] for m in body["models"]} == {60}


@pytest.mark.parametrize("model", ["knn", "knn-cosine"])
def test_clusters_have_sizes_means_labels_and_distinct_names(api: Api, model: str) -> None:
    body = api.client.get("/v1/clusters", params={"model": model}).json()
    assert body["model"] == model
    clusters = body["clusters"]
    assert sum(c["size"] for c in clusters) == 60
    assert sum(c["share"] for c in clusters) == pytest.approx(1.0)
    names = [c["name"] for c in clusters]
    assert len(set(names)) == len(names)
    for cluster in clusters:
        # "<feature word> · <feature word> · <top label>"
        assert cluster["name"].count(" · ") >= 2
        assert cluster["top_labels"][0]["label"] in cluster["name"]
        assert set(cluster["features"]) == set(api.models.catalog.feature_names)
    # The tight groups are recovered: each cluster is one genre.
    assert all(c["top_labels"][0]["share"] == 1.0 for c in clusters)


def test_clusters_default_model_and_unknown_model(api: Api) -> None:
    assert api.client.get("/v1/clusters").json()["model"] == "knn"
    response = api.client.get("/v1/clusters", params={"model": "nope"})
    assert response.status_code == 404
    problem(response)


def test_map(api: Api) -> None:
    body = api.client.get("/v1/map", params={"limit": 20}).json()
    points = body["points"]
    assert len(points) == 20 and body["model"] == "knn"
    assert all(0 <= p["x"] <= 1 and 0 <= p["y"] <= 1 for p in points)
    assert all(p["cluster"] is not None and p["track_name"] for p in points)
    # A larger map adds points and moves none; computed once, so asked again it is the same.
    more = api.client.get("/v1/map", params={"limit": 40}).json()["points"]
    assert more[:20] == points
    # `include` ids are always there; unknown ones are skipped.
    absent = next(
        t for t in api.models.catalog.track_ids if t not in {p["track_id"] for p in points}
    )
    included = api.client.get("/v1/map", params={"limit": 20, "include": f"{absent},nope"})
    ids = [p["track_id"] for p in included.json()["points"]]
    assert len(ids) == 21 and ids[-1] == absent


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 20_001}, {"model": "nope"}])
def test_bad_map_requests(api: Api, params: dict[str, object]) -> None:
    response = api.client.get("/v1/map", params=params)
    assert response.status_code in (404, 422)
    problem(response)


def test_status(api: Api) -> None:
    api.reader.answers_seen = 42
    api.reader.window.add(30)
    body = api.client.get("/v1/status").json()
    assert body["kafka"] is True and body["answers_seen"] == 42
    assert body["catalog_size"] == 60
    assert body["models"] == ["knn", "knn-cosine"] and body["label_columns"] == ["genre"]
    assert body["answers_per_second"] >= 0


def test_health_ready_and_metrics(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").status_code == 200
    api.client.get("/v1/tracks/t3-0001")
    api.client.get("/v1/tracks/nope")
    api.client.get("/no/such/path")
    text = api.client.get("/metrics").text
    assert (
        'encore_http_requests_total{method="GET",route="/v1/tracks/{track_id}",status="200"} 1.0'
        in text
    )
    assert 'route="/v1/tracks/{track_id}",status="404"' in text
    assert 'route="<unmatched>",status="404"' in text
    assert 'encore_http_request_duration_seconds_count{method="GET",route="/healthz"} 1.0' in text


def test_not_ready_until_the_models_are_loaded() -> None:
    release = threading.Event()
    models = model_set(catalog_with_names())

    def slow_load():  # type: ignore[no-untyped-def]
        release.wait(10)
        return models

    from web_api import FakePublisher, FakeReader, TestClient

    state = ModelState(slow_load)
    app = create_app(
        WebSettings(),
        CollectorRegistry(),
        model_state=state,
        live=lambda s, m, f: (FakePublisher(), FakeReader()),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        problem(response)
        assert client.get("/healthz").status_code == 200
        assert client.get("/v1/status").json()["catalog_size"] == 0
        assert client.get("/v1/models").status_code == 503
        release.set()
        state._thread.join(10)  # type: ignore[union-attr]
        assert client.get("/readyz").status_code == 200


def test_docs_and_page_work_offline(api: Api) -> None:
    html = api.client.get("/docs").text
    assert "cdn" not in html.lower() and "/docs/assets/swagger-ui-bundle.js" in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert api.client.get(f"/docs/assets/{asset}").status_code == 200
    schema = api.client.get("/openapi.json").json()
    assert {"/v1/tracks", "/v1/recommendations", "/v1/selections", "/v1/map"} <= set(
        schema["paths"]
    )
    problem_json = schema["paths"]["/v1/recommendations"]["post"]["responses"]["422"]["content"]
    assert list(problem_json) == ["application/problem+json"]
    page = api.client.get("/")
    assert page.status_code == 200 and "<html" in page.text
    assert api.client.get("/static/app.js").status_code == 200


def test_token_protected_api_with_a_second_client() -> None:
    client, _ = make_api(token="t")
    with client:
        assert client.post("/v1/evaluations", json={"label_column": "genre"}).status_code == 401


def test_a_map_is_made_anew_for_another_embedding_under_the_same_name() -> None:
    """`extended` only grows a map of the same embedding: a model whose songs moved (here
    every song given another's vector) is projected again."""
    catalog = Catalog.from_frame(generate_catalog(300, seed=3))
    model = knn(catalog, version="v")
    moved = Recommender(
        "knn", catalog, model.scaler, model.embedding, "euclidean", "v",
        model.catalog_embedding[::-1].copy(),
    )  # fmt: skip
    mapped = project(model)
    assert extended(mapped, model) is mapped  # nothing new: the same map
    assert extended(mapped, moved) is None
