"""Nearest-neighbour search over an embedding matrix: exact, batched and chunked."""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np

Metric = Literal["euclidean", "cosine"]


class NeighbourIndex(Protocol):
    """Finds the k nearest rows of the indexed matrix for each query row."""

    metric: Metric

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (positions (n, k) int64, scores (n, k) float32), best first.

        Scores are "higher is more similar": cosine similarity, or 1 / (1 + distance).
        """
        ...


def distance_to_score(distances: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + distances)).astype(np.float32)


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit: np.ndarray = matrix / np.maximum(norms, 1e-12)
    return unit.astype(np.float32)


class ExactIndex:
    """Brute force with one matrix product per chunk of queries and a partial sort."""

    # Keep each (chunk x catalog) score block near this many floats (~32 MB).
    _BLOCK = 8_000_000

    def __init__(self, vectors: np.ndarray, metric: Metric = "euclidean") -> None:
        self.metric = metric
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._vectors = normalise_rows(vectors) if metric == "cosine" else vectors
        self._sq_norms = np.einsum("ij,ij->i", self._vectors, self._vectors)

    def __len__(self) -> int:
        return len(self._vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if self.metric == "cosine":
            queries = normalise_rows(queries)
        k = min(k, len(self._vectors))
        n = len(queries)
        positions = np.empty((n, k), dtype=np.int64)
        scores = np.empty((n, k), dtype=np.float32)
        chunk = max(1, self._BLOCK // max(1, len(self._vectors)))
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            positions[start:stop], scores[start:stop] = self._search_block(queries[start:stop], k)
        return positions, scores

    def _search_block(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        products = queries @ self._vectors.T
        if self.metric == "cosine":
            # Largest similarity first: partial sort of the negation.
            cost = np.negative(products, out=products)
        else:
            # |q - v|^2 = |q|^2 - 2 q.v + |v|^2; |q|^2 is constant per row, added back below.
            cost = np.multiply(products, -2.0, out=products)
            cost += self._sq_norms
        top = (
            np.argpartition(cost, k - 1, axis=1)[:, :k]
            if k < cost.shape[1]
            else (np.broadcast_to(np.arange(cost.shape[1]), cost.shape).copy())
        )
        top_cost = np.take_along_axis(cost, top, axis=1)
        order = np.argsort(top_cost, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        top_cost = np.take_along_axis(top_cost, order, axis=1)
        if self.metric == "cosine":
            return top, -top_cost
        sq = top_cost + np.einsum("ij,ij->i", queries, queries)[:, None]
        return top, distance_to_score(np.sqrt(np.maximum(sq, 0.0)))
