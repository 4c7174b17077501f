"""`python -m benchmarks`: Encore against the naive consumer; writes BENCHMARKS.md.

Example (what BENCHMARKS.md was made with):
    python -m benchmarks --sizes real,100000,1000000
"""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from benchmarks.service import Bench, Case, selections
from recommender.artifacts import load_artifact
from recommender.search import ExactIndex, HnswIndex, load_index
from recommender.search.recall import index_recall
from recommender.snapshot import load_catalog_cached
from recommender.training.synthetic import generate_catalog

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "spotify_songs.csv"


def catalogs(sizes: list[str], work: Path) -> list[Case]:
    cases = []
    for size in sizes:
        if size == "real":
            if REAL.exists():
                cases.append(Case("real (spotify_songs.csv)", REAL))
            else:
                print(f"skipping the real catalog: {REAL} not found", file=sys.stderr)
            continue
        n = int(size)
        path = work / f"synthetic-{n}.csv"
        if not path.exists():
            generate_catalog(n, seed=2026).to_csv(path, index=False)
        cases.append(Case(f"synthetic {n:,}", path))
    return cases


def recall(root: Path, case: Case, queries: int = 2000) -> float | None:
    catalog = load_catalog_cached(case.csv, root / "catalogs")
    model = load_artifact(root, "knn", catalog, index_loader=load_index)
    if not isinstance(model.index, HnswIndex):
        return None  # exact search: recall 1 by construction
    canonical = model.catalog_embedding[catalog.canonical_rows]
    rng = np.random.default_rng(0)
    picks = rng.choice(len(canonical), size=min(queries, len(canonical)), replace=False)
    exact = ExactIndex(canonical, metric=model.metric)
    return index_recall(model.index, exact, canonical[picks], k=10, exclude=picks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--sizes", default="real,100000,1000000", help="'real' and/or track counts")
    parser.add_argument("--events", type=int, default=100_000, help="pre-loaded for Encore")
    parser.add_argument("--naive-seconds", type=float, default=20, help="budget for the naive run")
    parser.add_argument("--rate", type=float, default=2_000, help="offered rate for latency")
    parser.add_argument("--seconds", type=float, default=15, help="latency run length")
    parser.add_argument("--work", type=Path, default=Path("/tmp/encore-bench"))
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    command = "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv)

    rows, latency_rows = [], []
    bench = Bench(args.work)
    for case in catalogs(args.sizes.split(","), args.work):
        print(f"{case.label}:", flush=True)
        root = bench.train(case)
        catalog = load_catalog_cached(case.csv, root / "catalogs")
        encore = bench.encore(case, root, selections(catalog.track_ids, args.events, "enc"))
        print(f"  encore {encore.events_per_s:,.0f} events/s", flush=True)
        uncached = bench.encore(
            case, root, selections(catalog.track_ids, args.events, "nocache"), answer_cache=False
        )
        print(f"  encore, answer cache off {uncached.events_per_s:,.0f} events/s", flush=True)
        eos = bench.encore(
            case, root, selections(catalog.track_ids, args.events, "eos"), "exactly-once"
        )
        print(f"  encore exactly-once {eos.events_per_s:,.0f} events/s", flush=True)
        # The naive consumer is slow: size its input to the time budget.
        probe = max(200, int(args.naive_seconds * 5_000_000 / len(catalog)))
        naive = bench.naive(case, selections(catalog.track_ids, min(probe, 20_000), "naive"))
        print(f"  naive  {naive.events_per_s:,.0f} events/s", flush=True)
        rec = recall(root, case)
        rows.append((case, len(catalog), encore, uncached, eos, naive, rec))
        lat = bench.latency(case, root, args.rate, args.seconds)
        print(f"  latency p50 {lat['p50']:.0f} p99 {lat['p99']:.0f} ms", flush=True)
        latency_rows.append((case, lat))
    args.out.write_text(render(rows, latency_rows, command))
    print(f"wrote {args.out}")
    return 0


def render(rows, latency_rows, command: str) -> str:  # type: ignore[no-untyped-def]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on this project's machine ({platform.machine()}, "
        "2 cores, 24 GiB), Tansu broker in memory on loopback, one Encore instance "
        "(`knn`, k = 10, at-least-once), 6 input partitions. Re-run with:",
        "",
        f"    {command}",
        "",
        "Throughput: events pre-loaded, then one consumer started; events/s counts from the "
        "first answer to the last (the answers' broker timestamps). The naive consumer is the "
        "seed projects' way (`benchmarks/naive.py`): one message at a time, json, dict lookup, "
        "scikit-learn brute-force `kneighbors`, json, produce, auto-commit; same catalog, same "
        "selections. Selections pick catalog tracks uniformly at random (no popular songs), so "
        "Encore's answer cache only hits on chance repeats; the cache-off column is Encore "
        "without it. Every run has a broker of its own.",
        "",
        "| catalog | tracks | Encore events/s (cache hits) | naive events/s | speed-up "
        "| Encore, cache off | Encore exactly-once | start → ready | peak RSS | recall@10 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case, tracks, encore, uncached, eos, naive, rec in rows:
        recall_text = "exact" if rec is None else f"{rec:.3f}"
        lines.append(
            f"| {case.label} | {tracks:,} | {encore.events_per_s:,.0f} "
            f"({encore.cache_hit_rate:.0%}) | {naive.events_per_s:,.0f} | "
            f"{encore.events_per_s / naive.events_per_s:,.0f}× "
            f"({uncached.events_per_s / naive.events_per_s:,.0f}× cache off) | "
            f"{uncached.events_per_s:,.0f} | {eos.events_per_s:,.0f} | {encore.ready_s:.1f} s | "
            f"{encore.peak_rss_mb:,.0f} MB | {recall_text} |"
        )
    lines += [
        "",
        "Latency: selections offered at a fixed rate to a running instance; end to end is the "
        "input message's timestamp to its answer's.",
        "",
        "| catalog | offered events/s | answered | p50 | p95 | p99 | p99 by third of the run "
        "| Encore's own p99 (consumed → acknowledged) | broker CPU |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for case, lat in latency_rows:
        lines.append(
            f"| {case.label} | {lat['offered']:,.0f} | {lat['answered']:,} | {lat['p50']:.0f} ms | "
            f"{lat['p95']:.0f} ms | {lat['p99']:.0f} ms | "
            f"{' / '.join(f'{p:.0f}' for p in lat['p99_thirds'])} ms | "
            f"≤ {lat['processing_p99_ms']:.0f} ms | {lat['broker_cpu']:.0%} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    t0 = time.monotonic()
    code = main()
    print(f"done in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    sys.exit(code)
