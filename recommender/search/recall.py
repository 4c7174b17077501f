"""Recall of an approximate index against exact search: the number every ANN claim rests on."""

from __future__ import annotations

import numpy as np

from recommender.search.exact import NeighbourIndex


def index_recall(
    index: NeighbourIndex,
    exact: NeighbourIndex,
    queries: np.ndarray,
    k: int = 10,
    exclude: np.ndarray | None = None,
) -> float:
    """Mean share of the exact top k that `index` also returns in its top k.

    With `exclude` (one position per query, -1 for none) both indexes are searched for k + 1
    and the excluded position is dropped first, as `Recommender` does for a catalog seed, so
    the seed itself never counts as a hit.
    """
    extra = 0 if exclude is None else 1
    found, _ = index.search(queries, k + extra)
    truth, _ = exact.search(queries, k + extra)
    if exclude is not None:
        found = _drop(found, np.asarray(exclude, dtype=np.int64), k)
        truth = _drop(truth, np.asarray(exclude, dtype=np.int64), k)
    truth = truth[:, :k]
    found = found[:, :k]
    wanted = np.maximum((truth >= 0).sum(axis=1), 1)
    # Positions within a row are distinct, so counting pairwise matches counts the overlap.
    hits = ((found[:, :, None] == truth[:, None, :]) & (truth[:, None, :] >= 0)).sum(axis=(1, 2))
    return float(np.mean(hits / wanted))


def _drop(positions: np.ndarray, exclude: np.ndarray, k: int) -> np.ndarray:
    """First k positions of each row that are not the row's excluded one (-1 padded)."""
    keep = (positions != exclude[:, None]) & (positions >= 0)
    order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
    kept = np.take_along_axis(positions, order, axis=1)
    return np.where(np.take_along_axis(keep, order, axis=1), kept, -1)
