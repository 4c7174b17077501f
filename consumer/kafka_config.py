"""librdkafka configuration for the service's clients, built from `Settings` in one place."""

from __future__ import annotations

from typing import Any

from consumer.settings import Guarantee, Settings

# Keys whose values must never be printed.
_SECRET_WORDS = ("password", "secret", "key.pem", "token", "jaas")


def _common(settings: Settings) -> dict[str, Any]:
    config: dict[str, Any] = {"bootstrap.servers": settings.bootstrap_servers}
    # User options last, so security.protocol, sasl.*, ssl.* and tuning reach both clients.
    config.update({k: v.get_secret_value() for k, v in settings.kafka_options.items()})
    return config


def consumer_config(settings: Settings) -> dict[str, Any]:
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
    config.update(_common(settings))
    return config


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
    }
    if settings.processing_guarantee is Guarantee.EXACTLY_ONCE:
        config["transactional.id"] = f"{settings.group_id}-{settings.instance_id}"
        config["transaction.timeout.ms"] = 60_000
    config.update(_common(settings))
    return config


def admin_config(settings: Settings) -> dict[str, Any]:
    return _common(settings)


def redacted(config: dict[str, Any]) -> dict[str, Any]:
    """The config with secret values masked, for logs."""
    return {
        k: "***" if any(word in k.lower() for word in _SECRET_WORDS) else v
        for k, v in config.items()
    }
