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
    """`label`: one label name (`variant`, say); each value of it is a series of its own."""

    def __init__(
        self,
        name: str,
        documentation: str,
        buckets: Sequence[float],
        registry: CollectorRegistry,
        label: str | None = None,
        default: str = "",
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.label = label
        self.default = default
        self._bounds = np.asarray(sorted(buckets), dtype=np.float64)
        self._counts: dict[str, np.ndarray] = {}  # per label value; the last slot is +Inf
        self._sums: dict[str, float] = {}
        self._lock = threading.Lock()  # the HTTP thread reads while the loop writes
        self._series(default)
        registry.register(self)

    def _series(self, value: str) -> np.ndarray:
        counts = self._counts.get(value)
        if counts is None:
            counts = self._counts[value] = np.zeros(len(self._bounds) + 1, dtype=np.int64)
            self._sums[value] = 0.0
        return counts

    def observe(self, value: float, count: int = 1, label: str | None = None) -> None:
        """`count` observations of the same value."""
        key = self.default if label is None else label
        with self._lock:
            self._series(key)[np.searchsorted(self._bounds, value, side="left")] += count
            self._sums[key] += value * count

    def observe_many(self, values: np.ndarray, label: str | None = None) -> None:
        if len(values) == 0:
            return
        key = self.default if label is None else label
        slots = np.searchsorted(self._bounds, values, side="left")
        counts = np.bincount(slots, minlength=len(self._bounds) + 1)
        with self._lock:
            self._series(key)[:] += counts
            self._sums[key] += float(values.sum())

    def collect(self) -> Iterator[Metric]:
        labels = [floatToGoString(b) for b in self._bounds]  # type: ignore[no-untyped-call]
        family = HistogramMetricFamily(
            self.name, self.documentation, labels=[self.label] if self.label else None
        )
        with self._lock:
            series = [(k, np.cumsum(c).tolist(), self._sums[k]) for k, c in self._counts.items()]
        for key, cumulative, total in series:
            buckets = [*zip(labels, cumulative[:-1], strict=True), ("+Inf", cumulative[-1])]
            family.add_metric([key] if self.label else [], buckets, total)
        yield family
