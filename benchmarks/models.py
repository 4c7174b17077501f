"""Encore's models measured: the learned models trained on a real export (training time,
epochs, losses, clusters), and batch recommend throughput of every model at 100,000
synthetic tracks, with exact search and with the HNSW graph the service uses.

Throughput is seeds per second for batches of 1,000 seeds, k = 10: "catalog seeds" are
catalog rows (embedding looked up), "feature seeds" arrive as raw features and go through the
model's embedding first, which is what the hot path pays for an unknown track; "embed ms" is
that embedding alone for 1,000 seeds. `supervised x114` is the label-trained model with 114
labels (the synthetic genres crossed with 19 random groups), the width a catalog with a
hundred genres gives its embedding.

    .venv/bin/python benchmarks/models.py [--real EXPORT.csv --label-column GENRE_COLUMN]
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
from recommender.ingest import load_catalog
from recommender.recommender import Recommender
from recommender.registry import MODEL_NAMES
from recommender.training import train_model
from recommender.training.synthetic import generate_catalog

BATCH = 1_000
K = 10
WIDE_GROUPS = 19  # 6 synthetic genres x 19 groups = 114 labels


def real_models(path: Path, label_column: str | None) -> None:
    """Train the learned models on a real export, every extra it has (`--features auto`)."""
    labels = [label_column] if label_column else []
    catalog = load_catalog(path, "auto", extra_label_columns=labels).catalog
    print(
        f"## Learned models on {path.name} ({len(catalog):,} tracks, "
        f"{len(catalog.canonical_rows):,} songs, {len(catalog.feature_names)} features)"
    )
    names = ["autoencoder", *(["supervised"] if label_column else [])]
    for name in names:
        options = {"label_column": label_column} if name == "supervised" else {}
        started = time.perf_counter()
        model = train_model(name, catalog, options=options)
        total = time.perf_counter() - started
        curve = model.training_curve
        assert curve is not None
        best, loss = curve.best_epoch, curve.extra.get("loss", "MSE")
        print(
            f"{name}: epochs run {len(curve.train)} (best {best + 1}); kept weights: train "
            f"{loss} {curve.train[best]:.4f}, validation {curve.validation[best]:.4f}; "
            f"training {curve.seconds:.1f} s, with encoding and clustering the catalog "
            f"{total:.1f} s"
        )
        if name == "autoencoder" and model.clusters is not None:
            print("\n### Clusters of the autoencoder's embedding (10, k-means)")
            _print_table(cluster_table(catalog, model.clusters))


def throughput(n_tracks: int, batches: int, seed: int = 0) -> None:
    frame = generate_catalog(n_tracks, seed=seed)
    groups = np.random.default_rng(seed).integers(0, WIDE_GROUPS, len(frame))
    frame["wide_genre"] = [f"{g}-{i}" for g, i in zip(frame["genre"], groups, strict=True)]
    catalog = Catalog.from_frame(frame, extra_columns=["genre", "wide_genre"])
    print(f"\n## Batch recommend at {len(catalog):,} synthetic tracks, k={K}")
    models = {name: (name, {}) for name in MODEL_NAMES}
    models["supervised x114"] = ("supervised", {"label_column": "wide_genre"})
    rows = []
    for label, (name, options) in models.items():
        started = time.perf_counter()
        model = train_model(name, catalog, options=options)
        trained = time.perf_counter() - started
        for index in ("exact", "hnsw"):  # offline evaluation searches exactly; serving, HNSW
            started = time.perf_counter()
            model = model.with_search(index)
            rows.append(
                {
                    "model": label,
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
    parser.add_argument("--real", type=Path, help="a real export to train the learned models on")
    parser.add_argument("--label-column", help="its label column, for the supervised model")
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--no-throughput", action="store_true")
    args = parser.parse_args()
    if args.real is not None:
        real_models(args.real, args.label_column)
    if not args.no_throughput:
        throughput(args.tracks, args.batches)


if __name__ == "__main__":
    main()
