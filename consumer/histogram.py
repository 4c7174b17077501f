"""A Prometheus histogram that takes a whole batch of observations in one numpy call.

`prometheus_client.Histogram.observe` costs a lock and a bucket search per value; at tens of
thousands of events a second that is a visible share of the loop. This exposes the same
`_bucket`/`_count`/`_sum` series.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import numpy as np
from prometheus_client import CollectorRegistry
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString


class BatchHistogram:
    def __init__(
        self, name: str, documentation: str, buckets: Sequence[float], registry: CollectorRegistry
    ) -> None:
        self.name = name
        self.documentation = documentation
        self._bounds = np.asarray(sorted(buckets), dtype=np.float64)
        self._counts = np.zeros(len(self._bounds) + 1, dtype=np.int64)  # the last is +Inf
        self._sum = 0.0
        self._lock = threading.Lock()  # the HTTP thread reads while the loop writes
        registry.register(self)

    def observe(self, value: float, count: int = 1) -> None:
        """`count` observations of the same value."""
        with self._lock:
            self._counts[np.searchsorted(self._bounds, value, side="left")] += count
            self._sum += value * count

    def observe_many(self, values: np.ndarray) -> None:
        if len(values) == 0:
            return
        slots = np.searchsorted(self._bounds, values, side="left")
        counts = np.bincount(slots, minlength=len(self._counts))
        with self._lock:
            self._counts += counts
            self._sum += float(values.sum())

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            cumulative = np.cumsum(self._counts).tolist()
            total = self._sum
        labels = [floatToGoString(b) for b in self._bounds]  # type: ignore[no-untyped-call]
        buckets = [*zip(labels, cumulative[:-1], strict=True), ("+Inf", cumulative[-1])]
        yield HistogramMetricFamily(self.name, self.documentation, buckets=buckets, sum_value=total)
