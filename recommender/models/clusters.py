"""KMeans over a model's catalog embedding: a cluster id per track, and what each cluster holds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.catalog import Catalog

# Label columns a cluster table summarises when the catalog has them, to help name clusters.
LABEL_COLUMNS = ("genre", "playlist_genre")


def fit_clusters(embedding: np.ndarray, n_clusters: int = 10, seed: int = 0) -> np.ndarray:
    """(n,) int64 cluster ids in [0, n_clusters), numbered by decreasing cluster size."""
    embedding = np.asarray(embedding, dtype=np.float32)
    if n_clusters < 1:
        raise ValueError("n_clusters must be positive")
    distinct = len(np.unique(embedding, axis=0))
    if distinct < n_clusters:
        raise ValueError(f"cannot form {n_clusters} clusters from {distinct} distinct tracks")
    # Imported here so that loading artifacts (cluster tables) does not import scikit-learn.
    from sklearn.cluster import KMeans

    # One k-means++ start (sklearn's default): enough to name groups, cheap at 100k+ tracks.
    labels = KMeans(n_clusters, n_init=1, random_state=seed).fit_predict(embedding)
    # KMeans numbering is arbitrary; by size it reads better and stays stable across refits.
    sizes = np.bincount(labels, minlength=n_clusters)
    order = np.lexsort((np.arange(n_clusters), -sizes))
    renumber = np.empty(n_clusters, dtype=np.int64)
    renumber[order] = np.arange(n_clusters)
    return np.asarray(renumber[labels], dtype=np.int64)


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
