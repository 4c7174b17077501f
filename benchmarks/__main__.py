"""`python -m benchmarks`: Encore against the naive consumer on the real broker; writes
BENCHMARKS.md.

Every catalog (the real export and/or synthetic ones of each kind) x seed distribution
(uniform, zipf) x answer cache (on, off), repeated; the naive consumer in the same repeats.
Example (what BENCHMARKS.md was made with is at its top):
    python -m benchmarks --sizes real,100000 --repeats 3
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.catalogs import CATALOG_KINDS, REAL, Case, catalogs
from benchmarks.load import SEED_KINDS, repeat_share, seed_rows, selections
from benchmarks.report import Cell, Extras, render
from benchmarks.service import Bench, Run
from recommender.build import build
from recommender.catalog import Catalog
from recommender.ingest import read_catalog
from recommender.search import ExactIndex, HnswIndex
from recommender.search.recall import index_recall

HEADLINE = "zipf"  # listening is skewed: the load the extras are measured on
NAIVE_THREADS = (None, 1)  # the naive consumer's BLAS pools: as installed, and one thread


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--sizes", default="real,100000", help="'real' and/or track counts")
    parser.add_argument(
        "--catalog-kind", default=",".join(CATALOG_KINDS), help="synthetic kinds: copula,jitter"
    )
    parser.add_argument("--seeds", default=",".join(SEED_KINDS), help="uniform and/or zipf")
    parser.add_argument("--real", type=Path, default=REAL, help="the real export (jitter's rows)")
    parser.add_argument("--events", type=int, default=100_000, help="pre-loaded for Encore")
    parser.add_argument("--naive-events", type=int, default=5_000, help="for the naive one")
    parser.add_argument("--partitions", type=int, default=4, help="of the input topic")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each combination")
    parser.add_argument(
        "--start", choices=("cold", "trained"), default="cold",
        help="cold: CSV and no artifact, knn built at start; trained: a trained artifact",
    )  # fmt: skip
    parser.add_argument("--rate", type=float, default=2_000, help="offered rate for latency")
    parser.add_argument("--seconds", type=float, default=15, help="latency run length")
    parser.add_argument("--work", type=Path, default=Path("/tmp/encore-bench"))
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    args = parser.parse_args(argv)
    args.seeds = args.seeds.split(",")
    if unknown := [s for s in args.seeds if s not in SEED_KINDS]:
        parser.error(f"--seeds: unknown {unknown}; choose from {', '.join(SEED_KINDS)}")
    args.catalog_kind = args.catalog_kind.split(",")
    if unknown := [k for k in args.catalog_kind if k not in CATALOG_KINDS]:
        parser.error(f"--catalog-kind: unknown {unknown}; choose from {', '.join(CATALOG_KINDS)}")
    return args


def recall(catalog: Catalog, queries: int = 2000) -> float | None:
    """recall@10 of the graph the service builds for this catalog, against exact search."""
    model = build("knn", catalog).with_search("auto")
    if not isinstance(model.index, HnswIndex):
        return None  # exact search: recall 1 by construction
    canonical = model.catalog_embedding[catalog.canonical_rows]
    rng = np.random.default_rng(0)
    picks = rng.choice(len(canonical), size=min(queries, len(canonical)), replace=False)
    exact = ExactIndex(canonical, metric=model.metric)
    return index_recall(model.index, exact, canonical[picks], k=10, exclude=picks)


def show(what: str, run: Run) -> None:
    hits = "" if run.cache_hit_rate is None else f", cache hits {run.cache_hit_rate:.0%}"
    cpu = "" if run.cpu_us_per_event is None else f", {run.cpu_us_per_event:.1f} µs CPU/event"
    ready = "" if run.ready_s is None else f", ready in {run.ready_s:.1f} s"
    print(
        f"    {what}: {run.events_per_s:,.0f} events/s{hits}{cpu}{ready} "
        f"(load {run.load_average:.1f})",
        flush=True,
    )


def measure_cell(
    bench: Bench,
    case: Case,
    root: Path | None,
    catalog: Catalog,
    seeds: str,
    args: argparse.Namespace,
) -> Cell:
    rows = seed_rows(seeds, catalog, args.events)
    events = selections(catalog.track_ids, rows, seeds)
    cell = Cell(case, seeds, len(catalog), repeat_share(rows))
    print(f"  {seeds} seeds ({cell.repeat_share:.0%} repeats):", flush=True)
    for repeat in range(args.repeats):
        # Alternate the order, so drift in the machine's load favours neither side.
        for cache in (True, False) if repeat % 2 == 0 else (False, True):
            run = bench.encore(case, root, events, answer_cache=cache)
            (cell.cached if cache else cell.uncached).append(run)
            show(f"encore, cache {'on' if cache else 'off'}", run)
        # scikit-learn's BLAS/OpenMP threads spin-wait for each other on a busy machine (one
        # query at a time: 10x slower here under load): the baseline is the faster of the two.
        # As installed it can be that slow: it gets a tenth of the events.
        sizes = (max(args.naive_events // 10, 100), args.naive_events)
        tries = [
            bench.naive(case, events[:n], t) for t, n in zip(NAIVE_THREADS, sizes, strict=True)
        ]
        for threads, run in zip(NAIVE_THREADS, tries, strict=True):
            show(f"naive, {threads or 'default'} BLAS threads", run)
        cell.naive_tries.append(tries)
        cell.naive.append(max(tries, key=lambda r: r.events_per_s))
    return cell


def measure_extras(
    bench: Bench, case: Case, root: Path | None, catalog: Catalog, args: argparse.Namespace
) -> Extras:
    rows = seed_rows(HEADLINE, catalog, args.events)
    eos = bench.encore(case, root, selections(catalog.track_ids, rows, "eos"), "exactly-once")
    show("encore exactly-once", eos)
    rec = recall(catalog)
    lat = bench.latency(case, root, catalog, HEADLINE, args.rate, args.seconds)
    print(f"    latency p50 {lat['p50']:.0f} p99 {lat['p99']:.0f} ms", flush=True)
    return Extras(case, eos, rec, lat)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    command = "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv)
    bench = Bench(args.work, args.partitions)
    cells, extras = [], []
    for case in catalogs(args.sizes.split(","), args.catalog_kind, args.work, args.real):
        print(f"{case.label}:", flush=True)
        root = bench.train(case) if args.start == "trained" else None
        catalog = read_catalog(case.csv)  # what a cold start reads
        cells += [measure_cell(bench, case, root, catalog, s, args) for s in args.seeds]
        extras.append(measure_extras(bench, case, root, catalog, args))
    settings = {**vars(args), "command": command}
    args.out.write_text(render(cells, extras, settings))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    t0 = time.monotonic()
    code = main()
    print(f"done in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    sys.exit(code)
