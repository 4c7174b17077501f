"""Shaped answers through the broker: plain against default controls against a heavy mix.

One run, the same 100,000-track copula catalog and the same seeds (uniform), one cold service
per measurement (`benchmarks.compare_trees.serve`), the workloads taking turns:

- plain: version 1 selections, the k nearest songs;
- default: version 2 selections that set no control (the default cap of 2 songs per artist);
- heavy: version 2 selections with 3 seeds, two ranges (tempo within 25 BPM of the seeds'
  mean, energy at most 0.25 below it), 50 excluded ids, diversity 0.3 and a pool of 100.

    .venv/bin/python -m benchmarks.shaping_broker --events 50000 --repeats 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.catalogs import REAL, synthetic
from benchmarks.compare_trees import serve
from benchmarks.load import seed_rows
from benchmarks.shaping import heavy_controls
from producer.events import encode, selection
from recommender.ingest import read_catalog


def events(kind: str, csv: Path, n: int) -> list[tuple[bytes, bytes]]:
    catalog = read_catalog(csv)
    rows = seed_rows("uniform", catalog, n)
    rng = np.random.default_rng(1)
    out = []
    for i, row in enumerate(rows.tolist()):
        event = selection(f"user-{i % 10_000}", track_id=str(catalog.track_ids[row]))
        event["event_id"] = f"{kind}-{i}"
        if kind != "plain":
            event["schema_version"] = 2
        if kind == "heavy":
            event.update(heavy_controls(catalog, rng))
        out.append(encode(event))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/encore-shaping"))
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    case = synthetic("copula", args.tracks, args.work, REAL)
    assert case is not None
    loads = {kind: events(kind, case.csv, args.events) for kind in ("plain", "default", "heavy")}
    results: dict[str, list[tuple[float, float, float]]] = {kind: [] for kind in loads}
    for _ in range(args.repeats):
        for kind, load in loads.items():
            results[kind].append(serve(None, case.csv, load, args.work))
            rate, cpu_us, avg = results[kind][-1]
            print(f"  {kind}: {rate:,.0f} events/s, {cpu_us:.1f} µs CPU/event (load {avg:.1f})")
    plain = np.median([r[0] for r in results["plain"]])
    plain_cpu = np.median([r[1] for r in results["plain"]])
    print(f"\n{args.tracks:,} tracks, {args.events:,} selections per run, {args.repeats} runs")
    print("| workload | events/s (median) | of plain | CPU µs/event | plain's CPU / this |")
    print("|---|---:|---:|---:|---:|")
    for kind, runs in results.items():
        rate = float(np.median([r[0] for r in runs]))
        cpu_us = float(np.median([r[1] for r in runs]))
        print(
            f"| {kind} | {rate:,.0f} | {rate / plain:.0%} | {cpu_us:.1f} | "
            f"{plain_cpu / cpu_us:.0%} |"
        )


if __name__ == "__main__":
    main()
