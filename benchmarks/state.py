"""Listener state's cost: throughput with state on against off, p99 at a fixed rate with state
on, and restoring 100,000 listeners x 50 events from the changelog, cold and warm.

    python -m benchmarks.state [--size 100000] [--events 50000] [--rate 2000] [--repeats 3]

Throughput: the same selections (uniform seeds, 10,000 listeners) pre-loaded and answered by
one service, `--no-state` against state on with every selection in `seed_mode: session`
(history exclusion, the shown-songs exclusion and the taste-profile blend all at work), each
on a fresh broker, in one run; `--repeats` alternates the three kinds of run that many times
and prints the median ratios. Restore: the changelog of `--listeners` listeners, each state
holding `--history` events, 3 shown answers and a profile, read back by `Restorer` into
empty stores (cold), then again into the stores it filled (warm: nothing new since their
checkpoint). The machine's 1-minute load average is printed with every figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from benchmarks.catalogs import REAL, synthetic
from benchmarks.load import seed_rows
from benchmarks.service import Bench, Run, on_fresh_broker, paced_delays, percentiles
from consumer.state.changelog import CHANGELOG_CONFIG, Restorer
from consumer.state.codec import ListenerState, encode_state, event_key
from consumer.state.store import Stores
from producer.events import encode, selection
from recommender.catalog import Catalog
from recommender.ingest import read_catalog
from tests.harness import (
    ServiceProcess,
    client_config,
    produce,
)

LISTENERS = 10_000


def events(catalog: Catalog, n: int, session: bool, tag: str) -> list[tuple[bytes, bytes]]:
    rows = seed_rows("uniform", catalog, n, seed=7)
    users = np.random.default_rng(7).integers(0, LISTENERS, n)
    out = []
    for i, (row, user) in enumerate(zip(rows.tolist(), users.tolist(), strict=True)):
        event: dict[str, Any] = selection(
            f"user-{user}", track_id=str(catalog.track_ids[row]), event_id=f"{tag}-{i}"
        )
        if session:
            event["seed_mode"] = "session"
        out.append(encode(event))
    return out


class StateBench(Bench):
    def service(self, topics: tuple[str, str, str], case: Any, root: Path, *args: str):
        return ServiceProcess(
            self.servers, topics, f"state-{uuid.uuid4().hex[:6]}",
            ["--catalog", str(case.csv), "--artifacts", str(root), *args], log_dir=self.work,
        )  # fmt: skip

    @on_fresh_broker
    def throughput(
        self, case: Any, root: Path, batch: list[tuple[bytes, bytes]], *args: str
    ) -> Run:
        topics = self.topics()
        produce(self.servers, topics[0], batch)
        service = self.service(topics, case, root, *args)
        return self.drain(service, topics[1], len(batch))[1]

    @on_fresh_broker
    def latency(
        self, case: Any, root: Path, catalog: Catalog, rate: float, seconds: float, *args: str
    ) -> dict[str, float]:  # type: ignore[override]
        topics = self.topics()
        service = self.service(topics, case, root, *args)
        service.start(wait_ready_s=600)
        try:
            paced = events(catalog, int(rate * seconds), True, "lat")
            delays = paced_delays(self.servers, topics, paced, rate)
        finally:
            service.stop()
        return {
            **percentiles(delays),
            "answered": len(delays),
            "load": os.getloadavg()[0],
        }

    @on_fresh_broker
    def restore(self, catalog: Catalog, listeners: int, history: int) -> dict[str, float]:
        topic = f"bench-listeners-{uuid.uuid4().hex[:6]}"
        admin = AdminClient(client_config(self.servers))
        for future in admin.create_topics(
            [NewTopic(topic, self.partitions, config=CHANGELOG_CONFIG)]
        ).values():
            future.result(30)
        written, size = self._changelog(catalog, topic, listeners, history)
        root = self.work / f"stores-{topic}"
        consumer = Consumer(
            client_config(
                self.servers,
                **{
                    "group.id": f"{topic}-restore",
                    "enable.auto.commit": False,
                    "enable.partition.eof": True,
                    "isolation.level": "read_committed",
                    "fetch.wait.max.ms": 10,  # as the service's restore consumer
                },
            )
        )
        partitions = list(range(self.partitions))
        figures: dict[str, float] = {"listeners": listeners, "bytes_per_listener": size / written}
        try:
            for kind in ("cold", "warm"):
                stores = Stores(root)
                load = os.getloadavg()[0]
                restored = Restorer(consumer, topic, stores).restore(partitions)
                figures[f"{kind}_s"] = restored.seconds
                figures[f"{kind}_records"] = restored.records
                figures[f"{kind}_load"] = load
                figures["stored_listeners"] = stores.listeners()
                figures["store_bytes"] = stores.size_bytes()
                stores.close_all()
        finally:
            consumer.close()
            shutil.rmtree(root, ignore_errors=True)
        return figures

    def _changelog(
        self, catalog: Catalog, topic: str, listeners: int, history: int
    ) -> tuple[int, int]:
        """One state per listener: `history` events, 3 answers of 10, a knn profile."""
        rng = np.random.default_rng(11)
        ids = catalog.track_ids
        producer = Producer(
            client_config(self.servers, **{"linger.ms": 20, "compression.type": "lz4"})
        )
        total = 0
        now = int(time.time() * 1000)
        for user in range(listeners):
            picks = rng.integers(0, len(ids), history + 30).tolist()
            state = ListenerState(now)
            for j in range(history):
                state.record(
                    f"user-{user}-{j}", str(ids[picks[j]]), "select", now - 60_000 * j, history
                )
            state.shown = [
                (
                    event_key(f"user-{user}-{j}"),
                    tuple(str(ids[r]) for r in picks[history + 10 * j : history + 10 * j + 10]),
                )
                for j in range(3)
            ]
            state.profiles["knn"] = (5.0, rng.standard_normal(9).astype(np.float32).tobytes())
            value = encode_state(state)
            total += len(value)
            while True:
                try:
                    producer.produce(
                        topic, value, f"user-{user}".encode(), partition=user % self.partitions
                    )
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
        if producer.flush(300) != 0:
            raise RuntimeError("changelog not delivered")
        return listeners, total


def throughput(
    bench: StateBench, case: Any, root: Path, catalog: Catalog, n: int, repeats: int
) -> None:
    """State off (version 1 selections, then the same session selections) and state on,
    alternating `repeats` times so that the machine's drift lands on all three; the ratios
    are per repeat (runs minutes apart differ by more than the state's cost changes)."""
    plain = events(catalog, n, False, "off")
    ratios: list[tuple[float, float]] = []
    for repeat in range(1, repeats + 1):
        off = bench.throughput(case, root, plain, "--no-state")
        same = bench.throughput(case, root, events(catalog, n, True, f"v2-{repeat}"), "--no-state")
        on = bench.throughput(case, root, events(catalog, n, True, f"on-{repeat}"))
        ratios.append((on.events_per_s / off.events_per_s, on.events_per_s / same.events_per_s))
        print(
            f"repeat {repeat}: state off {off.events_per_s:,.0f} events/s, "
            f"{off.cpu_us_per_event:.0f} µs CPU/event (load {off.load_average:.1f}); "
            f"state off, the same session selections (no state to use) "
            f"{same.events_per_s:,.0f} events/s, {same.cpu_us_per_event:.0f} µs "
            f"(load {same.load_average:.1f}); state on (session) {on.events_per_s:,.0f} "
            f"events/s, {on.cpu_us_per_event:.0f} µs (load {on.load_average:.1f}): "
            f"{ratios[-1][0]:.0%} of state off, {ratios[-1][1]:.0%} of the same selections",
            flush=True,
        )
    if repeats > 1:
        of_off, of_same = (float(np.median(column)) for column in zip(*ratios, strict=True))
        print(
            f"state on, median of {repeats} repeats: {of_off:.0%} of state off, "
            f"{of_same:.0%} of the same selections state off",
            flush=True,
        )


def _thirds(figures: dict[str, Any]) -> str:
    return "p99 by third of the run " + " / ".join(f"{p:.0f}" for p in figures["p99_thirds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.state", description=__doc__)
    parser.add_argument("--size", type=int, default=100_000, help="tracks in the catalog")
    parser.add_argument("--events", type=int, default=50_000, help="pre-loaded selections")
    parser.add_argument("--rate", type=float, default=2_000, help="offered rate for latency")
    parser.add_argument("--seconds", type=float, default=15, help="latency run length")
    parser.add_argument("--listeners", type=int, default=100_000, help="restored listeners")
    parser.add_argument("--history", type=int, default=50, help="events per restored listener")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--work", type=Path, default=Path("/tmp/encore-bench"))
    parser.add_argument(
        "--repeats", type=int, default=1, help="throughput runs of each kind, alternating"
    )
    parser.add_argument("--skip", default="", help="comma list of throughput,latency,restore")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    skip = set(args.skip.split(","))
    bench = StateBench(args.work, args.partitions)
    case = synthetic("copula", args.size, args.work, REAL)
    assert case is not None
    trained = args.work / "artifacts" / case.label
    root = trained if (trained / "knn").exists() else bench.train(case)
    catalog = read_catalog(case.csv)
    if "throughput" not in skip:
        throughput(bench, case, root, catalog, args.events, args.repeats)
    if "latency" not in skip:
        paced = events(catalog, int(args.rate * args.seconds), True, "floor")
        floor = bench.floor(paced, args.rate)
        print(
            f"floor (an echo with the service's Kafka settings, no work), {args.rate:,.0f}/s "
            f"offered: answered {floor['answered']}, p50 {floor['p50']:.0f} ms, "
            f"p99 {floor['p99']:.0f} ms ({_thirds(floor)}; load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
        for label, flags in (("state off", ("--no-state",)), ("state on", ())):
            lat = bench.latency(case, root, catalog, args.rate, args.seconds, *flags)
            print(
                f"{label}, {args.rate:,.0f} session selections/s offered: answered "
                f"{lat['answered']}, p50 {lat['p50']:.0f} ms, p99 {lat['p99']:.0f} ms "
                f"({_thirds(lat)}; load {lat['load']:.1f})",
                flush=True,
            )
    if "restore" not in skip:
        r = bench.restore(catalog, args.listeners, args.history)
        print(
            f"restore {r['listeners']:,.0f} listeners x {args.history} events "
            f"({r['bytes_per_listener']:,.0f} B each): cold {r['cold_s']:.1f} s "
            f"({r['cold_records']:,.0f} records, load {r['cold_load']:.1f}), "
            f"warm {r['warm_s']:.2f} s "
            f"({r['warm_records']:,.0f} records, load {r['warm_load']:.1f}); store "
            f"{r['stored_listeners']:,.0f} listeners, {r['store_bytes'] / 1e6:,.0f} MB",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
