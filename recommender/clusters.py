"""KMeans over a model's catalog embedding: a cluster id per track, and what each cluster holds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.catalog import Catalog

# Label columns a cluster table summarises when the catalog has them, to help name clusters.
LABEL_COLUMNS = ("genre", "playlist_genre")


def fit_clusters(embedding: np.ndarray, n_clusters: int = 10, seed: int = 0) -> np.ndarray:
    """(n,) int64 cluster ids in [0, n_clusters), numbered by decreasing cluster size."""
    ids, _ = kmeans(embedding, n_clusters, seed)
    return ids


def kmeans(
    embedding: np.ndarray, n_clusters: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with k-means++ starts, in numpy: (ids (n,), centroids (n_clusters, e)).

    Fitted on at most `_FIT_SAMPLE` rows (every row is then assigned to its nearest centroid),
    best of `_STARTS` starts by inertia. Plain numpy so that the service can cluster a model it
    builds in place without scikit-learn; ids are numbered by decreasing cluster size, which
    reads better and stays stable across refits.
    """
    points = np.asarray(embedding, dtype=np.float32)
    if n_clusters < 1:
        raise ValueError("n_clusters must be positive")
    distinct = len(np.unique(points, axis=0))
    if distinct < n_clusters:
        raise ValueError(f"cannot form {n_clusters} clusters from {distinct} distinct tracks")
    rng = np.random.default_rng(seed)
    sample = points
    if len(points) > _FIT_SAMPLE:
        sample = points[np.sort(rng.choice(len(points), _FIT_SAMPLE, replace=False))]
    best: tuple[float, np.ndarray] | None = None
    for _ in range(_STARTS):
        centroids = _lloyd(sample, _plus_plus(sample, n_clusters, rng))
        inertia = float(_nearest(sample, centroids)[1].sum())
        if best is None or inertia < best[0]:
            best = (inertia, centroids)
    assert best is not None
    centroids = best[1]
    labels = assign(points, centroids)
    sizes = np.bincount(labels, minlength=n_clusters)
    order = np.lexsort((np.arange(n_clusters), -sizes))
    renumber = np.empty(n_clusters, dtype=np.int64)
    renumber[order] = np.arange(n_clusters)
    return renumber[labels], centroids[order]


def assign(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The nearest centroid of each point (euclidean), in chunks to bound memory."""
    points = np.asarray(points, dtype=np.float32)
    labels = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), 65_536):
        labels[start : start + 65_536] = _nearest(points[start : start + 65_536], centroids)[0]
    return labels


_FIT_SAMPLE = 50_000
_STARTS = 3
_ITERATIONS = 100


def _nearest(points: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    squared = (
        np.einsum("ij,ij->i", points, points)[:, None]
        - 2.0 * points @ centroids.T
        + np.einsum("ij,ij->i", centroids, centroids)[None, :]
    )
    nearest = squared.argmin(axis=1)
    return nearest, np.maximum(squared[np.arange(len(points)), nearest], 0.0)


def _plus_plus(points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++: each next start is drawn with probability proportional to squared distance."""
    centroids = [points[rng.integers(len(points))]]
    closest = np.full(len(points), np.inf, dtype=np.float64)
    for _ in range(1, n):
        step = points - centroids[-1]
        closest = np.minimum(closest, np.einsum("ij,ij->i", step, step))
        total = closest.sum()
        pick = (
            rng.choice(len(points), p=closest / total) if total > 0 else rng.integers(len(points))
        )
        centroids.append(points[pick])
    return np.array(centroids, dtype=np.float32)


def _lloyd(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    for _ in range(_ITERATIONS):
        labels = _nearest(points, centroids)[0]
        sums = np.zeros_like(centroids, dtype=np.float64)
        np.add.at(sums, labels, points)
        counts = np.bincount(labels, minlength=len(centroids))
        moved = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centroids)
        moved = moved.astype(np.float32)
        if np.allclose(moved, centroids, atol=1e-6):
            return moved
        centroids = moved
    return centroids


def cluster_table(catalog: Catalog, clusters: np.ndarray) -> pd.DataFrame:
    """One row per cluster: size, share of the catalog, mean raw features, top label if known."""
    frame = pd.DataFrame(catalog.features, columns=list(catalog.feature_names))
    frame.insert(0, "cluster", np.asarray(clusters, dtype=np.int64))
    groups = frame.groupby("cluster")
    table = groups.mean()
    table.insert(0, "size", groups.size())
    table.insert(1, "share", table["size"] / len(frame))
    label = next((c for c in LABEL_COLUMNS if c in catalog.extra.columns), None)
    if label is not None:
        labels = pd.Series(catalog.labels(label), name=label).astype(str)
        top = labels.groupby(frame["cluster"]).agg(lambda s: _top_share(s))
        table[f"top_{label}"] = top
    return table.reset_index()


def _top_share(labels: pd.Series) -> str:
    counts = labels.value_counts()
    return f"{counts.index[0]} ({counts.iloc[0] / len(labels):.0%})"
