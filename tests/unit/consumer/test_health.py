"""/healthz and /readyz semantics, and the HTTP server that serves them."""

from harness import http_get
from prometheus_client import CollectorRegistry

from consumer import http
from consumer.http import Health, serve_http
from consumer.metrics import Metrics
from embedded.broker import free_port


def test_liveness_fails_after_the_stall_timeout(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(http.time, "monotonic", lambda: now[0])
    health = Health(stall_timeout_s=5)
    assert health.live()[0]
    now[0] += 4.9
    assert health.live()[0]
    now[0] += 0.2
    ok, text = health.live()
    assert not ok and "no progress" in text
    health.progressed()
    assert health.live()[0]


def test_readiness_needs_topics_model_and_partitions():
    health = Health(30)
    assert not health.ready
    health.topics_ready = health.model_loaded = True
    assert not health.ready
    health.assigned = 2
    assert health.ready
    health.catalog_replayed = False  # the catalog topic not replayed yet
    assert not health.ready and "catalog: no" in health.readiness()[1]
    health.catalog_replayed = True
    health.stopping = True
    assert not health.ready


def test_endpoints_answer_over_http():
    registry = CollectorRegistry()
    Metrics(registry).consumed.inc(3)
    health = Health(30)
    port = free_port()
    server = serve_http("127.0.0.1", port, registry, health)
    try:
        base = f"http://127.0.0.1:{port}"
        status, body = http_get(base + "/metrics")
        assert status == 200 and "encore_selections_consumed_total 3.0" in body
        assert http_get(base + "/healthz")[0] == 200
        status, body = http_get(base + "/readyz")
        assert status == 503 and "partitions: no" in body
        health.topics_ready = health.model_loaded = True
        health.assigned = 1
        assert http_get(base + "/readyz")[0] == 200
        assert http_get(base + "/nope")[0] == 404
    finally:
        server.shutdown()
        server.server_close()
