"""Create topics when they are missing, wait until the broker lists them, tell one topic of a
name from another made since under it."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

log = logging.getLogger(__name__)


def ensure_topics(
    admin: AdminClient,
    names: Iterable[str],
    partitions: int,
    replication_factor: int = 1,
    timeout_s: float = 30.0,
    config: dict[str, str] | None = None,
) -> None:
    """Create each missing topic (with `config`, such as `cleanup.policy=compact`); raise
    `TimeoutError` if they are not all visible in time. An existing topic is left as it is."""
    names = list(dict.fromkeys(names))
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    missing = [n for n in names if n not in existing]
    if missing:
        log.info("creating topics %s with %d partitions", missing, partitions)
        topics = [
            NewTopic(n, partitions, replication_factor, config=dict(config or {})) for n in missing
        ]
        create_topics(admin, topics, timeout_s)
    wait_for_topics(admin, names, timeout_s)


def create_topics(admin: AdminClient, topics: list[NewTopic], timeout_s: float) -> None:
    """Create `topics`; one made meanwhile by another instance is not an error."""
    for name, future in admin.create_topics(topics, operation_timeout=timeout_s).items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
            log.info("topic %s was created concurrently", name)


def wait_for_topics(admin: AdminClient, names: Iterable[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    wanted = set(names)
    while True:
        metadata = admin.list_topics(timeout=max(0.1, deadline - time.monotonic()))
        ready = {n for n in wanted if n in metadata.topics and metadata.topics[n].error is None}
        if ready == wanted:
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"topics not available: {sorted(wanted - ready)}")
        time.sleep(0.1)


def topic_id(admin: AdminClient, name: str, timeout_s: float = 10.0) -> str | None:
    """The topic's id (Kafka gives each topic made a new one, KIP-516), as text; None when
    the broker gives none or cannot be asked (the caller then cannot tell)."""
    try:
        futures = admin.describe_topics(TopicCollection([name]), request_timeout=timeout_s)
        uuid = futures[name].result(timeout=timeout_s).topic_id
    except (KafkaException, TimeoutError) as exc:
        log.warning("topic id of %s unknown: %s", name, exc)
        return None
    if uuid is None or (
        uuid.get_most_significant_bits() == 0 and uuid.get_least_significant_bits() == 0
    ):
        return None
    return str(uuid)
