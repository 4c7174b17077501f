"""What a living catalog costs in process: apply latency at 1,000,000 tracks, and selections
at 100,000 tracks with 1,000 catalog updates/s applied against none.

1. Apply: a synthetic catalog (`generate_catalog`, the real data's per-genre distributions),
   `knn` on an HNSW graph (built once, kept under --work), batches of `--batch` updates
   (half additions, 30 % replacements, 20 % removals), timed per `apply_update` call. The
   first update builds the live state (O(n), once) and is reported apart.
2. Selections: `Recommender.recommend` for batches of `--events` random catalog seeds (k = 10)
   as fast as they go; with updates, before each batch the updates that arrived since the last
   one at `--rate` per second are coalesced into one `apply_update`, as the service does
   between batches. Rounds with and without updates alternate; the figure is per event,
   search and applies together, over all rounds.

The load average is printed with the figures: on a shared machine, rerun when it is high.

    .venv/bin/python benchmarks/catalog_churn.py
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from benchmarks.catalogs import SEED
from recommender.catalog import Catalog
from recommender.live import CatalogUpdate, TrackUpsert, apply_update
from recommender.recommender import Recommender, knn
from recommender.search import HnswIndex, load_index
from recommender.training.synthetic import generate_catalog

K = 10


def synthetic_catalog(n: int) -> Catalog:
    return Catalog.from_frame(generate_catalog(n, seed=SEED), extra_columns=["genre"])


def hnsw_model(catalog: Catalog, work: Path) -> Recommender:
    """`knn` searching an HNSW graph, loaded from `work` when it was built before."""
    model = knn(catalog)
    directory = work / f"churn-hnsw-{len(catalog)}"
    vectors = model.catalog_embedding[catalog.canonical_rows]
    if (directory / "hnsw.json").exists():
        return model.with_index(load_index(directory, "euclidean", vectors))
    started = time.perf_counter()
    index = HnswIndex.build(vectors)
    print(
        f"built the HNSW graph over {len(vectors):,} songs in {time.perf_counter() - started:.0f} s"
    )
    index.save(directory)
    return model.with_index(index)


class Updates:
    """Random upserts and tombstones against the current catalog, with real-looking values."""

    def __init__(self, catalog: Catalog, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.pool = catalog.features  # feature rows new tracks borrow (jittered) values from
        self.names = catalog.feature_names
        self.count = 0

    def batch(self, catalog: Catalog, size: int) -> CatalogUpdate:
        live = catalog.track_ids  # may hold dead rows: they are skipped below
        upserts, removals = [], []
        for kind in self.rng.choice(3, size, p=[0.5, 0.3, 0.2]).tolist():
            if kind == 0:
                self.count += 1
                upserts.append(self._track(f"churn-{self.count:09d}"))
                continue
            row = int(self.rng.integers(len(live)))
            if not catalog.alive[row]:
                continue
            if kind == 1:
                upserts.append(self._track(str(live[row])))
            else:
                removals.append(str(live[row]))
        return CatalogUpdate(upserts, removals)

    def _track(self, track_id: str) -> TrackUpsert:
        row = self.pool[self.rng.integers(len(self.pool))]
        other = self.pool[self.rng.integers(len(self.pool))]
        mix = float(self.rng.uniform(0.1, 0.9))
        values = dict(zip(self.names, (mix * row + (1 - mix) * other).tolist(), strict=True))
        return TrackUpsert(track_id, f"New {track_id}", f"Artist {self.count % 9973}", values)


def apply_latency(n: int, batch: int, batches: int, work: Path) -> None:
    started = time.perf_counter()
    catalog = synthetic_catalog(n)
    print(f"generated {n:,} tracks in {time.perf_counter() - started:.0f} s")
    models = {"knn": hnsw_model(catalog, work)}
    updates = Updates(catalog)
    started = time.perf_counter()
    models = apply_update(models, updates.batch(catalog, batch)).models
    first = time.perf_counter() - started
    seconds = []
    for _ in range(batches):
        update = updates.batch(models["knn"].catalog, batch)
        started = time.perf_counter()
        models = apply_update(models, update).models
        seconds.append(time.perf_counter() - started)
    ms = 1e3 * np.array(seconds)
    live = models["knn"].catalog
    print(
        f"\n| catalog | updates per apply | first apply (builds state) | p50 | p99 | max |\n"
        f"|---|---|---|---|---|---|\n"
        f"| {n:,} ({live.track_count:,} after, {len(live):,} rows) | {batch} | "
        f"{first:.2f} s | {np.percentile(ms, 50):.2f} ms | {np.percentile(ms, 99):.2f} ms | "
        f"{ms.max():.2f} ms |"
    )
    print(f"load average {load()}")


def selection_cost(
    n: int, events: int, rate: float, rounds: int, seconds: float, work: Path
) -> None:
    catalog = synthetic_catalog(n)
    base = hnsw_model(catalog, work)  # never updated: a graph of its own
    rng = np.random.default_rng(1)
    start = hnsw_model(catalog, work)
    start = apply_update({"knn": start}, CatalogUpdate()).models["knn"]  # state built up front
    totals = {"none": [0.0, 0], "updates": [0.0, 0]}
    applied = 0
    updates = Updates(catalog, seed=2)
    models = {"knn": start}
    for _ in range(rounds):
        for mode in ("none", "updates"):
            model = base if mode == "none" else models["knn"]
            done = 0
            clock = last = time.perf_counter()
            while time.perf_counter() - clock < seconds:
                if mode == "updates":
                    now = time.perf_counter()
                    due = round((now - last) * rate)
                    if due:
                        update = updates.batch(model.catalog, due)
                        models = apply_update(models, update).models
                        model, last, applied = models["knn"], now, applied + len(update)
                alive = np.flatnonzero(model.catalog.alive)
                model.recommend(alive[rng.integers(len(alive), size=events)], K)
                done += events
            totals[mode][0] += time.perf_counter() - clock
            totals[mode][1] += done
    none_us = 1e6 * totals["none"][0] / totals["none"][1]
    with_us = 1e6 * totals["updates"][0] / totals["updates"][1]
    print(
        f"\n| catalog | updates/s | µs per selection | selections/s |\n|---|---|---|---|\n"
        f"| {n:,} | none | {none_us:.2f} | {1e6 / none_us:,.0f} |\n"
        f"| {n:,} | {rate:,.0f} (applied {applied:,}) | {with_us:.2f} | {1e6 / with_us:,.0f} |"
    )
    print(
        f"extra per selection {with_us - none_us:+.2f} µs ({with_us / none_us - 1:+.1%}); "
        f"load average {load()}"
    )


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--tracks", type=int, default=1_000_000, help="catalog of the apply test")
    parser.add_argument("--batch", type=int, default=20, help="updates per apply")
    parser.add_argument("--batches", type=int, default=1000, help="applies timed")
    parser.add_argument("--selection-tracks", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=2000, help="selections per batch")
    parser.add_argument("--rate", type=float, default=1000.0, help="catalog updates per second")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0, help="per round and mode")
    parser.add_argument("--work", type=Path, default=Path("/tmp/encore-bench"))
    parser.add_argument("--skip-apply", action="store_true")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"load average {load()}")
    if not args.skip_apply:
        apply_latency(args.tracks, args.batch, args.batches, args.work)
    selection_cost(
        args.selection_tracks, args.events, args.rate, args.rounds, args.seconds, args.work
    )


if __name__ == "__main__":
    main()
