"""Nearest-neighbour search over an embedding matrix: exact (`exact`), HNSW (`hnsw`) and the
recall of one against the other (`recall`). `build_index` chooses between the two."""

from __future__ import annotations

from typing import Literal

import numpy as np

from recommender.search.exact import ExactIndex, Metric, NeighbourIndex
from recommender.search.hnsw import HnswIndex, HnswParams, load_index

__all__ = [
    "DEFAULT_THRESHOLD",
    "ExactIndex",
    "HnswIndex",
    "HnswParams",
    "IndexKind",
    "Metric",
    "NeighbourIndex",
    "build_index",
    "load_index",
]

IndexKind = Literal["auto", "exact", "hnsw"]

# Exact search costs ~1/rows: on 2 cores it answers ~42,000 queries/s at 10k rows, ~25,000 at
# 15k and ~22,000 at 20k (`benchmarks/ann.py --exact-sweep 10000 15000 20000`). The index alone
# should leave room for Kafka and JSON (the same ≥ 40,000/s budget as at 1M tracks), so exact
# search stops at 10k; above it the graph is several times faster at recall@10 ≈ 0.99.
DEFAULT_THRESHOLD = 10_000


def build_index(
    vectors: np.ndarray,
    metric: Metric = "euclidean",
    kind: IndexKind = "auto",
    threshold: int = DEFAULT_THRESHOLD,
    params: HnswParams | None = None,
    threads: int | None = None,
) -> NeighbourIndex:
    """Exact search for fewer than `threshold` rows (or `kind="exact"`), HNSW otherwise."""
    if kind == "exact" or (kind == "auto" and len(vectors) < threshold):
        return ExactIndex(vectors, metric=metric)
    if kind not in ("auto", "hnsw"):
        raise ValueError(f"unknown index kind {kind!r}; expected 'auto', 'exact' or 'hnsw'")
    return HnswIndex.build(vectors, metric, params, threads)
