"""Clusters of a model as the page shows them: sizes, mean features, top labels and a short
generated name; a model trained without clusters gets k-means over its embedding, once (a live
catalog's new songs then join their nearest centroid: k-means over 100,000 songs takes ~9 s)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from recommender.catalog import Catalog
from recommender.clusters import LABEL_COLUMNS, assign, cluster_table, kmeans
from recommender.recommender import Recommender
from web.contract import ClusterInfo, LabelShare

N_CLUSTERS = 10
LABEL_SEPARATOR = "|"  # merged rows keep every label: "pop|edm"

# (high, low) words per feature: what a cluster's mean far above or below the catalog's says.
WORDS: dict[str, tuple[str, str]] = {
    "acousticness": ("acoustic", "electric"),
    "danceability": ("danceable", "undanceable"),
    "energy": ("energetic", "calm"),
    "instrumentalness": ("instrumental", "vocal"),
    "liveness": ("live", "studio"),
    "loudness": ("loud", "quiet"),
    "speechiness": ("wordy", "melodic"),
    "tempo": ("fast", "slow"),
    "valence": ("cheerful", "moody"),
    "key": ("high-key", "low-key"),
    "mode": ("major", "minor"),
    "popularity": ("popular", "obscure"),
    "explicit": ("explicit", "clean"),
    "year": ("recent", "older"),
    "duration_ms": ("long", "short"),
}


Clustering = tuple[np.ndarray, np.ndarray]  # ids (rows,), centroids (clusters, e)


def fit(recommender: Recommender) -> Clustering:
    """k-means (numpy, seeded) over the model's catalog embedding."""
    embedding = recommender.catalog_embedding
    distinct = len(np.unique(embedding, axis=0))
    return kmeans(embedding, max(1, min(N_CLUSTERS, distinct)), seed=0)


def grown(previous: Clustering, recommender: Recommender) -> Clustering | None:
    """The clusters of a grown catalog (a live update, the same model): earlier rows keep
    theirs, rows added since join their nearest centroid; None when the catalog is not a
    growth of the clustered one (then k-means runs anew)."""
    ids, centroids = previous
    embedding = recommender.catalog_embedding
    if len(ids) > len(embedding) or centroids.shape[1] != embedding.shape[1]:
        return None
    if len(ids) == len(embedding):
        return previous
    return np.concatenate([ids, assign(embedding[len(ids) :], centroids)]), centroids


def label_column(catalog: Catalog) -> str | None:
    return next((c for c in LABEL_COLUMNS if c in catalog.extra.columns), None)


def describe(catalog: Catalog, ids: np.ndarray) -> list[ClusterInfo]:
    table = cluster_table(catalog, ids)
    features = list(catalog.feature_names)
    mean = catalog.features.mean(axis=0)
    std = catalog.features.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    column = label_column(catalog)
    labels = None if column is None else catalog.labels(column)
    infos = []
    for record in table.to_dict("records"):
        cluster = int(record["cluster"])
        means = {f: float(record[f]) for f in features}
        tops = [] if labels is None else top_labels(labels[ids == cluster])
        z = (np.array([means[f] for f in features]) - mean) / std
        infos.append((cluster, record, means, tops, z))
    names = unique_names([(z, tops) for *_, tops, z in infos], features)
    return [
        ClusterInfo(
            cluster=cluster,
            name=name,
            size=int(record["size"]),
            share=float(record["share"]),
            features=means,
            top_labels=tops,
        )
        for (cluster, record, means, tops, _), name in zip(infos, names, strict=True)
    ]


def top_labels(labels: np.ndarray, count: int = 3) -> list[LabelShare]:
    """The most common labels of a cluster; share = fraction of its tracks carrying each."""
    if len(labels) == 0:
        return []
    counted: Counter[str] = Counter()
    for value in labels.tolist():
        if isinstance(value, str) and value:
            counted.update(set(value.split(LABEL_SEPARATOR)))
    return [LabelShare(label=k, share=v / len(labels)) for k, v in counted.most_common(count)]


def short_name(z: np.ndarray, tops: list[LabelShare], features: list[str], words: int = 2) -> str:
    """e.g. "energetic · danceable · edm": the features furthest from the catalog's mean."""
    order = np.argsort(-np.abs(z), kind="stable")
    parts = []
    for i in order[:words]:
        high, low = WORDS.get(features[i], (f"high {features[i]}", f"low {features[i]}"))
        parts.append(high if z[i] >= 0 else low)
    if tops:
        parts.append(tops[0].label)
    return " · ".join(parts)


def unique_names(
    clusters: list[tuple[np.ndarray, list[LabelShare]]], features: list[str]
) -> list[str]:
    """One name per cluster; where two would read the same, both take a third feature, and
    any still alike are numbered ("... #2")."""
    words = [2] * len(clusters)
    names = [short_name(z, t, features, 2) for z, t in clusters]
    for _ in range(2):
        repeated = {n for n, c in Counter(names).items() if c > 1}
        if not repeated:
            return names
        words = [w + (n in repeated) for n, w in zip(names, words, strict=True)]
        names = [short_name(z, t, features, w) for (z, t), w in zip(clusters, words, strict=True)]
    seen: Counter[str] = Counter()
    numbered = []
    for name in names:
        seen[name] += 1
        numbered.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return numbered
