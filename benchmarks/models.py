"""Encore's models measured: the default autoencoder trained on real data, batch recommend
throughput of every model at 100,000 synthetic tracks (exact search), and a cluster table.

Throughput is seeds per second for batches of 1,000 seeds, k = 10: "catalog seeds" are
catalog rows (embedding looked up), "feature seeds" arrive as raw features and go through the
model's embedding first, which is what the hot path pays for an unknown track.

    .venv/bin/python benchmarks/models.py [--real ../shared/data/spotify_songs.csv]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.catalog import Catalog
from recommender.clusters import cluster_table
from recommender.ingest import read_catalog
from recommender.recommender import Recommender
from recommender.registry import MODEL_NAMES
from recommender.training import train_model
from recommender.training.synthetic import generate_catalog

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "spotify_songs.csv"
BATCH = 1_000
K = 10


def real_autoencoder(path: Path) -> None:
    catalog = read_catalog(path)
    print(f"## Default autoencoder on {path.name} ({len(catalog):,} unique tracks)")
    model = train_model("autoencoder", catalog)
    curve = model.training_curve
    assert curve is not None
    best = curve.best_epoch
    print(
        f"epochs run {len(curve.train)} (best {best + 1}); kept weights: train MSE "
        f"{curve.train[best]:.4f}, validation MSE {curve.validation[best]:.4f}; last epoch: "
        f"train {curve.train[-1]:.4f}, validation {curve.validation[-1]:.4f}; "
        f"training time {curve.seconds:.1f} s (clustering excluded)"
    )
    assert model.clusters is not None
    print("\n## Clusters of the default autoencoder's embedding (10, KMeans)")
    _print_table(cluster_table(catalog, model.clusters))


def throughput(n_tracks: int, batches: int, seed: int = 0) -> None:
    frame = generate_catalog(n_tracks, seed=seed)
    catalog = Catalog.from_frame(frame, extra_columns=["genre"])
    print(f"\n## Batch recommend at {len(catalog):,} synthetic tracks, k={K}")
    rows = []
    for name in MODEL_NAMES:
        started = time.perf_counter()
        model = train_model(name, catalog)
        trained = time.perf_counter() - started
        for index in ("exact", "hnsw"):  # offline evaluation searches exactly; serving, HNSW
            started = time.perf_counter()
            model = model.with_search(index)
            rows.append(
                {
                    "model": name,
                    "index": index,
                    "dim": model.catalog_embedding.shape[1],
                    "train+cluster s": trained,
                    "index build s": time.perf_counter() - started,
                    **_measure(model, batches, seed),
                }
            )
    _print_table(pd.DataFrame(rows))


def _measure(model: Recommender, batches: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    seeds = [rng.integers(0, len(model.catalog), BATCH) for _ in range(batches + 1)]
    unknown = np.full(BATCH, -1)
    model.recommend(seeds[0], K)  # warm-up: page in the catalog, allocate the blocks
    catalog_s = _timed(lambda s: model.recommend(s, K), seeds[1:])
    feature_s = _timed(lambda s: model.recommend(unknown, K, model.catalog.features[s]), seeds[1:])
    embed_s = _timed(lambda s: model.embed(model.catalog.features[s]), seeds[1:])
    return {
        "catalog seeds/s": BATCH / catalog_s,
        "feature seeds/s": BATCH / feature_s,
        "embed ms/batch": embed_s * 1e3,
        "recommend ms/batch": catalog_s * 1e3,
    }


def _timed(run: Callable[[np.ndarray], object], batches: list[np.ndarray]) -> float:
    """Median seconds per batch."""
    times = []
    for batch in batches:
        started = time.perf_counter()
        run(batch)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def _print_table(table: pd.DataFrame) -> None:
    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=REAL)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    if args.real.is_file():
        real_autoencoder(args.real)
    else:
        print(f"{args.real} not found: skipping the real-data autoencoder")
    throughput(args.tracks, args.batches)


if __name__ == "__main__":
    main()
