"""The service's librdkafka settings, on top of its `KafkaConnection` (`settings.kafka`).

The user's `--kafka-option`s reach every client over these (security, tuning), except the
ones the delivery guarantees depend on, which `Settings` refuses as options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from consumer.settings import Guarantee, Settings

# How often librdkafka reports statistics (consumer lag per partition) to `stats_cb`.
STATISTICS_INTERVAL_MS = 5000


def consumer_config(
    settings: Settings, stats_cb: Callable[[str], None] | None = None
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "group.id": settings.group_id,
        "client.id": f"encore-{settings.instance_id}",
        "auto.offset.reset": "earliest",
        # Offsets are stored by the service only after the outputs for them were acknowledged.
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        # Eager rebalancing: every batch is finished before the next poll, so a revoke finds
        # nothing in flight. (cooperative-sticky stalled transactional consumers on Tansu.)
        "partition.assignment.strategy": "range",
        # How long the broker may hold an empty fetch: bounds the latency of a lone event on
        # brokers that answer a fetch only at this deadline.
        "fetch.wait.max.ms": 10,
        "queued.min.messages": 20_000,
        "isolation.level": "read_committed",
        "session.timeout.ms": settings.session_timeout_ms,
        "heartbeat.interval.ms": settings.heartbeat_interval_ms,
    }
    if stats_cb is not None:
        config["statistics.interval.ms"] = STATISTICS_INTERVAL_MS
        config["stats_cb"] = stats_cb
    return settings.kafka.client_config(**config)


def producer_config(settings: Settings) -> dict[str, Any]:
    config: dict[str, Any] = {
        "client.id": f"encore-{settings.instance_id}",
        # Idempotence: retries never duplicate or reorder within a partition.
        "enable.idempotence": True,
        "acks": "all",
        # A few ms of batching costs little latency and buys a lot of throughput.
        "linger.ms": 2,
        "batch.num.messages": 2_000,
        "compression.type": "lz4",
        "queue.buffering.max.messages": 200_000,
        # Give up on a message after this long; the service then does not commit its input.
        "message.timeout.ms": 30_000,
        # Only failures call back (`on_delivery`): no Python call per acknowledged message.
        "delivery.report.only.error": True,
    }
    if settings.processing_guarantee is Guarantee.EXACTLY_ONCE:
        config["transactional.id"] = f"{settings.group_id}-{settings.instance_id}"
        config["transaction.timeout.ms"] = 60_000
    return settings.kafka.client_config(**config)


def admin_config(settings: Settings) -> dict[str, Any]:
    return settings.kafka.client_config()
