"""The batch histogram exposes exactly what prometheus_client's Histogram would."""

import numpy as np
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from consumer.histogram import BatchHistogram

BUCKETS = (0.001, 0.005, 0.01, 0.1, 1, 2.5, 10)


def test_same_exposition_as_prometheus_client():
    values = np.random.default_rng(0).exponential(0.05, 1000)
    values[:5] = [0.001, 0.005, 10, 11, 0.0]  # on the bounds, and past the last
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    batch = BatchHistogram("lat_seconds", "doc", BUCKETS, ours)
    reference = Histogram("lat_seconds", "doc", buckets=BUCKETS, registry=theirs)
    batch.observe_many(values[:600])
    batch.observe(values[600], count=1)
    batch.observe_many(values[601:])
    for v in values:
        reference.observe(v)

    def samples(registry):
        lines = generate_latest(registry).decode().splitlines()
        return [
            line.rsplit(" ", 1)
            for line in lines
            if line.startswith("lat_seconds") and "_created" not in line
        ]

    ours_samples, their_samples = samples(ours), samples(theirs)
    assert [name for name, _ in ours_samples] == [name for name, _ in their_samples]
    for (_, a), (_, b) in zip(ours_samples, their_samples, strict=True):
        assert abs(float(a) - float(b)) < 1e-9


def test_repeated_value_counts():
    registry = CollectorRegistry()
    h = BatchHistogram("x_seconds", "doc", BUCKETS, registry)
    h.observe(0.02, count=7)
    text = generate_latest(registry).decode()
    assert 'x_seconds_bucket{le="0.01"} 0.0' in text
    assert 'x_seconds_bucket{le="0.1"} 7.0' in text
    assert "x_seconds_count 7.0" in text
