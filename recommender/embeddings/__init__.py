"""The spaces neighbours are searched in: each maps standardised features (n, d) to (n, e).

Served embeddings are plain numpy (`Identity`, `PCAEmbedding`, `EncoderEmbedding`); fitting the
ones that learn with torch lives in `recommender.training`. Each has `state()` (the arrays
saved in an artifact) and a loader from those arrays, named in `recommender.registry`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

__all__ = ["Embedding", "Identity", "place", "query_zeroed", "tied_columns"]


class Embedding(Protocol):
    """Maps standardised features (n, d) to the space neighbours are searched in (n, e)."""

    def transform(self, scaled: np.ndarray) -> np.ndarray: ...

    def state(self) -> dict[str, np.ndarray]: ...


class Identity:
    """The standardised features themselves (plain KNN)."""

    def transform(self, scaled: np.ndarray) -> np.ndarray:
        return scaled

    def state(self) -> dict[str, np.ndarray]:
        return {}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> Identity:
        return cls()


def query_zeroed(embedding: Embedding, n_features: int) -> np.ndarray:
    """Coordinates of the embedding that a query leaves at zero: none, except for an embedding
    whose songs carry terms their queries must not (`SupervisedEmbedding.query_zeroed`)."""
    return _columns(embedding, "query_zeroed", n_features)


def tied_columns(embedding: Embedding, n_features: int) -> np.ndarray:
    """Coordinates in which songs with the same labels are equal (and so equally distant
    from any query): none, except for an embedding that places songs at their labels
    (`SupervisedEmbedding.tied_columns`)."""
    return _columns(embedding, "tied_columns", n_features)


def _columns(embedding: Embedding, method: str, n_features: int) -> np.ndarray:
    """The embedding's `method(n_features)` as int64 column indices; none if it has no such
    method."""
    columns = getattr(embedding, method, None)
    if columns is None:
        return np.empty(0, np.int64)
    return np.asarray(columns(n_features), dtype=np.int64)


def place(
    embedding: Embedding,
    scaled: np.ndarray,
    values: Mapping[str, Sequence[object]],
    artists: Sequence[str] | np.ndarray | None = None,
) -> np.ndarray:
    """Songs (standardised features (n, d), their label columns' values, and their artists)
    in the space: `transform`, except for an embedding that places songs by labels
    (`SupervisedEmbedding.place`)."""
    placed = getattr(embedding, "place", None)
    if placed is None:
        return np.asarray(embedding.transform(scaled), dtype=np.float32)
    return np.asarray(placed(scaled, values, artists), dtype=np.float32)
