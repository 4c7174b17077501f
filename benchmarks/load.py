"""Which catalog tracks the benchmark's listeners select: uniformly, or Zipf over popularity.

Listening is skewed: a few songs take most plays. `zipf` draws popularity rank r with
P(r) ∝ 1/r (exponent 1) over every track of the catalog; the order is the catalog's
`popularity` column when it has one (ties in a seeded random order), else a seeded random
permutation. `uniform` is every track alike, the worst case for Encore's answer cache.
"""

from __future__ import annotations

import numpy as np

from producer.events import encode, selection
from recommender.catalog import Catalog

SEED_KINDS = ("uniform", "zipf")


def popularity_order(catalog: Catalog, rng: np.random.Generator) -> np.ndarray:
    """Catalog rows, most popular first."""
    shuffled = rng.permutation(len(catalog))
    if "popularity" not in catalog.extra.columns:
        return shuffled
    popularity = catalog.extra["popularity"].to_numpy(np.float64)[shuffled]
    return shuffled[np.argsort(-popularity, kind="stable")]


def seed_rows(kind: str, catalog: Catalog, n: int, seed: int = 0) -> np.ndarray:
    """`n` catalog rows, the seeds of `n` selections."""
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return rng.integers(0, len(catalog), n)
    if kind == "zipf":
        order = popularity_order(catalog, rng)
        weights = 1.0 / np.arange(1, len(catalog) + 1)
        return order[rng.choice(len(catalog), size=n, p=weights / weights.sum())]
    raise ValueError(f"unknown seed distribution {kind!r}; choose from {', '.join(SEED_KINDS)}")


def selections(
    track_ids: np.ndarray, rows: np.ndarray, tag: str, seed: int = 0
) -> list[tuple[bytes, bytes]]:
    """One encoded song-selected event per row, by one of 10,000 listeners."""
    users = np.random.default_rng(seed).integers(0, 10_000, len(rows))
    return [
        encode(selection(f"user-{u}", track_id=str(track_ids[r]), event_id=f"{tag}-{i}"))
        for i, (r, u) in enumerate(zip(rows, users, strict=True))
    ]


def repeat_share(rows: np.ndarray) -> float:
    """The share of selections whose seed was selected before: an unbounded cache's hit rate."""
    return 1.0 - len(np.unique(rows)) / max(len(rows), 1)
