"""The run loop: consume a batch, recommend, deliver, commit; repeat until asked to stop."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from consumer import collector
from consumer.batch import BatchProcessor, BatchResult
from consumer.catalog_topic import LiveCatalog
from consumer.delivery import first_offsets
from consumer.http import Health
from consumer.lag import PartitionLag
from consumer.metrics import Metrics
from consumer.ports import Delivery, Input, PipelinedDelivery
from consumer.serving import ModelSet
from consumer.settings import Settings
from consumer.state.keeper import ListenerKeeper
from consumer.state.processor import StatefulResult
from consumer.state.variants import Variants
from kafkaio.produce import Outgoing
from kafkaio.stop import Stop
from recommender.errors import DeliveryFailed

log = logging.getLogger(__name__)

Reload = Callable[[ModelSet], ModelSet | None]


def backoff_s(failures: int) -> float:
    """Wait before retrying a batch that failed `failures` times in a row: 0.4 s doubling to 10."""
    return min(10.0, 0.2 * 2.0 ** min(failures, 6))


@dataclass
class _Sent:
    """A batch sent but not yet confirmed (at-least-once: while the next one is processed)."""

    messages: list[Message]
    result: BatchResult
    took: float  # its processing time, s


class Service:
    """Owns nothing it did not make: clients are created and closed by `consumer.app`.

    Models change only between batches (`reload` is asked before each), so a batch is
    answered by one model set; `stop` is checked before each batch, so the batch in hand is
    delivered and committed before `run` returns.
    """

    def __init__(
        self,
        settings: Settings,
        consumer: Input,
        delivery: Delivery,
        metrics: Metrics,
        health: Health,
        stop: Stop,
        reload: Reload | None = None,
        lag: PartitionLag | None = None,
        clock: Callable[[], float] = time.monotonic,
        catalog: LiveCatalog | None = None,
        listeners: ListenerKeeper | None = None,
        variants: Variants | None = None,
    ) -> None:
        self.settings = settings
        self.consumer = consumer
        self.delivery = delivery
        self.metrics = metrics
        self.health = health
        self.stop = stop
        self.reload = reload
        self.catalog = catalog  # the catalog topic, applied between batches
        self.clock = clock  # for the retry backoff (tests pass a fake one)
        # The consumer's `stats_cb` feeds it; the loop tells it the assignment.
        self.lag = lag or PartitionLag(metrics.consumer_lag)
        self.processor: BatchProcessor | None = None
        # Listener state (None: --no-state): its feedback topic is consumed too.
        self.listeners = listeners
        self.variants = variants or (listeners.variants if listeners is not None else None)
        self._failures = 0
        self._sent: _Sent | None = None

    def subscribe(self) -> None:
        """Join the group; the join proceeds in the background until the loop polls."""
        topics = [self.settings.input_topic]
        if self.listeners is not None:
            topics.append(self.settings.feedback_topic)
        self.consumer.subscribe(
            topics,
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )

    def run(self, models: ModelSet) -> None:
        s = self.settings
        self.processor = BatchProcessor(models, s.k, s.max_event_bytes, self.variants)
        if self.listeners is not None:
            self.listeners.bind(self.processor)
        self._publish_models(models)
        try:
            while not self.stop.is_set():
                self._maybe_reload()
                self._maybe_update_catalog()
                messages = self._next_batch()
                self.health.progressed()
                if messages:
                    with collector.paused():  # a pass inside would walk all the batch holds
                        self._handle(messages)
                else:
                    self.delivery.poll(0)
        finally:
            self.health.stopping = True
            self._confirm_sent()
            self.delivery.commit_now()
            if self.listeners is not None:
                self.listeners.close()

    def _next_batch(self) -> list[Message]:
        """Whatever is already fetched, up to a batch; when idle, wake on the first arrival.

        Waiting for a full batch would add its fill time to every event's latency; under load
        the queue refills while a batch is processed, so batches grow by themselves.
        """
        size = self.settings.batch_size
        messages: list[Message] = self.consumer.consume(size, 0)
        if not messages:
            self._confirm_sent()  # idle: commit what is in flight before waiting
            messages = self.consumer.consume(1, self.settings.batch_timeout_s)
            if messages and size > 1:
                messages += self.consumer.consume(size - 1, 0)
        return messages

    def _handle(self, messages: list[Message]) -> None:
        good = [m for m in messages if not m.error() or self._consume_error(m)]
        if not good:
            return
        started = time.monotonic()
        self.metrics.consumed.inc(len(good))
        self.metrics.batch_size.observe(len(good))
        assert self.processor is not None
        keeper = self.listeners
        result = self.processor.process(good) if keeper is None else keeper.process(good)
        took = time.monotonic() - started
        outputs = self._outputs(result)
        changelog = (
            keeper.changelog(result) if isinstance(result, StatefulResult) and keeper else []
        )
        if self.delivery.pipelined:
            self._send(good, result, took, outputs, changelog)
            return
        try:
            self.delivery.deliver(good, outputs, changelog)
        except DeliveryFailed as exc:
            self._failed(good, exc)
            return
        self._delivered(good, result, took)

    def _send(
        self,
        messages: list[Message],
        result: BatchResult,
        took: float,
        outputs: list[Outgoing],
        changelog: list[tuple[str, int, bytes, bytes | None]],
    ) -> None:
        """At-least-once, pipelined: the batch before this one is confirmed only now (its
        acknowledgements came in while this one was processed), then this one is sent. If
        the one before failed, this one is rewound with it (it was computed from its
        listener states) and nothing of it is sent."""
        if not self._confirm_sent(also=messages):
            return
        delivery = cast(PipelinedDelivery, self.delivery)
        try:
            delivery.send(outputs, changelog)
        except DeliveryFailed as exc:
            self._failed(messages, exc)
            return
        self._sent = _Sent(messages, result, took)

    def _confirm_sent(self, also: Sequence[Message] = ()) -> bool:
        """Confirm the batch in flight, if any. False: it failed, and it and `also` (the
        batch processed after it) are rewound."""
        sent, self._sent = self._sent, None
        if sent is None:
            return True
        try:
            cast(PipelinedDelivery, self.delivery).confirm(sent.messages)
        except DeliveryFailed as exc:
            self._failed([*sent.messages, *also], exc)
            return False
        self._delivered(sent.messages, sent.result, sent.took)
        return True

    def _failed(self, messages: Sequence[Message], exc: DeliveryFailed) -> None:
        """Nothing of `messages` is committed: the listener states they moved are dropped,
        and they are read again after a backoff."""
        if self.listeners is not None:
            self.listeners.delivery_failed()
        self._rewind(messages, exc)

    def _delivered(self, messages: Sequence[Message], result: BatchResult, took: float) -> None:
        if isinstance(result, StatefulResult) and self.listeners is not None:
            self.listeners.delivered(result)  # the store follows the changelog, never leads it
        self._failures = 0
        self._account(messages, result, took)

    def _consume_error(self, message: Message) -> bool:
        """Count a consumer error; raise if fatal. Returns False: the message is not data."""
        error = message.error()
        assert error is not None
        self.metrics.consume_errors.labels(error.name()).inc()
        if error.fatal():
            raise KafkaException(error)
        if error.code() != KafkaError._PARTITION_EOF:
            log.warning("consumer error: %s", error)
        return False

    def _outputs(self, result: BatchResult) -> list[Outgoing]:
        s = self.settings
        outputs: list[Outgoing] = [(s.output_topic, k, v, None) for k, v in result.recommendations]
        outputs.extend((s.dlq_topic, k, v, h) for k, v, h in result.dead_letters)
        return outputs

    def _account(self, messages: Sequence[Message], result: BatchResult, took: float) -> None:
        m = self.metrics
        for (model, variant), count in result.by_variant.items():
            m.published.labels(model, variant).inc(count)
        for reason in result.reasons:
            m.dead_letters.labels(reason.value).inc()
        m.cache_lookups.inc(result.cache_lookups)
        m.cache_hits.inc(result.cache_hits)
        now = time.time()
        answered = sum(result.by_variant.values())
        for (_, variant), count in result.by_variant.items():
            m.processing.observe(took, count=count, label=variant)
        if len(messages) > answered:  # dead letters and feedback: no variant
            m.processing.observe(took, count=len(messages) - answered)
        stamps = np.fromiter((msg.timestamp()[1] for msg in messages), np.float64, len(messages))
        stamps = stamps[stamps > 0]  # -1: the message carries no timestamp
        m.end_to_end.observe_many(np.maximum(0.0, now - stamps / 1000.0))
        m.commits.inc()
        m.last_progress.set(now)
        if result.recommendations:
            m.last_answer.set(now)

    def _rewind(self, messages: Sequence[Message], exc: DeliveryFailed) -> None:
        """Nothing of the batch is committed; seek back so it is processed again."""
        self.metrics.delivery_failures.inc()
        self._failures += 1
        backoff = backoff_s(self._failures)
        log.error(
            "delivery failed, batch of %d will be retried in %.1fs: %s", len(messages), backoff, exc
        )
        for tp in first_offsets(messages):
            try:
                self.consumer.seek(tp)
            except KafkaException as seek_error:  # revoked meanwhile: its new owner resumes
                log.warning("cannot rewind %s[%d]: %s", tp.topic, tp.partition, seek_error)
        # Serve delivery reports while waiting; a stop ends the wait (nothing to commit).
        deadline = self.clock() + backoff
        while not self.stop.is_set() and (left := deadline - self.clock()) > 0:
            self.delivery.poll(min(0.1, left))
            self.health.progressed()

    def _maybe_reload(self) -> None:
        if self.reload is None or self.processor is None:
            return
        fresh = self.reload(self.processor.models)
        if fresh is not None:
            if self.catalog is not None:  # the files' catalog, plus the topic's records
                fresh = self.catalog.rebase(fresh)
            self.processor.models = fresh
            self.metrics.reloads.inc()
            self._publish_models(fresh)
            log.info("models reloaded: %s", fresh.versions())

    def _maybe_update_catalog(self) -> None:
        """Apply the catalog records that arrived since the last batch: the next batch is
        answered on the new catalog."""
        if self.catalog is None or self.processor is None:
            return
        fresh = self.catalog.refresh(self.processor.models)
        if fresh is not None:
            self.processor.models = fresh

    def _publish_models(self, models: ModelSet) -> None:
        self.metrics.model_info.clear()
        for name, version in models.versions().items():
            default = str(name == models.default).lower()
            self.metrics.model_info.labels(name, version, default).set(1)

    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        if self.listeners is not None:  # before the partitions' first event; /readyz waits
            self.listeners.assigned(partitions)
        # Input partitions only: the feedback topic's are its twins (co-partitioned).
        self.health.assigned += self._inputs(partitions)
        self.lag.assigned(partitions)
        self._publish_assignment()
        log.info("assigned %s", [p.partition for p in partitions])

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        # The batch in flight is confirmed (or rewound) first; then what was stored is all
        # there is.
        try:
            self._confirm_sent()
        except KafkaException as exc:
            log.warning("confirming the batch in flight at revoke failed: %s", exc)
        try:
            self.delivery.commit_now()
        except KafkaException as exc:
            log.warning("commit at revoke failed: %s", exc)
        if self.listeners is not None:
            self.listeners.revoked(partitions)
        self.health.assigned = max(0, self.health.assigned - self._inputs(partitions))
        self.lag.revoked(partitions)
        self._publish_assignment()
        log.info("revoked %s", [p.partition for p in partitions])

    def _inputs(self, partitions: list[TopicPartition]) -> int:
        return sum(tp.topic == self.settings.input_topic for tp in partitions)

    def _publish_assignment(self) -> None:
        self.metrics.assigned_partitions.set(self.health.assigned)
        self.metrics.ready.set(int(self.health.ready))
