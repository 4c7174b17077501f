"""Encore against the naive consumer, on the real broker, in one run: `python -m benchmarks`.

For each catalog: train Encore's artifact (knn, HNSW above 10k songs), pre-load the same
selections for both consumers, and measure events/s (first answer to last, from the answers'
broker timestamps), start-to-ready, and peak RSS; then offer a fixed rate to Encore and
measure end-to-end latency (input timestamp to answer timestamp). Writes BENCHMARKS.md.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from embedded.broker import LocalBroker
from producer.events import encode, selection
from recommender.snapshot import load_catalog_cached
from tests.harness import (
    PacedProducer,
    ServiceProcess,
    create_topics,
    http_get,
    metric_values,
    produce,
    read_topic,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Case:
    label: str
    csv: Path


@dataclass
class Run:
    events: int
    events_per_s: float
    ready_s: float | None = None
    peak_rss_mb: float | None = None
    cache_hit_rate: float | None = None


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def selections(track_ids: np.ndarray, n: int, tag: str, seed: int = 0) -> list[tuple[bytes, bytes]]:
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(track_ids), n)
    users = rng.integers(0, 10_000, n)
    return [
        encode(selection(f"user-{u}", track_id=str(track_ids[r]), event_id=f"{tag}-{i}"))
        for i, (r, u) in enumerate(zip(rows, users, strict=True))
    ]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def histogram_quantile(metrics: str, name: str, q: float) -> float:
    """The upper bound of the bucket holding quantile `q` of a Prometheus histogram."""
    buckets = []
    for line in metrics.splitlines():
        if line.startswith(f"{name}_bucket{{"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float(bound), float(line.rsplit(" ", 1)[1])))
    total = buckets[-1][1]
    return next(bound for bound, count in buckets if count >= q * total)


def answer_rate(messages: list) -> float:  # type: ignore[type-arg]
    stamps = sorted(m.timestamp()[1] for m in messages)
    span_s = max(stamps[-1] - stamps[0], 1) / 1000
    return (len(stamps) - 1) / span_s


def on_fresh_broker(run: Callable[..., T]) -> Callable[..., T]:
    """Every measurement gets a broker of its own: Tansu's in-memory store slows down as it
    fills, and no run should pay for the data of the runs before it."""

    @functools.wraps(run)
    def wrapper(self: Bench, *args: Any, **kwargs: Any) -> T:
        with LocalBroker(log_path=self.work / "tansu.log") as broker:
            self.servers = broker.bootstrap_servers
            assert broker.process is not None
            self.broker_pid = broker.process.pid
            return run(self, *args, **kwargs)

    return wrapper


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.servers = ""
        self.broker_pid = 0

    def topics(self) -> tuple[str, str, str]:
        tag = uuid.uuid4().hex[:8]
        names = (f"bench-in-{tag}", f"bench-out-{tag}", f"bench-dlq-{tag}")
        create_topics(self.servers, names, partitions=6)
        return names

    def train(self, case: Case) -> Path:
        root = self.work / "artifacts" / case.label
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "recommender", "train", "--model", "knn",
             "--catalog", str(case.csv), "--out", str(root)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        print(f"  trained knn for {case.label} in {time.monotonic() - started:.0f} s", flush=True)
        return root

    @on_fresh_broker
    def encore(
        self,
        case: Case,
        root: Path,
        events: list[tuple[bytes, bytes]],
        guarantee: str = "at-least-once",
        answer_cache: bool = True,
    ) -> Run:
        topics = self.topics()
        produce(self.servers, topics[0], events)
        service = ServiceProcess(
            self.servers, topics, f"bench-{uuid.uuid4().hex[:6]}",
            ["--catalog", str(case.csv), "--artifacts", str(root),
             "--processing-guarantee", guarantee,
             *([] if answer_cache else ["--answer-cache", "0"])],
            log_dir=self.work,
        )  # fmt: skip
        started = time.monotonic()
        service.start(wait_ready_s=120)
        ready_s = time.monotonic() - started
        answers = read_topic(self.servers, topics[1], len(events), timeout_s=600)
        rss = peak_rss_mb(service.process.pid)  # type: ignore[union-attr]
        metrics = service.metrics()
        service.stop()
        hits = metric_values(metrics, "encore_answer_cache_hits_total").get("", 0.0)
        lookups = metric_values(metrics, "encore_answer_cache_lookups_total").get("", 0.0)
        return Run(len(answers), answer_rate(answers), ready_s, rss, hits / max(lookups, 1))

    @on_fresh_broker
    def naive(self, case: Case, events: list[tuple[bytes, bytes]]) -> Run:
        topics = self.topics()
        produce(self.servers, topics[0], events)
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.naive", "--bootstrap-servers", self.servers,
             "--catalog", str(case.csv), "--input-topic", topics[0], "--output-topic", topics[1],
             "--group-id", f"naive-{uuid.uuid4().hex[:6]}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            answers = read_topic(self.servers, topics[1], len(events), timeout_s=900)
            rss = peak_rss_mb(process.pid)
        finally:
            process.terminate()
            process.wait(30)
        return Run(len(answers), answer_rate(answers), None, rss)

    @on_fresh_broker
    def latency(self, case: Case, root: Path, rate: float, seconds: float) -> dict[str, float]:
        topics = self.topics()
        service = ServiceProcess(
            self.servers, topics, f"lat-{uuid.uuid4().hex[:6]}",
            ["--catalog", str(case.csv), "--artifacts", str(root)], log_dir=self.work,
        )  # fmt: skip
        service.start(wait_ready_s=120)
        catalog = load_catalog_cached(case.csv, root / "catalogs")
        events = selections(catalog.track_ids, int(rate * seconds), "lat", seed=1)
        # The upstream producer batches for up to 5 ms (the Java client's default linger).
        load = PacedProducer(self.servers, topics[0], events, rate, linger_ms=5)
        broker_cpu = cpu_seconds(self.broker_pid)
        started = time.monotonic()
        load.start()
        load.finish()
        answers = read_topic(self.servers, topics[1], len(events), timeout_s=120)
        broker_share = (cpu_seconds(self.broker_pid) - broker_cpu) / (time.monotonic() - started)
        inputs = read_topic(self.servers, topics[0], len(events), timeout_s=60)
        metrics = http_get(service.url + "/metrics")[1]
        service.stop()
        sent_at = {json.loads(m.value())["event_id"]: m.timestamp()[1] for m in inputs}
        pairs = sorted(
            (sent_at[json.loads(m.value())["event_id"]], m.timestamp()[1]) for m in answers
        )
        delays = np.array([answered - sent for sent, answered in pairs])
        thirds = np.array_split(delays, 3)
        return {
            "offered": rate,
            "answered": len(answers),
            "p50": float(np.percentile(delays, 50)),
            "p95": float(np.percentile(delays, 95)),
            "p99": float(np.percentile(delays, 99)),
            "p99_thirds": [float(np.percentile(t, 99)) for t in thirds],
            "processing_p99_ms": histogram_quantile(
                metrics, "encore_processing_latency_seconds", 0.99
            )
            * 1000,
            "broker_cpu": broker_share,
        }
