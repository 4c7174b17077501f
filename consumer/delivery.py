"""Getting a batch's outputs to the broker, and its input offsets committed, only together.

`AtLeastOnce`: produce everything, wait for every acknowledgement, then commit the input
offsets; a crash in between re-delivers (duplicates, never losses).
`ExactlyOnce`: the outputs and the input offsets go in one Kafka transaction; a
`read_committed` reader sees each answer once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from consumer.batch import Headers

log = logging.getLogger(__name__)

Output = tuple[str, bytes | None, bytes | None, Headers | None]  # topic, key, value, headers


class DeliveryFailed(Exception):
    """The broker did not acknowledge every output of a batch; its input must not be committed."""


def next_offsets(messages: Iterable[Message]) -> list[TopicPartition]:
    """Per partition, the offset after the last message: what to commit."""
    last: dict[tuple[str, int], int] = {}
    for m in messages:
        last[(m.topic(), m.partition())] = m.offset()  # type: ignore[index,assignment]
    return [TopicPartition(t, p, o + 1) for (t, p), o in last.items()]


def first_offsets(messages: Iterable[Message]) -> list[TopicPartition]:
    """Per partition, the first offset of the batch: where to rewind to after a failure."""
    first: dict[tuple[str, int], int] = {}
    for m in messages:
        first.setdefault((m.topic(), m.partition()), m.offset())  # type: ignore[arg-type]
    return [TopicPartition(t, p, o) for (t, p), o in first.items()]


class _Producing:
    """Produce a list of outputs, waiting (not dropping) when the local queue is full."""

    def __init__(
        self, producer: Producer, flush_timeout_s: float, on_queue_full: Callable[[], None]
    ) -> None:
        self.producer = producer
        self.flush_timeout_s = flush_timeout_s
        self.on_queue_full = on_queue_full
        self.errors: list[KafkaError] = []

    def on_delivery(self, err: KafkaError | None, _msg: Message) -> None:
        # With delivery.report.only.error only failures come here.
        if err is not None:
            self.errors.append(err)

    def produce_all(self, outputs: list[Output]) -> None:
        produce = self.producer.produce
        for topic, key, value, headers in outputs:
            while True:
                try:
                    produce(topic, value, key, headers=headers)
                    break
                except BufferError:
                    # Local queue full: serve delivery reports until there is room (backpressure).
                    self.producer.poll(0.05)
                    self.on_queue_full()
                except KafkaException as exc:  # refused locally (too large, fenced, ...)
                    raise DeliveryFailed(f"produce to {topic} refused: {exc.args[0]}") from exc

    def wait_acknowledged(self) -> None:
        deadline = time.monotonic() + self.flush_timeout_s
        while self.producer.flush(0.5) > 0:
            if time.monotonic() > deadline:
                raise DeliveryFailed(f"outputs not acknowledged within {self.flush_timeout_s}s")
        if self.errors:
            errors, self.errors = self.errors, []
            raise DeliveryFailed(f"{len(errors)} outputs failed, first: {errors[0]}")


class _Delivery:
    """What both guarantees share: the clients and the producing of a batch's outputs."""

    def __init__(
        self,
        consumer: Consumer,
        producer: Producer,
        flush_timeout_s: float,
        on_queue_full: Callable[[], None],
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.flush_timeout_s = flush_timeout_s
        self.producing = _Producing(producer, flush_timeout_s, on_queue_full)

    @staticmethod
    def producer_settings() -> dict[str, Any]:
        # Only failures call back: no Python call per acknowledged message.
        return {"delivery.report.only.error": True}


class AtLeastOnce(_Delivery):
    def deliver(self, messages: list[Message], outputs: list[Output]) -> None:
        self.producing.produce_all(outputs)
        self.producing.wait_acknowledged()
        self.consumer.store_offsets(offsets=next_offsets(messages))
        self.consumer.commit(asynchronous=True)

    def commit_now(self) -> None:
        """Synchronously commit what was stored (at revoke and at shutdown)."""
        try:
            self.consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError._NO_OFFSET:
                raise


class ExactlyOnce(_Delivery):
    def __init__(
        self,
        consumer: Consumer,
        producer: Producer,
        flush_timeout_s: float,
        on_queue_full: Callable[[], None],
    ) -> None:
        super().__init__(consumer, producer, flush_timeout_s, on_queue_full)
        # Fences any earlier producer with this transactional.id and aborts what it left open.
        producer.init_transactions(flush_timeout_s)

    def deliver(self, messages: list[Message], outputs: list[Output]) -> None:
        self.producer.begin_transaction()
        try:
            self.producing.produce_all(outputs)
            self.producer.send_offsets_to_transaction(
                next_offsets(messages),
                self.consumer.consumer_group_metadata(),
                self.flush_timeout_s,
            )
            self.producer.commit_transaction(self.flush_timeout_s)
            self.producing.errors.clear()
        except DeliveryFailed as exc:
            log.warning("transaction failed (%s); aborting", exc)
            self.producer.abort_transaction(self.flush_timeout_s)
            raise
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            log.warning("transaction failed (%s); aborting", error)
            if error.fatal():
                raise
            self.producer.abort_transaction(self.flush_timeout_s)
            raise DeliveryFailed(str(error)) from exc

    def commit_now(self) -> None:
        """Offsets are committed inside each transaction."""
