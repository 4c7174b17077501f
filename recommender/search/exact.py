"""Nearest-neighbour search over an embedding matrix: exact, batched and chunked."""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np

from recommender.growable import Growable

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
    """Brute force with one matrix product per chunk of queries and a partial sort.

    `extended` appends vectors and marks positions deleted (a deleted position is never
    returned) in buffers shared with the index it came from, each index seeing its own length.
    """

    # Keep each (chunk x catalog) score block near this many floats (~32 MB).
    _BLOCK = 8_000_000

    def __init__(self, vectors: np.ndarray, metric: Metric = "euclidean") -> None:
        self.metric = metric
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._vectors = normalise_rows(vectors) if metric == "cosine" else vectors
        # Added to -2 q.v (euclidean: |v|^2) or to -q.v (cosine: 0); +inf at deleted positions.
        sq_norms = np.einsum("ij,ij->i", self._vectors, self._vectors)
        self._offset = sq_norms if metric == "euclidean" else None
        self._growth: tuple[Growable, Growable] | None = None

    def __len__(self) -> int:
        return len(self._vectors)

    def extended(self, vectors: np.ndarray, deleted: np.ndarray) -> ExactIndex:
        """A new index with `vectors` at the next positions and `deleted` never returned.

        O(new rows), amortised: the buffers grow by doubling. Only the newest index of a line
        may be extended; older ones keep answering over their own positions.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if self.metric == "cosine":
            vectors = normalise_rows(vectors)
        if not self.is_newest():
            raise ValueError("only the newest index of a live catalog can be extended")
        growth = self._growth
        if growth is None:  # a plain index is copied (and may be extended again)
            offset = self._offset if self._offset is not None else np.zeros(len(self), np.float32)
            growth = (Growable(self._vectors), Growable(offset))
        rows, offsets = growth
        added = np.einsum("ij,ij->i", vectors, vectors) if self.metric == "euclidean" else None
        rows.append(vectors)
        offsets.append(added if added is not None else np.zeros(len(vectors), np.float32))
        offsets.set(np.asarray(deleted, dtype=np.int64), np.inf)  # seen by older indexes too
        index = ExactIndex.__new__(ExactIndex)
        index.metric = self.metric
        index._vectors = rows.view()
        index._offset = offsets.view()
        index._growth = growth
        return index

    def is_newest(self) -> bool:
        """Whether `extended` may be called: no newer index shares this one's buffers."""
        return self._growth is None or len(self._growth[0]) == len(self)

    @property
    def dim(self) -> int:
        return int(self._vectors.shape[1])

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
        if self._offset is not None:
            cost += self._offset
        top = (
            np.argpartition(cost, k - 1, axis=1)[:, :k]
            if k < cost.shape[1]
            else (np.broadcast_to(np.arange(cost.shape[1]), cost.shape).copy())
        )
        top_cost = np.take_along_axis(cost, top, axis=1)
        order = np.argsort(top_cost, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        top_cost = np.take_along_axis(top_cost, order, axis=1)
        deleted = np.isinf(top_cost)  # fewer living rows than k
        top[deleted] = -1
        if self.metric == "cosine":
            return top, np.where(deleted, np.float32(0), -top_cost)
        sq = top_cost + np.einsum("ij,ij->i", queries, queries)[:, None]
        scores = distance_to_score(np.sqrt(np.maximum(sq, 0.0)))
        return top, np.where(deleted, np.float32(0), scores)
