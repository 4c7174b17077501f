"""Encore and the naive consumer on the real broker, one fresh broker per measurement.

`Bench.encore` pre-loads selections, starts one service (cold by default: from the catalog
CSV with an empty artifacts directory, so it parses the CSV and builds knn in place, as a new
user's first start does) and measures events/s from the answers' broker timestamps, the
service's CPU per event after ready, start-to-ready and peak RSS; `Bench.naive` does the same
for `benchmarks/naive.py`; `Bench.latency` offers a fixed rate and measures end to end.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from benchmarks.catalogs import Case
from benchmarks.floor import READY as ECHO_READY
from benchmarks.load import seed_rows, selections
from embedded.broker import LocalBroker
from recommender.catalog import Catalog
from tests.harness import (
    PacedProducer,
    Servers,
    ServiceProcess,
    create_topics,
    http_get,
    metric_values,
    produce,
    read_topic,
    wait_until,
)

T = TypeVar("T")


@dataclass
class Run:
    events: int
    events_per_s: float
    ready_s: float | None = None
    peak_rss_mb: float | None = None
    cache_hit_rate: float | None = None
    cpu_us_per_event: float | None = None
    load_average: float | None = None  # of the machine over the minute before the run
    from_ready_per_s: float | None = None  # events over ready -> last answer (no batch left out)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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
    """First answer to last: leaves out the time of the first batch (as BENCHMARKS.md always
    has, so figures stay comparable); `rate_since` counts it."""
    stamps = sorted(m.timestamp()[1] for m in messages)
    span_s = max(stamps[-1] - stamps[0], 1) / 1000
    return (len(stamps) - 1) / span_s


def paced_delays(
    servers: Servers, topics: tuple[str, ...], events: list[tuple[bytes, bytes]], rate: float
) -> np.ndarray:
    """Offer `events` (JSON with an event_id) on topics[0] at `rate`; every answer's delay in
    ms on topics[1], from the input's timestamp to the answer's, in the order offered. The
    upstream producer batches for up to 5 ms (the Java client's default linger)."""
    load = PacedProducer(servers, topics[0], events, rate, linger_ms=5)
    load.start()
    load.finish()
    answers = read_topic(servers, topics[1], len(events), timeout_s=120)
    inputs = read_topic(servers, topics[0], len(events), timeout_s=60)
    sent_at = {json.loads(m.value())["event_id"]: m.timestamp()[1] for m in inputs}
    pairs = sorted((sent_at[json.loads(m.value())["event_id"]], m.timestamp()[1]) for m in answers)
    return np.array([answered - sent for sent, answered in pairs], dtype=np.float64)


def percentiles(delays: np.ndarray) -> dict[str, Any]:
    """p50, p95, p99, and the p99 of each third of the run in order (on Tansu, whose
    in-memory log slows down as it fills, the last third is the slowest)."""
    figures: dict[str, Any] = {f"p{q}": float(np.percentile(delays, q)) for q in (50, 95, 99)}
    figures["p99_thirds"] = [float(np.percentile(t, 99)) for t in np.array_split(delays, 3)]
    return figures


def rate_since(messages: list, since_epoch_s: float) -> float:  # type: ignore[type-arg]
    last_s = max(m.timestamp()[1] for m in messages) / 1000
    return len(messages) / max(last_s - since_epoch_s, 1e-3)


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
    def __init__(self, work: Path, partitions: int = 4) -> None:
        self.work = work
        self.partitions = partitions
        self.servers = ""
        self.broker_pid = 0

    def topics(self) -> tuple[str, str, str]:
        tag = uuid.uuid4().hex[:8]
        names = (f"bench-in-{tag}", f"bench-out-{tag}", f"bench-dlq-{tag}")
        create_topics(self.servers, names, partitions=self.partitions)
        return names

    def drain(self, service: ServiceProcess, output: str, expected: int) -> tuple[list[Any], Run]:
        """Start `service` on its pre-loaded input and read its `expected` answers from
        `output`: the answers, and the run (answer rate, CPU per event after ready, load)."""
        load = os.getloadavg()[0]
        try:
            service.start(wait_ready_s=None)
            wait_until(service.ready, 600, f"ready\n{service.log_tail()}", step_s=0.01)
            pid = service.process.pid  # type: ignore[union-attr]
            cpu = cpu_seconds(pid)
            answers = read_topic(self.servers, output, expected, timeout_s=900)
            cpu = cpu_seconds(pid) - cpu
        finally:
            service.stop()
        run = Run(
            len(answers),
            answer_rate(answers),
            cpu_us_per_event=cpu / max(len(answers), 1) * 1e6,
            load_average=load,
        )
        return answers, run

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

    def artifacts(self, root: Path | None) -> tuple[Path, Callable[[], None]]:
        """`root`, or (None: a cold start) a new empty directory and what removes it."""
        if root is not None:
            return root, lambda: None
        fresh = self.work / "cold" / uuid.uuid4().hex[:8]
        fresh.mkdir(parents=True)
        return fresh, lambda: shutil.rmtree(fresh, ignore_errors=True)

    @on_fresh_broker
    def encore(
        self,
        case: Case,
        root: Path | None,
        events: list[tuple[bytes, bytes]],
        guarantee: str = "at-least-once",
        answer_cache: bool = True,
    ) -> Run:
        """`root` None: no artifact and no catalog snapshot, so knn is built at start."""
        topics = self.topics()
        produce(self.servers, topics[0], events)
        artifacts, remove = self.artifacts(root)
        service = ServiceProcess(
            self.servers, topics, f"bench-{uuid.uuid4().hex[:6]}",
            ["--catalog", str(case.csv), "--artifacts", str(artifacts),
             "--processing-guarantee", guarantee,
             *([] if answer_cache else ["--answer-cache", "0"])],
            log_dir=self.work,
        )  # fmt: skip
        load_average = os.getloadavg()[0]
        started = time.monotonic()
        try:
            service.start(wait_ready_s=None)
            # A fine poll: the input is waiting, so serving starts the moment it is ready.
            wait_until(service.ready, 600, f"service ready\n{service.log_tail()}", step_s=0.01)
            ready_s, ready_epoch = time.monotonic() - started, time.time()
            pid = service.process.pid  # type: ignore[union-attr]
            cpu_at_ready = cpu_seconds(pid)
            answers = read_topic(self.servers, topics[1], len(events), timeout_s=600)
            cpu = cpu_seconds(pid) - cpu_at_ready
            rss = peak_rss_mb(pid)
            metrics = service.metrics()
        finally:
            service.stop()
            remove()
        hits = metric_values(metrics, "encore_answer_cache_hits_total").get("", 0.0)
        lookups = metric_values(metrics, "encore_answer_cache_lookups_total").get("", 0.0)
        return Run(
            len(answers),
            answer_rate(answers),
            ready_s,
            rss,
            hits / max(lookups, 1),
            cpu / max(len(answers), 1) * 1e6,
            load_average,
            rate_since(answers, ready_epoch),
        )

    @on_fresh_broker
    def naive(
        self, case: Case, events: list[tuple[bytes, bytes]], blas_threads: int | None = None
    ) -> Run:
        """`blas_threads`: cap the BLAS/OpenMP pools scikit-learn's distances run on."""
        topics = self.topics()
        produce(self.servers, topics[0], events)
        load_average = os.getloadavg()[0]
        env = dict(os.environ)
        if blas_threads is not None:
            for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                env[name] = str(blas_threads)
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.naive", "--bootstrap-servers", self.servers,
             "--catalog", str(case.csv), "--input-topic", topics[0], "--output-topic", topics[1],
             "--group-id", f"naive-{uuid.uuid4().hex[:6]}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        try:
            answers = read_topic(self.servers, topics[1], len(events), timeout_s=900)
            rss = peak_rss_mb(process.pid)
        finally:
            process.terminate()
            process.wait(30)
        return Run(len(answers), answer_rate(answers), None, rss, load_average=load_average)

    @on_fresh_broker
    def latency(
        self,
        case: Case,
        root: Path | None,
        catalog: Catalog,
        seeds: str,
        rate: float,
        seconds: float,
    ) -> dict[str, Any]:
        topics = self.topics()
        artifacts, remove = self.artifacts(root)
        service = ServiceProcess(
            self.servers, topics, f"lat-{uuid.uuid4().hex[:6]}",
            ["--catalog", str(case.csv), "--artifacts", str(artifacts)], log_dir=self.work,
        )  # fmt: skip
        try:
            return self._paced(service, catalog, seeds, rate, seconds)
        finally:
            service.stop()
            remove()

    def _paced(
        self, service: ServiceProcess, catalog: Catalog, seeds: str, rate: float, seconds: float
    ) -> dict[str, Any]:
        service.start(wait_ready_s=600)
        rows = seed_rows(seeds, catalog, int(rate * seconds), seed=1)
        events = selections(catalog.track_ids, rows, "lat", seed=1)
        broker_cpu = cpu_seconds(self.broker_pid)
        started = time.monotonic()
        delays = paced_delays(self.servers, service.topics, events, rate)
        broker_share = (cpu_seconds(self.broker_pid) - broker_cpu) / (time.monotonic() - started)
        metrics = http_get(service.url + "/metrics")[1]
        return {
            **percentiles(delays),
            "offered": rate,
            "answered": len(delays),
            "processing_p99_ms": histogram_quantile(
                metrics, "encore_processing_latency_seconds", 0.99
            )
            * 1000,
            "broker_cpu": broker_share,
        }

    @on_fresh_broker
    def floor(self, events: list[tuple[bytes, bytes]], rate: float) -> dict[str, Any]:
        """The same paced load through `benchmarks.floor`'s echo (the service's Kafka
        settings, no work): the latency the broker and clients alone cost here."""
        topics = self.topics()
        echo = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.floor", "--bootstrap-servers", str(self.servers),
             "--input", topics[0], "--output", topics[1], "--group", f"floor-{topics[0]}"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert echo.stdout is not None
            if echo.stdout.readline().strip() != ECHO_READY:  # EOF: it died
                raise RuntimeError(f"the echo exited with {echo.wait(10)} before joining")
            delays = paced_delays(self.servers, topics, events, rate)
        finally:
            echo.terminate()
            echo.wait(30)
        return {**percentiles(delays), "offered": rate, "answered": len(delays)}
