"""Producing with backpressure: when the local queue is full, wait for room, never drop.

`Producer.produce` raises `BufferError` when librdkafka's local queue is full. Every producer
of the project (the service's delivery, the producer tools, the test harness, the naive
benchmark consumer) goes through `produce` or `produce_all` here, which serve delivery reports
(`poll`) until there is room and then retry, counting each wait through `on_queue_full`.
Anything else the client raises (`KafkaException`: too large, fenced, ...) is the caller's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Protocol

from confluent_kafka import KafkaError, Message

__all__ = ["DeliveryCallback", "Headers", "Outgoing", "poll_until", "produce", "produce_all"]

Headers = list[tuple[str, str | bytes | None]]
Outgoing = tuple[str, bytes | None, bytes | None, Headers | None]  # topic, key, value, headers
DeliveryCallback = Callable[[KafkaError | None, Message], None]

# How long one wait for room serves delivery reports: they free the queue.
QUEUE_FULL_WAIT_S = 0.05


class Producing(Protocol):
    """The part of `confluent_kafka.Producer` producing needs."""

    def produce(
        self,
        topic: str,
        value: str | bytes | None = None,
        key: str | bytes | None = None,
        *,
        headers: Headers | None = None,
        on_delivery: DeliveryCallback | None = None,
        partition: int = -1,
    ) -> None: ...

    def poll(self, timeout: float = -1) -> int: ...


def produce(
    producer: Producing,
    topic: str,
    value: bytes | None,
    key: bytes | None = None,
    headers: Headers | None = None,
    *,
    on_delivery: DeliveryCallback | None = None,
    on_queue_full: Callable[[], None] | None = None,
    partition: int = -1,
) -> None:
    """Produce one message, waiting for room in the local queue as long as it takes.
    `partition` -1: the partitioner's choice."""
    while True:
        try:
            if partition < 0:
                producer.produce(topic, value, key, headers=headers, on_delivery=on_delivery)
            else:
                producer.produce(
                    topic, value, key, headers=headers, on_delivery=on_delivery, partition=partition
                )
            return
        except BufferError:
            producer.poll(QUEUE_FULL_WAIT_S)
            if on_queue_full is not None:
                on_queue_full()


def produce_all(
    producer: Producing,
    messages: Iterable[Outgoing],
    *,
    on_delivery: DeliveryCallback | None = None,
    on_queue_full: Callable[[], None] | None = None,
) -> int:
    """Produce every message in order; returns how many. The common case (room in the queue)
    costs one `produce` call per message."""
    send = producer.produce
    sent = 0
    for topic, key, value, headers in messages:
        try:
            send(topic, value, key, headers=headers, on_delivery=on_delivery)
        except BufferError:
            producer.poll(QUEUE_FULL_WAIT_S)
            if on_queue_full is not None:
                on_queue_full()
            produce(
                producer,
                topic,
                value,
                key,
                headers,
                on_delivery=on_delivery,
                on_queue_full=on_queue_full,
            )
        sent += 1
    return sent


def poll_until(producer: Producing, due: float, longest_s: float = 0.05) -> None:
    """Serve delivery reports until `due` (a `time.monotonic()` instant).

    poll() takes whole milliseconds, so sub-millisecond waits sleep instead: a poll(0) spin
    would steal a core from the broker and the service on a small machine.
    """
    while (ahead := due - time.monotonic()) > 0:
        if ahead >= 0.002:
            producer.poll(min(ahead, longest_s))
        else:
            time.sleep(ahead)
