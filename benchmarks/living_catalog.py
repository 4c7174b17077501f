"""The living catalog under load, on the real broker (one fresh broker per measurement).

    python -m benchmarks.living_catalog --modes latency,throughput,start

`latency`: publish -> recommendable (the service's `encore_catalog_apply_latency_seconds`:
a record's publish timestamp to the end of the apply after which the next batch answers on
it) with `--rate` selections/s and `--update-rate` catalog records/s on a `--latency-size`
catalog. `throughput`: selections/s on a `--throughput-size` catalog, pre-loaded selections,
with no catalog records and with `--churn-rate` records/s, one after the other in one run.
`start`: start -> ready from a `--start-size` catalog snapshot plus `--replay` records on
the catalog topic. Records: 70 % new tracks (a catalog song's features, a little noise),
20 % changes of catalog tracks, 10 % tombstones. The load average is printed beside each line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

from benchmarks.catalogs import synthetic
from benchmarks.load import seed_rows, selections
from benchmarks.service import Bench, answer_rate, on_fresh_broker
from recommender.catalog import Catalog
from recommender.snapshot import load_catalog_cached
from tests.harness import (
    PacedProducer,
    ServiceProcess,
    create_topics,
    metric_values,
    produce,
    read_topic,
    wait_until,
)

Record = tuple[bytes, bytes | None]


def records(catalog: Catalog, n: int, seed: int = 0) -> list[Record]:
    rng = np.random.default_rng(seed)
    names = list(catalog.feature_names)
    out: list[Record] = []
    added: list[str] = []
    for i in range(n):
        draw = rng.random()
        if draw < 0.1 and added:
            out.append((added.pop(int(rng.integers(len(added)))).encode(), None))
            continue
        row = int(rng.integers(len(catalog)))
        values = catalog.features[row] * (1 + rng.normal(0, 0.002, len(names)))
        low = np.where(np.isin(names, ["loudness"]), -60, 0)
        values = np.clip(values, low, None)
        track_id = f"live-{seed}-{i}" if draw >= 0.3 else str(catalog.track_ids[row])
        if draw >= 0.3:
            added.append(track_id)
        track = {
            "track_id": track_id,
            "track_name": f"Live {i}",
            "artist": f"Live Artist {i % 500}",
            "features": {n: round(float(v), 6) for n, v in zip(names, values, strict=True)},
        }
        out.append((track_id.encode(), json.dumps(track).encode()))
    return out


def quantile(metrics: str, name: str, q: float) -> float:
    """Quantile `q` of a Prometheus histogram, interpolated linearly within its bucket."""
    buckets = [(0.0, 0.0)]
    for line in metrics.splitlines():
        if line.startswith(f"{name}_bucket{{"):
            bound = float(line.split('le="', 1)[1].split('"', 1)[0])
            buckets.append((bound, float(line.rsplit(" ", 1)[1])))
    total = buckets[-1][1]
    target = q * total
    for (low, below), (high, count) in itertools.pairwise(buckets):
        if count >= target:
            if high == float("inf"):
                return low
            return low + (high - low) * (target - below) / max(count - below, 1e-9)
    return float("nan")


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


class LiveBench(Bench):
    def catalog_topics(self) -> tuple[str, str]:
        tag = uuid.uuid4().hex[:8]
        names = (f"bench-catalog-{tag}", f"bench-catalog-dlq-{tag}")
        create_topics(self.servers, names, partitions=1)
        return names

    def service(self, catalog: Path, root: Path, extra: list[str]) -> ServiceProcess:
        return ServiceProcess(
            self.servers, self.topics(), f"live-{uuid.uuid4().hex[:6]}",
            ["--catalog", str(catalog), "--artifacts", str(root), *extra], log_dir=self.work,
        )  # fmt: skip

    @on_fresh_broker
    def latency(  # type: ignore[override]
        self, csv: Path, root: Path, catalog: Catalog, rate: float, updates: float, seconds: float
    ) -> str:
        topic, dlq = self.catalog_topics()
        service = self.service(csv, root, ["--catalog-topic", topic, "--catalog-dlq-topic", dlq])
        service.start(wait_ready_s=900)
        try:
            rows = seed_rows("uniform", catalog, int(rate * seconds), seed=1)
            events = selections(catalog.track_ids, rows, "lat", seed=1)
            load = PacedProducer(self.servers, service.topics[0], events, rate)
            churn = records(catalog, int(updates * seconds), seed=2)
            feed = PacedProducer(self.servers, topic, churn, updates, linger_ms=0)  # type: ignore[arg-type]
            before = load_average()
            load.start(), feed.start()
            load.finish(), feed.finish()
            read_topic(self.servers, service.topics[1], len(events), timeout_s=120)
            metrics = service.metrics()
        finally:
            service.stop()
        name = "encore_catalog_apply_latency_seconds"
        applied = metric_values(metrics, f"{name}_count").get("", 0)
        p50, p99 = quantile(metrics, name, 0.5), quantile(metrics, name, 0.99)
        e2e = quantile(metrics, "encore_end_to_end_latency_seconds", 0.99)
        return (
            f"| {len(catalog):,} | {rate:,.0f} | {updates:,.0f} | {applied:,.0f} | "
            f"{p50 * 1000:.0f} ms | {p99 * 1000:.0f} ms | {e2e * 1000:.0f} ms | "
            f"{before} → {load_average()} |"
        )

    @on_fresh_broker
    def throughput(self, csv: Path, root: Path, catalog: Catalog, churn: float, n: int) -> str:
        topic, dlq = self.catalog_topics()
        service = self.service(csv, root, ["--catalog-topic", topic, "--catalog-dlq-topic", dlq])
        rows = seed_rows("uniform", catalog, n, seed=3)
        events = selections(catalog.track_ids, rows, "thr", seed=3)
        produce(self.servers, service.topics[0], events)
        feed = None
        if churn:
            seconds = n / 20_000 + 30  # outlasts the run
            feed = PacedProducer(
                self.servers,
                topic,
                records(catalog, int(churn * seconds), seed=4),
                churn,  # type: ignore[arg-type]
            )
        before = load_average()
        service.start(wait_ready_s=None)
        try:
            if feed is not None:
                feed.start()
            wait_until(service.ready, 900, "ready", step_s=0.01)
            answers = read_topic(self.servers, service.topics[1], n, timeout_s=600)
            metrics = service.metrics()
        finally:
            if feed is not None:  # ends its loop at the next record, then flushes
                feed.events.clear()
                feed.finish(120)
            service.stop()
        applied = sum(metric_values(metrics, "encore_catalog_updates_applied_total").values())
        return (
            f"| {len(catalog):,} | {churn:,.0f} | {answer_rate(answers):,.0f} | "
            f"{applied:,.0f} | {before} → {load_average()} |"
        )

    @on_fresh_broker
    def start(self, snapshot: Path, root: Path, catalog: Catalog, replay: int) -> str:
        topic, dlq = self.catalog_topics()
        produce(self.servers, topic, records(catalog, replay, seed=5))  # type: ignore[arg-type]
        service = self.service(
            snapshot, root, ["--catalog-topic", topic, "--catalog-dlq-topic", dlq]
        )
        before = load_average()
        started = time.monotonic()
        service.start(wait_ready_s=None)
        try:
            wait_until(service.ready, 900, "ready", step_s=0.01)
            ready_s = time.monotonic() - started
            tracks = metric_values(service.metrics(), "encore_catalog_tracks")[""]
        finally:
            service.stop()
        return (
            f"| {len(catalog):,} snapshot + {replay:,} records | {ready_s:.1f} s | "
            f"{tracks:,.0f} | {before} → {load_average()} |"
        )


def trained(bench: Bench, csv: Path, catalog_arg: Path) -> Path:
    """A knn artifact (with its HNSW graph) for `catalog_arg`, trained once and kept."""
    root = bench.work / "artifacts-live" / catalog_arg.name
    if not (root / "knn").exists():
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "recommender", "train", "--model", "knn",
             "--catalog", str(catalog_arg), "--out", str(root)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        print(f"  trained knn for {catalog_arg.name} in {time.monotonic() - started:.0f} s")
    return root


def snapshot_of(csv: Path, work: Path) -> tuple[Path, Catalog]:
    path = work / (csv.stem + ".catalog.npz")
    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "recommender", "catalog", "compile", str(csv),
             "--out", str(path)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return path, load_catalog_cached(path, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.living_catalog", description=__doc__
    )
    parser.add_argument("--modes", default="latency,throughput,start")
    parser.add_argument("--latency-size", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=2_000)
    parser.add_argument("--update-rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--throughput-size", type=int, default=100_000)
    parser.add_argument("--churn-rate", type=float, default=1_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--start-size", type=int, default=1_000_000)
    parser.add_argument("--replay", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/encore-bench"))
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    bench = LiveBench(args.work)
    modes = args.modes.split(",")

    def case(size: int) -> tuple[Path, Path, Catalog]:
        made = synthetic("copula", size, args.work, Path("/nonexistent"))
        assert made is not None
        snapshot, catalog = snapshot_of(made.csv, args.work)
        return snapshot, trained(bench, made.csv, snapshot), catalog

    if "latency" in modes:
        snapshot, root, catalog = case(args.latency_size)
        print("| tracks | selections/s | records/s | applied | publish → recommendable p50 "
              "| p99 | selection p99 | load average |", flush=True)  # fmt: skip
        print(bench.latency(snapshot, root, catalog, args.rate, args.update_rate, args.seconds))
    if "throughput" in modes:
        snapshot, root, catalog = case(args.throughput_size)
        print("| tracks | records/s | selections/s | applied | load average |", flush=True)
        for churn in (0.0, args.churn_rate):
            print(bench.throughput(snapshot, root, catalog, churn, args.events), flush=True)
    if "start" in modes:
        snapshot, root, catalog = case(args.start_size)
        print("| start from | start → ready | tracks | load average |", flush=True)
        print(bench.start(snapshot, root, catalog, args.replay), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
