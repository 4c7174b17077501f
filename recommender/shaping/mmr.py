"""Maximal marginal relevance: a list picked one step at a time over each request's pool.

Step t picks, in every row at once, the open candidate with the largest
(1 - diversity) * similarity to the seed - diversity * (largest similarity to a song already
picked); similarities are the index's scores (cosine, or 1 / (1 + distance)) in the model's
space. A candidate is open while it is valid, unpicked and its artist is under the cap.
"""

from __future__ import annotations

import numpy as np

from recommender.search.exact import Metric, distance_to_score


def select(
    vectors: np.ndarray,
    relevance: np.ndarray,
    valid: np.ndarray,
    artists: np.ndarray,
    seen: np.ndarray,
    cap: np.ndarray,
    k: np.ndarray,
    diversity: np.ndarray,
    metric: Metric,
) -> np.ndarray:
    """(m, max k) columns of the candidates picked, in order; -1 once a row runs out.

    `vectors` (m, F, e) embed the candidates, `relevance` (m, F) is their score against the
    seed, `seen` (m, F) counts the songs of each candidate's artist already in the list (the
    seeds'), `cap` (m,) bounds that count (0: no cap).
    """
    m, width = relevance.shape
    vectors = np.asarray(vectors, np.float32)
    if metric == "cosine":
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=2, keepdims=True), 1e-12)
    squares = np.einsum("mfe,mfe->mf", vectors, vectors)
    weight = diversity.astype(np.float32)[:, None]
    gain = ((1 - weight) * relevance).astype(np.float32)
    closest = np.zeros((m, width), np.float32)
    value = np.empty((m, width), np.float32)
    seen = seen.copy()
    open_ = valid.copy()
    capped = cap > 0
    rows = np.arange(m)
    picks = np.full((m, int(k.max(initial=0))), -1, dtype=np.int64)
    if width == 0:
        return picks
    for step in range(picks.shape[1]):
        if capped.any():
            open_ &= ~capped[:, None] | (seen < cap[:, None])
        if step >= k.min():
            open_[k <= step] = False
        # A row with nothing open picks nothing; its updates below are never read again.
        np.multiply(weight, closest, out=value)
        np.subtract(gain, value, out=value)
        value[~open_] = -np.inf
        best = np.argmax(value, axis=1)
        took = open_[rows, best]
        if not took.any():
            break
        picks[took, step] = best[took]
        open_[rows, best] = False
        similarity = _similarity(vectors, squares, vectors[rows, best], metric)
        np.maximum(closest, similarity, out=closest)
        seen += artists == artists[rows, best][:, None]
    return picks


def _similarity(
    vectors: np.ndarray, squares: np.ndarray, picked: np.ndarray, metric: Metric
) -> np.ndarray:
    """(m, F): each candidate's similarity to its row's picked song."""
    products: np.ndarray = np.matmul(vectors, picked[:, :, None])[:, :, 0]  # einsum: 2x slower
    if metric == "cosine":
        return products
    distance = squares - 2 * products
    distance += np.einsum("me,me->m", picked, picked)[:, None]
    np.maximum(distance, 0.0, out=distance)
    return distance_to_score(np.sqrt(distance, out=distance))
