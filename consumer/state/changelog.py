"""The changelog topic: created co-partitioned with the input at start, read back on assignment.

Each record is one listener's whole state (`codec`), keyed by user id and written to the
partition of the input it came from, so compaction keeps exactly the latest state of each
listener and a tombstone (null value) forgets one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from consumer.state.store import Stores
from kafkaio.topics import create_topics, wait_for_topics
from recommender.errors import ConfigurationError

log = logging.getLogger(__name__)

CHANGELOG_CONFIG = {"cleanup.policy": "compact"}
RESTORE_CHUNK = 10_000


def ensure_co_partitioned(
    admin: AdminClient,
    input_topic: str,
    feedback_topic: str,
    changelog_topic: str,
    replication_factor: int = 1,
    timeout_s: float = 30.0,
) -> int:
    """Create the feedback and changelog topics with the input's partition count; refuse
    (`ConfigurationError`) an existing one with another count. Returns the count."""
    topics = admin.list_topics(timeout=timeout_s).topics
    partitions = len(topics[input_topic].partitions)
    missing = []
    for name, config in ((feedback_topic, {}), (changelog_topic, CHANGELOG_CONFIG)):
        if name not in topics:
            missing.append(NewTopic(name, partitions, replication_factor, config=config))
            continue
        count = len(topics[name].partitions)
        if count != partitions:
            raise ConfigurationError(
                f"{name} has {count} partitions and {input_topic} {partitions}: listener state "
                f"needs them co-partitioned (delete {name}, or give another --state-topic / "
                "--feedback-topic)"
            )
    if missing:
        log.info("creating %s with %d partitions", [t.topic for t in missing], partitions)
        create_topics(admin, missing, timeout_s)
    wait_for_topics(admin, [feedback_topic, changelog_topic], timeout_s)
    return partitions


@dataclass(frozen=True)
class Restored:
    partitions: list[int]
    records: int
    seconds: float
    emptied: int = 0  # stores found written from another changelog, and emptied first


class Restorer:
    """Reads changelog partitions into their stores, from each store's checkpoint (0 for a new
    store) to the end, on a consumer of its own (assigned, never subscribed).

    A store is only continued from the changelog it was written from. `topic_id` gives the
    changelog topic's id (None if the broker gives none): a store that recorded another id
    was written from a topic of the same name since deleted and made anew, whose offsets
    mean something else, so it is emptied and restored from the start.
    """

    def __init__(
        self,
        consumer: Consumer,
        topic: str,
        stores: Stores,
        timeout_s: float = 300.0,
        progressed: Callable[[], None] = lambda: None,
        topic_id: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.consumer = consumer
        self.topic = topic
        self.stores = stores
        self.timeout_s = timeout_s
        self.progressed = progressed
        self.topic_id = topic_id

    def end_offset(self, partition: int) -> tuple[int, int]:
        low, high = self.consumer.get_watermark_offsets(
            TopicPartition(self.topic, partition), timeout=10.0, cached=False
        )
        return int(low), int(high)

    def checkpoint(self, partitions: list[int]) -> None:
        """Record in each store how far the changelog is written: everything this instance
        produced to it was acknowledged and written to the store before this is called."""
        for partition in partitions:
            store = self.stores.get(partition)
            if store is not None:
                store.set_checkpoint(self.end_offset(partition)[1])

    def restore(self, partitions: list[int]) -> Restored:
        started = time.monotonic()
        todo: dict[int, int] = {}  # partition -> end offset
        starts = []
        emptied = 0
        topic_id = self.topic_id()
        for partition in partitions:
            store = self.stores.open(partition)
            low, high = self.end_offset(partition)
            why = None
            if topic_id is not None and store.changelog_id not in (None, topic_id):
                why = f"topic id {store.changelog_id}, now {topic_id}: a topic made since anew"
            elif high == 0 and store.checkpoint:
                # A store with states and an empty changelog: it was written from another
                # cluster's changelog, or from a topic since made anew on a broker without
                # topic ids (a --state-dir kept across an in-memory broker's restart). (A
                # checkpoint merely past a non-empty changelog's end proves nothing: Tansu
                # reports the high watermark a few records low.)
                why = f"at offset {store.checkpoint}, the changelog empty"
            if why is not None:  # the changelog is the truth: start over
                log.warning(
                    "state store of %s[%d] was written from another changelog (%s): emptied",
                    self.topic, partition, why,
                )  # fmt: skip
                store = self.stores.wipe(partition)
                emptied += 1
            if topic_id is not None and store.changelog_id is None:
                store.set_changelog_id(topic_id)
            if high == 0:  # an empty changelog partition: nothing to read
                if store.checkpoint is None:
                    store.set_checkpoint(0)
                continue
            start = max(store.checkpoint or 0, low)
            # Read to the end of the partition (the consumer's end-of-partition event), even
            # from at or past the high watermark: a broker may report it low (Tansu does).
            todo[partition] = high
            starts.append(TopicPartition(self.topic, partition, start))
        records = self._read(todo, starts) if todo else 0
        return Restored(sorted(partitions), records, time.monotonic() - started, emptied)

    def _read(self, todo: dict[int, int], starts: list[TopicPartition]) -> int:
        consumer = self.consumer
        consumer.assign(starts)
        records = 0
        deadline = time.monotonic() + self.timeout_s
        try:
            while todo:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"changelog {self.topic} not restored: {sorted(todo)} left")
                self.progressed()
                batch: dict[int, dict[bytes, bytes | None]] = {}
                ends: dict[int, int] = {}
                eof: set[int] = set()
                for message in consumer.consume(RESTORE_CHUNK, 0.5):
                    error = message.error()
                    partition = message.partition()
                    assert partition is not None
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF and partition in todo:
                            eof.add(partition)
                            offset = message.offset()
                            if offset is not None and offset >= 0:
                                ends[partition] = max(ends.get(partition, 0), offset)
                            continue
                        if error.fatal():
                            raise KafkaException(error)
                        log.warning("restore: %s", error)
                        continue
                    key = message.key()
                    if key is not None:
                        batch.setdefault(partition, {})[key] = message.value()
                    offset = message.offset()
                    assert offset is not None
                    ends[partition] = offset + 1
                    records += 1
                for partition in ends.keys() | eof:
                    if partition in ends:
                        self._write(partition, batch.get(partition, {}), ends[partition])
                    if partition in eof:
                        todo.pop(partition, None)
        finally:
            consumer.unassign()
        return records

    def _write(self, partition: int, changes: dict[bytes, bytes | None], offset: int) -> None:
        store = self.stores.open(partition)
        keys = list(changes)
        existed = dict(zip(keys, (v is not None for v in store.get_many(keys)), strict=True))
        store.write(changes, existed, offset)
