"""Prometheus metrics of the service, registered on a registry passed in (tests get their own)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from consumer.histogram import BatchHistogram
from schemas import DeadLetterReason

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000)


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.consumed = Counter(
            "encore_selections_consumed", "Song-selected messages consumed", registry=registry
        )
        self.published = Counter(
            "encore_recommendations_published",
            "Recommendations acknowledged by the broker",
            ["model", "variant"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "encore_dead_letters",
            "Messages routed to the dead-letter topic and acknowledged",
            ["reason"],
            registry=registry,
        )
        for reason in DeadLetterReason:
            self.dead_letters.labels(reason.value)
        self.processing = BatchHistogram(
            "encore_processing_latency_seconds",
            "Per event: from consumed to every output acknowledged",
            _LATENCY_BUCKETS,
            registry,
            label="variant",
            default="default",
        )
        self.end_to_end = BatchHistogram(
            "encore_end_to_end_latency_seconds",
            "Per event: from the input message's timestamp to its output acknowledged",
            _LATENCY_BUCKETS,
            registry,
        )
        self.batch_size = Histogram(
            "encore_batch_size",
            "Messages per consumed batch",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.delivery_failures = Counter(
            "encore_delivery_failures",
            "Outputs the broker did not acknowledge (the batch's input is not committed)",
            registry=registry,
        )
        self.producer_queue_full = Counter(
            "encore_producer_queue_full",
            "Waits for room in the producer's local queue (backpressure, nothing dropped)",
            registry=registry,
        )
        self.cache_lookups = Counter(
            "encore_answer_cache_lookups",
            "Catalog seeds looked up in an answer cache",
            registry=registry,
        )
        self.cache_hits = Counter(
            "encore_answer_cache_hits",
            "Catalog seeds answered from the cache (no search, no encoding)",
            registry=registry,
        )
        self.consume_errors = Counter(
            "encore_consume_errors", "Errors reported by the consumer", ["code"], registry=registry
        )
        self.commits = Counter("encore_commits", "Input offset commits", registry=registry)
        self.assigned_partitions = Gauge(
            "encore_assigned_partitions",
            "Input partitions assigned to this instance",
            registry=registry,
        )
        self.ready = Gauge("encore_ready", "1 when /readyz answers 200", registry=registry)
        self.last_progress = Gauge(
            "encore_last_progress_timestamp_seconds",
            "When the loop last finished a batch or found no input",
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "encore_consumer_lag",
            "Messages behind the partition's high watermark, per assigned input partition",
            ["topic", "partition"],
            registry=registry,
        )
        self.last_answer = Gauge(
            "encore_last_answer_timestamp_seconds",
            "When the last recommendation was acknowledged (0: none yet)",
            registry=registry,
        )
        self.model_info = Gauge(
            "encore_model_info", "Loaded models", ["model", "version", "default"], registry=registry
        )
        self.reloads = Counter("encore_model_reloads", "Model set swaps", registry=registry)
        self.feedback = Counter(
            "encore_feedback",
            "Feedback applied to listener state (replays count once)",
            ["variant", "action"],
            registry=registry,
        )
        self.state_restore_seconds = Gauge(
            "encore_state_restore_seconds",
            "How long the last restore of listener state from the changelog took",
            registry=registry,
        )
        self.state_restored = Counter(
            "encore_state_restored_records",
            "Changelog records read back into the local store",
            registry=registry,
        )
        self.state_listeners = Gauge(
            "encore_state_listeners",
            "Listeners in the local stores of the owned partitions",
            registry=registry,
        )
        self.state_bytes = Gauge(
            "encore_state_bytes",
            "Size of the local stores of the owned partitions (files and memtables)",
            registry=registry,
        )
        self.state_errors = Counter(
            "encore_state_errors",
            "Listener-state failures: stored states that could not be read and started over "
            "(unreadable), batches answered without state after a failure (batch), local "
            "stores emptied on restore as written from another changelog of that name "
            "(other_changelog)",
            ["kind"],
            registry=registry,
        )
        self.state_expired = Counter(
            "encore_state_expired",
            "Listeners idle past --state-ttl, forgotten (tombstoned)",
            registry=registry,
        )
        self.catalog = CatalogMetrics(registry)


# Why a catalog record can be a dead letter (the `error.reason` header and the metric label).
CATALOG_DEAD_LETTER_REASONS = (
    DeadLetterReason.INVALID_JSON,
    DeadLetterReason.INVALID_SCHEMA,
    DeadLetterReason.INVALID_FEATURES,
    DeadLetterReason.INTERNAL,
)
_APPLY_BUCKETS = (
    0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
    1, 1.5, 2, 3, 5, 10, 30, 60,
)  # fmt: skip


class CatalogMetrics:
    """The living catalog's metrics, on the service's registry and on the API's."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.tracks = Gauge(
            "encore_catalog_tracks", "Tracks in the served catalog", registry=registry
        )
        self.applied = Counter(
            "encore_catalog_updates_applied",
            "Catalog records applied, by what they did to the catalog",
            ["kind"],
            registry=registry,
        )
        for kind in ("added", "replaced", "removed"):
            self.applied.labels(kind)
        self.apply_latency = BatchHistogram(
            "encore_catalog_apply_latency_seconds",
            "Per catalog record: from its publish timestamp to applied (recommendable)",
            _APPLY_BUCKETS,
            registry,
        )
        self.dead_letters = Counter(
            "encore_catalog_dead_letters",
            "Catalog records routed to the catalog dead-letter topic and acknowledged",
            ["reason"],
            registry=registry,
        )
        for reason in CATALOG_DEAD_LETTER_REASONS:
            self.dead_letters.labels(reason.value)
