"""One model following a live catalog: new rows embedded with its own fitted transform, each
assigned to its nearest cluster centroid, its index extended. Nothing is refitted."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.clusters import assign
from recommender.growable import Growable
from recommender.live_catalog import CatalogChange
from recommender.recommender import Recommender

__all__ = ["ModelGrowth", "follow"]


@dataclass
class ModelGrowth:
    """A model's growing buffers: its catalog embedding, cluster ids and their centroids."""

    embedding: Growable  # (rows, e) float32
    clusters: Growable | None  # (rows,) int64
    centroids: np.ndarray | None  # (clusters, e): the mean embedding of each cluster

    @classmethod
    def of(cls, model: Recommender) -> ModelGrowth:
        """Built once, on the first update (O(n)); later updates reuse it."""
        embedding = model.catalog_embedding
        if model.clusters is None:
            return cls(Growable(embedding), None, None)
        ids = model.clusters
        count = int(ids.max(initial=-1)) + 1
        sizes = np.maximum(np.bincount(ids, minlength=count), 1).astype(np.float64)
        sums = np.stack(
            [
                np.bincount(ids, weights=embedding[:, j], minlength=count)
                for j in range(embedding.shape[1])
            ],
            axis=1,
        )
        centroids = (sums / sizes[:, None]).astype(np.float32)
        return cls(Growable(embedding), Growable(ids), centroids)


def follow(model: Recommender, change: CatalogChange) -> Recommender:
    """`model` on `change.catalog`: the same fitted model, its new rows embedded and indexed."""
    growth = model.growth or ModelGrowth.of(model)
    if len(growth.embedding) != len(model.catalog):
        raise ValueError(f"{model.name}: only the newest version of a live model can be updated")
    features = change.catalog.features[change.new_rows]
    vectors = (
        model.embed(features)
        if len(features)
        else np.empty((0, model.catalog_embedding.shape[1]), np.float32)
    )
    growth.embedding.append(vectors)
    if growth.clusters is not None and growth.centroids is not None:
        growth.clusters.append(assign(vectors, growth.centroids))
    embedding = growth.embedding.view()
    extend = getattr(model.index, "extended", None)
    if extend is None:
        raise TypeError(f"{model.name}: its index ({type(model.index).__name__}) cannot grow")
    index = extend(embedding[change.position_rows], change.dead_positions)
    return Recommender(
        model.name,
        change.catalog,
        model.scaler,
        model.embedding,
        model.metric,
        model.version,
        embedding,
        index,
        clusters=None if growth.clusters is None else growth.clusters.view(),
        options=model.options,
        training_curve=model.training_curve,
        growth=growth,
    )
