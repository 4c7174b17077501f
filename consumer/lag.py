"""`encore_consumer_lag{topic,partition}` from librdkafka's statistics, per assigned partition.

librdkafka calls `stats_cb` every `statistics.interval.ms` (from inside `consume`, on the
loop's thread) with a JSON document; per partition, `consumer_lag` is the high watermark (the
last stable offset under read_committed) minus the committed offset, or -1 when either is
not known yet (nothing committed, no fetch yet), which is skipped rather than shown as 0.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from confluent_kafka import TopicPartition
from prometheus_client import Gauge

log = logging.getLogger(__name__)


class PartitionLag:
    def __init__(self, gauge: Gauge) -> None:
        self.gauge = gauge
        self._assigned: set[tuple[str, int]] = set()

    def assigned(self, partitions: Iterable[TopicPartition]) -> None:
        self._assigned.update((tp.topic, tp.partition) for tp in partitions)

    def revoked(self, partitions: Iterable[TopicPartition]) -> None:
        """Forget revoked partitions: their series go, their new owner reports them."""
        for tp in partitions:
            self._assigned.discard((tp.topic, tp.partition))
            self.gauge.remove(tp.topic, str(tp.partition))

    def on_stats(self, stats_json: str) -> None:
        """The `stats_cb`: set the gauge of every assigned partition librdkafka knows a lag of."""
        try:
            topics = json.loads(stats_json).get("topics", {})
        except (ValueError, AttributeError):
            log.warning("unreadable librdkafka statistics ignored")
            return
        for topic, partition in self._assigned:
            entry = topics.get(topic, {}).get("partitions", {}).get(str(partition), {})
            lag = entry.get("consumer_lag", -1)
            if isinstance(lag, int) and lag >= 0:
                self.gauge.labels(topic, str(partition)).set(lag)
