"""Prometheus metrics of the HTTP API, registered on a registry passed in (tests get their own)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


class WebMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "encore_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "encore_http_request_duration_seconds",
            "Time to answer an HTTP request (streams: until the stream opened)",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.published = Counter(
            "encore_http_published",
            "Events (selections, feedback) acknowledged by the broker, by topic",
            ["topic"],
            registry=registry,
        )
        self.publish_failures = Counter(
            "encore_http_publish_failures",
            "Events not published (answered 503), by topic and reason",
            ["topic", "reason"],
            registry=registry,
        )
        self.answers_read = Counter(
            "encore_http_answers_read",
            "Answers read from the output topic (every instance reads all of them)",
            registry=registry,
        )
        self.streams = Gauge(
            "encore_http_sse_streams", "Open listener streams (SSE)", registry=registry
        )
        self.dropped = Counter(
            "encore_http_sse_dropped",
            "Answers dropped for a slow SSE client (its queue was full: the oldest went)",
            registry=registry,
        )
