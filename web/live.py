"""The API's Kafka edges: publish selections and feedback to their topics, and read every answer
on the output topic for the SSE streams and the status (answers per second, reachability)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from kafkaio.produce import produce
from web.metrics import WebMetrics
from web.problems import ProblemError
from web.settings import WebSettings

log = logging.getLogger(__name__)

Deliver = Callable[[list[tuple[str, bytes]]], None]


# librdkafka scans for expired messages once a second, so a "not delivered" report can come up
# to about a second after `message.timeout.ms`, later on a loaded machine; wait that long for it
# before calling it a timeout of our own.
_REPORT_GRACE_S = 2.5


class _QueueFull(Exception):
    pass


def _give_up() -> None:
    # `produce` waits for room while serving delivery reports; a request must not hold the
    # event loop that long, so after one wait (50 ms) it is a 503 the client can retry.
    raise _QueueFull


class KafkaPublisher:
    """An idempotent producer, polled on its own thread; `publish` waits (bounded) for the
    broker's acknowledgement, so 202 means the event (a selection, a feedback) is on its topic."""

    def __init__(self, settings: WebSettings, metrics: WebMetrics) -> None:
        self._timeout_s = settings.publish_timeout_s
        self._metrics = metrics
        self._producer = Producer(
            settings.kafka.client_config(
                **{
                    "client.id": f"encore-web-{settings.instance_id}",
                    "enable.idempotence": True,
                    "acks": "all",
                    "linger.ms": 1,  # a click is one message: send it now
                    # librdkafka gives up when we do, so a 503 means "not delivered".
                    "message.timeout.ms": int(settings.publish_timeout_s * 1000),
                }
            )
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="encore-web-producer", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.1)

    async def publish(self, topic: str, key: str, value: bytes | None) -> None:
        """`value` None: a tombstone (on the catalog topic)."""
        loop = asyncio.get_running_loop()
        acked: asyncio.Future[KafkaError | None] = loop.create_future()

        def on_delivery(error: KafkaError | None, _message: object) -> None:
            # RuntimeError: the request's loop is closed (a shutdown), so nobody waits.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, acked, error)

        try:
            produce(
                self._producer,
                topic,
                value,
                key.encode(),
                on_delivery=on_delivery,
                on_queue_full=_give_up,
            )
        except _QueueFull:
            self._failed(topic, "queue_full")
            raise _unavailable("the producer's queue is full; try again shortly") from None
        except KafkaException as exc:
            self._failed(topic, "refused")
            raise _unavailable(f"Kafka refused the event: {exc}") from None
        try:
            error = await asyncio.wait_for(acked, self._timeout_s + _REPORT_GRACE_S)
        except TimeoutError:
            self._failed(topic, "timeout")
            raise _unavailable(f"Kafka did not acknowledge within {self._timeout_s:g} s") from None
        if error is not None:
            self._failed(topic, "not_delivered")
            raise _unavailable(f"Kafka did not take the event: {error.str()}")
        self._metrics.published.labels(topic).inc()

    def _failed(self, topic: str, reason: str) -> None:
        self._metrics.publish_failures.labels(topic, reason).inc()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._producer.flush(1)


def _settle(future: asyncio.Future[KafkaError | None], error: KafkaError | None) -> None:
    if not future.done():
        future.set_result(error)


def _unavailable(detail: str) -> ProblemError:
    return ProblemError(503, detail, {"Retry-After": "5"})


class RateWindow:
    """Events per second over the last `seconds` whole seconds."""

    def __init__(self, seconds: int = 10) -> None:
        self.seconds = seconds
        self._counts = [0] * (seconds + 1)
        self._stamp = [0] * (seconds + 1)

    def add(self, count: int, now: float | None = None) -> None:
        second = int(time.monotonic() if now is None else now)
        slot = second % len(self._counts)
        if self._stamp[slot] != second:
            self._stamp[slot], self._counts[slot] = second, 0
        self._counts[slot] += count

    def rate(self, now: float | None = None) -> float:
        second = int(time.monotonic() if now is None else now)
        total = sum(
            c
            for c, s in zip(self._counts, self._stamp, strict=True)
            if second - self.seconds <= s < second
        )
        return total / self.seconds


class OutputReader:
    """One thread per API instance reading every partition of the output topic from its end.

    No consumer group work: partitions are assigned at their current end offsets, nothing is
    committed, `read_committed`, so exactly-once answers are seen once they are committed.
    Answers of users with an open stream go to `deliver`; every answer is counted.
    """

    CHECK_EVERY_S = 3.0

    def __init__(
        self,
        settings: WebSettings,
        metrics: WebMetrics,
        listening: Callable[[str], bool],
        deliver: Deliver,
    ) -> None:
        self.topic = settings.output_topic
        self._listening, self._deliver, self._metrics = listening, deliver, metrics
        self._config = settings.kafka.client_config(
            **{
                "group.id": f"encore-web-{settings.instance_id}",  # required; never joined
                "client.id": f"encore-web-{settings.instance_id}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "isolation.level": "read_committed",
                "fetch.wait.max.ms": 10,
                "error_cb": self._on_error,
            }
        )
        self.reachable = False
        self.answers_seen = 0
        self.window = RateWindow()
        self._partitions: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="encore-web-reader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _on_error(self, error: KafkaError) -> None:
        if error.code() == KafkaError._ALL_BROKERS_DOWN:
            self.reachable = False

    def _run(self) -> None:
        consumer = Consumer(self._config)
        next_check = 0.0
        try:
            while not self._stop.is_set():
                if time.monotonic() >= next_check:
                    self._check(consumer)
                    next_check = time.monotonic() + self.CHECK_EVERY_S
                if not self._partitions:
                    self._stop.wait(0.5)
                    continue
                # Wake on the first answer, then take what else is already here.
                first = consumer.poll(0.2)
                if first is not None:
                    self._handle([first, *consumer.consume(999, 0)])
        finally:
            consumer.close()

    def _check(self, consumer: Consumer) -> None:
        """Metadata of the output topic: reachability, and partitions not yet assigned (at
        their end offset, so an answer produced after this call is read)."""
        try:
            topic = consumer.list_topics(self.topic, timeout=2).topics[self.topic]
            if topic.error is not None:
                raise KafkaException(topic.error)
            new = [p for p in topic.partitions if p not in self._partitions]
            if new:
                ends = [
                    consumer.get_watermark_offsets(TopicPartition(self.topic, p), 2) for p in new
                ]
                consumer.incremental_assign(
                    [
                        TopicPartition(self.topic, p, high)
                        for p, (_, high) in zip(new, ends, strict=True)
                    ]
                )
                self._partitions.update(new)
                log.info("reading %s partitions %s from their end", self.topic, sorted(new))
        except (KafkaException, KeyError, TypeError) as exc:
            if self.reachable:
                log.warning("output topic %s unreadable: %s", self.topic, exc)
            self.reachable = False
            return
        self.reachable = True

    def _handle(self, messages: list[Any]) -> None:
        matched: list[tuple[str, bytes]] = []
        count = 0
        for message in messages:
            if message.error() is not None:
                continue
            count += 1
            key = (message.key() or b"").decode("utf-8", "replace")
            if self._listening(key):
                value = one_line(message.value())
                if value is not None:
                    matched.append((key, value))
        if count:
            self.answers_seen += count
            self.window.add(count)
            self._metrics.answers_read.inc(count)
        self._deliver(matched)


def one_line(value: bytes | None) -> bytes | None:
    """The answer as one line of JSON (an SSE `data:` line), or None if it is not JSON."""
    if not value:
        return None
    if b"\n" not in value and b"\r" not in value:
        return value
    try:
        return json.dumps(json.loads(value), separators=(",", ":")).encode()
    except ValueError:
        return None
