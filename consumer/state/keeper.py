"""The listener state's part in the run loop: restore on assignment, process a batch, write
the store once the batch is delivered, checkpoint, forget idle listeners, close on revoke.

Order of a batch (`consumer.service` calls these in turn):
    process(messages)      states read (one multi-get per partition) and updated in memory
    changelog(result)      the changelog records, delivered with the batch's outputs: in its
                           transaction under exactly-once, acknowledged before its input
                           offsets are committed under at-least-once
    delivered(result)      only then the store is written (one write batch per partition)
A batch that fails to deliver leaves the store as it was; its retry recomputes the same states.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from confluent_kafka import Message, TopicPartition

from consumer.batch import BatchProcessor
from consumer.http import Health
from consumer.metrics import Metrics
from consumer.state.changelog import Restorer
from consumer.state.listeners import StatePolicy
from consumer.state.processor import StatefulProcessor, StatefulResult
from consumer.state.store import Stores
from consumer.state.variants import Variants

log = logging.getLogger(__name__)

ChangelogRecord = tuple[str, int, bytes, bytes | None]  # topic, partition, key, value

CHECKPOINT_INTERVAL_S = 5.0


class ListenerKeeper:
    def __init__(
        self,
        stores: Stores,
        restorer: Restorer,
        policy: StatePolicy,
        feedback_topic: str,
        changelog_topic: str,
        variants: Variants,
        metrics: Metrics,
        health: Health,
        clock: Callable[[], float] = time.monotonic,
        cached: int = 50_000,
    ) -> None:
        self.stores = stores
        self.restorer = restorer
        self.policy = policy
        self.feedback_topic = feedback_topic
        self.changelog_topic = changelog_topic
        self.variants = variants
        self.metrics = metrics
        self.health = health
        self.clock = clock
        self.cached = cached  # --state-cache
        self.processor: StatefulProcessor | None = None
        self._owned: set[tuple[str, int]] = set()
        self._dirty: set[int] = set()  # partitions written since their last checkpoint
        # A failed batch may have left changelog records the store lacks (at-least-once:
        # acknowledged before the failure); no checkpoint may pass them until its retry is in.
        self._behind = False
        self._last_checkpoint = clock()
        # Idle listeners are looked for this often: a tenth of the TTL, between 1 s and 10 min.
        self.sweep_interval_s = min(600.0, max(1.0, policy.ttl_s / 10))
        self._last_sweep = clock()

    def bind(self, base: BatchProcessor) -> None:
        self.processor = StatefulProcessor(
            base, self.stores, self.policy, self.feedback_topic, self.variants, cached=self.cached
        )

    # The batch.

    def process(self, messages: Sequence[Message]) -> StatefulResult:
        assert self.processor is not None
        sweep = self.clock() - self._last_sweep >= self.sweep_interval_s
        try:
            result = self.processor.process(messages, sweep=sweep)
        except Exception as exc:  # a bug in the state code: answer without state, go on
            log.exception("listener state failed on a batch of %d events", len(messages))
            self.metrics.state_errors.labels("batch").inc()
            return self.processor.stateless(messages, exc)
        if result.unreadable:
            self.metrics.state_errors.labels("unreadable").inc(result.unreadable)
        if sweep:
            self._last_sweep = self.clock()
        return result

    def changelog(self, result: StatefulResult) -> list[ChangelogRecord]:
        topic = self.changelog_topic
        return [(topic, partition, key, value) for partition, key, value in result.changelog]

    def delivery_failed(self) -> None:
        self._behind = True
        if self.processor is not None:
            self.processor.forget()

    def delivered(self, result: StatefulResult) -> None:
        self._behind = False
        for partition, changes in result.writes.items():
            store = self.stores.get(partition)
            if store is None:  # revoked since (lost): its new owner restores from the changelog
                continue
            store.write(changes, result.existed[partition])
            self._dirty.add(partition)
        if self.processor is not None:
            self.processor.settled(result)
        m = self.metrics
        for (variant, action), count in result.feedback.items():
            m.feedback.labels(variant, action).inc(count)
        m.state_expired.inc(result.expired)
        if self.clock() - self._last_checkpoint >= CHECKPOINT_INTERVAL_S:
            self.checkpoint()

    def checkpoint(self) -> None:
        if self._behind:
            return
        dirty, self._dirty = sorted(self._dirty), set()
        self.restorer.checkpoint([p for p in dirty if self.stores.get(p) is not None])
        self._last_checkpoint = self.clock()
        self.publish_size()

    def publish_size(self) -> None:
        self.metrics.state_listeners.set(self.stores.listeners())
        self.metrics.state_bytes.set(self.stores.size_bytes())

    # Rebalances: called from inside consume(), between batches.

    def assigned(self, partitions: list[TopicPartition]) -> None:
        if self.processor is not None:
            self.processor.forget()
        before = {p for _, p in self._owned}
        self._owned.update((tp.topic, tp.partition) for tp in partitions)
        new = sorted({p for _, p in self._owned} - before)
        if not new:
            return
        self.health.restoring = True
        try:
            restored = self.restorer.restore(new)
        finally:
            self.health.restoring = False
        self.metrics.state_restore_seconds.set(restored.seconds)
        self.metrics.state_restored.inc(restored.records)
        if restored.emptied:
            self.metrics.state_errors.labels("other_changelog").inc(restored.emptied)
        self.publish_size()
        log.info(
            "restored partitions %s: %d changelog records in %.2fs, %d listeners",
            restored.partitions,
            restored.records,
            restored.seconds,
            self.stores.listeners(),
        )

    def revoked(self, partitions: list[TopicPartition], lost: bool = False) -> None:
        if self.processor is not None:
            self.processor.forget()
        self._owned.difference_update((tp.topic, tp.partition) for tp in partitions)
        still = {p for _, p in self._owned}
        gone = sorted({tp.partition for tp in partitions} - still)
        if not lost and not self._behind:
            try:
                self.restorer.checkpoint(gone)
            except Exception as exc:  # the store stays consistent; the next restore reads more
                log.warning("checkpoint at revoke failed: %s", exc)
        for partition in gone:
            self.stores.close(partition)
            self._dirty.discard(partition)
        self.publish_size()

    def close(self) -> None:
        try:
            if not self._behind:
                self.restorer.checkpoint(self.stores.partitions)
        except Exception as exc:
            log.warning("checkpoint at shutdown failed: %s", exc)
        self.stores.close_all()
