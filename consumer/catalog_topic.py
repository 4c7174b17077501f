"""The catalog topic's Kafka edge: every partition assigned from the beginning (no consumer
group, nothing committed: every instance reads the whole topic, like a Kafka Streams global
table), and the catalog dead-letter topic.

`replay` reads up to the end offsets seen at `assign` (what the start must apply before the
instance is ready); `read` takes whatever has arrived since, without waiting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from consumer.catalog_feed import CatalogFeed
from consumer.metrics import CatalogMetrics
from consumer.serving import ModelSet
from kafkaio.config import KafkaConnection
from kafkaio.produce import produce
from kafkaio.stop import Stop
from kafkaio.topics import ensure_topics

__all__ = ["COMPACTED", "CatalogTopic", "LiveCatalog"]

log = logging.getLogger(__name__)

# The catalog topic is a table: compaction keeps the last record of each track id, and a
# tombstone for a day (so a replica that was away that long still sees the removal).
COMPACTED = {"cleanup.policy": "compact", "delete.retention.ms": str(24 * 3600 * 1000)}


class CatalogTopic:
    def __init__(
        self,
        connection: KafkaConnection,
        topic: str,
        dlq_topic: str,
        client_id: str,
        metrics: CatalogMetrics,
    ) -> None:
        self.topic, self.dlq_topic, self.metrics = topic, dlq_topic, metrics
        self.connection = connection
        self.consumer = Consumer(
            connection.client_config(
                **{
                    "group.id": client_id,  # librdkafka wants one; never joined
                    "client.id": client_id,
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    "auto.offset.reset": "earliest",
                    "isolation.level": "read_committed",
                    "fetch.wait.max.ms": 10,
                }
            )
        )
        self.producer = Producer(
            connection.client_config(
                **{"client.id": client_id, "enable.idempotence": True, "acks": "all"}
            )
        )
        self._ends: dict[int, int] = {}

    def ensure(self, partitions: int, replication_factor: int, timeout_s: float = 10.0) -> None:
        """Create the catalog topic (compacted) and its dead-letter topic when missing: what
        the service does at start, for a reader (the API) that may start before it."""
        admin = AdminClient(self.connection.client_config())
        ensure_topics(admin, [self.dlq_topic], partitions, replication_factor, timeout_s)
        ensure_topics(
            admin, [self.topic], partitions, replication_factor, timeout_s, config=COMPACTED
        )

    def assign(self, timeout_s: float = 10.0) -> None:
        """Every partition from its beginning; remember the end offsets to replay to."""
        metadata = self.consumer.list_topics(self.topic, timeout=timeout_s).topics[self.topic]
        if metadata.error is not None:
            raise KafkaException(metadata.error)
        partitions = sorted(metadata.partitions)
        for p in partitions:
            low, high = self.consumer.get_watermark_offsets(
                TopicPartition(self.topic, p), timeout_s
            )
            self._ends[p] = high if high > low else -1  # -1: empty, nothing to replay
        self.consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in partitions])
        log.info("catalog topic %s: replaying to %s", self.topic, self._ends)

    def read(self, feed: CatalogFeed, timeout_s: float = 0.0, most: int = 10_000) -> int:
        """Add what has arrived (waiting up to `timeout_s` for the first) to `feed`; produce
        its dead letters. Returns how many records were read."""
        messages = [m for m in self.consumer.consume(most, timeout_s) if self.usable(m)]
        if messages:
            feed.add(messages)
        self.send_dead_letters(feed)
        return len(messages)

    def send_dead_letters(self, feed: CatalogFeed) -> None:
        for (key, value, headers), reason in feed.dead_letters:
            produce(
                self.producer,
                self.dlq_topic,
                value,
                key,
                headers,
                on_delivery=self._delivered(reason.value),
            )
        feed.dead_letters.clear()
        self.producer.poll(0)

    def _delivered(self, reason: str) -> Callable[[KafkaError | None, Any], None]:
        def on_delivery(error: KafkaError | None, _message: Any) -> None:
            if error is None:
                self.metrics.dead_letters.labels(reason).inc()
            else:
                log.warning("catalog dead letter not delivered: %s", error)

        return on_delivery

    def caught_up(self) -> bool:
        """Whether every partition was read up to the end offset it had at `assign`."""
        waiting = [p for p, end in self._ends.items() if end >= 0]
        if not waiting:
            return True
        positions = self.consumer.position([TopicPartition(self.topic, p) for p in waiting])
        done = all(tp.offset >= self._ends[tp.partition] for tp in positions)
        if done:
            self._ends = {}
        return done

    def replay(
        self, feed: CatalogFeed, stop: Stop, progressed: Callable[[], None] = lambda: None
    ) -> bool:
        """Read up to the end offsets; False if stopped first. Waiting is progress."""
        started, read = time.monotonic(), 0
        while not self.caught_up():
            if stop.is_set():
                return False
            read += self.read(feed, 0.2)
            progressed()
        log.info("catalog topic replayed: %d records in %.1fs", read, time.monotonic() - started)
        return True

    def close(self) -> None:
        self.producer.flush(5)
        self.consumer.close()

    @staticmethod
    def usable(message: Any) -> bool:
        error = message.error()
        if error is None:
            return True
        if error.fatal():
            raise KafkaException(error)
        if error.code() != KafkaError._PARTITION_EOF:
            log.warning("catalog consumer error: %s", error)
        return False


class LiveCatalog:
    """The topic and the feed together: what the run loop asks between batches."""

    def __init__(self, topic: CatalogTopic, feed: CatalogFeed) -> None:
        self.topic, self.feed = topic, feed

    def refresh(self, models: ModelSet) -> ModelSet | None:
        """`models` with what arrived since the last call applied; None if nothing did."""
        self.topic.read(self.feed)
        fresh = self.feed.apply(models)
        self.topic.send_dead_letters(self.feed)  # the records `apply` rejected
        return fresh

    def rebase(self, models: ModelSet) -> ModelSet:
        return self.feed.rebase(models)
