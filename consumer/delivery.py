"""Getting a batch's outputs to the broker, and its input offsets committed, only together.

`AtLeastOnce`: produce everything, wait for every acknowledgement, then commit the input
offsets; a crash in between re-delivers (duplicates, never losses). It is `pipelined`: the
service sends a batch and confirms it (waits for its acknowledgements, commits) only after it
has processed the next one, so the wait overlaps the next batch's work.
`ExactlyOnce`: the outputs and the input offsets go in one Kafka transaction; a
`read_committed` reader sees each answer once.
Both implement `consumer.ports.Delivery`; a batch that cannot be delivered is `DeliveryFailed`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from kafkaio.produce import Outgoing, produce, produce_all
from recommender.errors import DeliveryFailed

__all__ = ["AtLeastOnce", "DeliveryFailed", "ExactlyOnce", "first_offsets", "next_offsets"]

log = logging.getLogger(__name__)

# A record for an explicit partition (a changelog's: the partition of the input it belongs to).
Partitioned = tuple[str, int, bytes, bytes | None]  # topic, partition, key, value


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


class _Delivery:
    """What both guarantees share: the clients, and producing a batch's outputs."""

    pipelined = False

    def __init__(
        self,
        consumer: Consumer,
        producer: Producer,
        flush_timeout_s: float,
        on_queue_full: Callable[[], None] | None = None,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.flush_timeout_s = flush_timeout_s
        self.on_queue_full = on_queue_full
        self._errors: list[KafkaError] = []

    def _on_delivery(self, err: KafkaError | None, _msg: Message) -> None:
        # With delivery.report.only.error only failures come here (a timeout, a refusal).
        if err is not None:
            self._errors.append(err)

    def _produce_all(self, outputs: list[Outgoing], changelog: Sequence[Partitioned]) -> None:
        self._errors.clear()  # late reports of an earlier, already failed batch
        try:
            produce_all(
                self.producer,
                outputs,
                on_delivery=self._on_delivery,
                on_queue_full=self.on_queue_full,
            )
            for topic, partition, key, value in changelog:
                produce(
                    self.producer,
                    topic,
                    value,
                    key,
                    on_delivery=self._on_delivery,
                    on_queue_full=self.on_queue_full,
                    partition=partition,
                )
        except KafkaException as exc:  # refused locally (too large, fenced, ...)
            raise DeliveryFailed(f"an output was refused: {exc.args[0]}") from exc

    def poll(self, timeout: float) -> None:
        self.producer.poll(timeout)


class AtLeastOnce(_Delivery):
    pipelined = True

    def deliver(
        self,
        messages: Sequence[Message],
        outputs: list[Outgoing],
        changelog: Sequence[Partitioned] = (),
    ) -> None:
        """The changelog records too are acknowledged before the offsets are committed."""
        self.send(outputs, changelog)
        self.confirm(messages)

    def send(self, outputs: list[Outgoing], changelog: Sequence[Partitioned] = ()) -> None:
        """Produce a batch's outputs and changelog records (the batch sent before must be
        confirmed first: its delivery reports are told apart from this one's by that)."""
        self._produce_all(outputs, changelog)

    def confirm(self, messages: Sequence[Message]) -> None:
        """Wait until everything sent is acknowledged, then commit the batch's offsets; or
        `DeliveryFailed`, and nothing of it committed."""
        self._wait_acknowledged()
        self.consumer.store_offsets(offsets=next_offsets(messages))
        self.consumer.commit(asynchronous=True)

    def _wait_acknowledged(self) -> None:
        deadline = time.monotonic() + self.flush_timeout_s
        while self.producer.flush(0.5) > 0:
            if time.monotonic() > deadline:
                raise DeliveryFailed(f"outputs not acknowledged within {self.flush_timeout_s}s")
        if self._errors:
            errors, self._errors = self._errors, []
            raise DeliveryFailed(f"{len(errors)} outputs failed, first: {errors[0]}")

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
        on_queue_full: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(consumer, producer, flush_timeout_s, on_queue_full)
        # Fences any earlier producer with this transactional.id and aborts what it left open.
        producer.init_transactions(flush_timeout_s)

    def deliver(
        self,
        messages: Sequence[Message],
        outputs: list[Outgoing],
        changelog: Sequence[Partitioned] = (),
    ) -> None:
        """The changelog records go in the same transaction as the outputs and offsets."""
        self.producer.begin_transaction()
        try:
            self._produce_all(outputs, changelog)
            self.producer.send_offsets_to_transaction(
                next_offsets(messages),
                self.consumer.consumer_group_metadata(),
                self.flush_timeout_s,
            )
            # Flushes; fails (abortable) if any output was not delivered.
            self.producer.commit_transaction(self.flush_timeout_s)
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
