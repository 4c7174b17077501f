"""One model following a live catalog: new rows embedded with its own fitted transform, each
assigned to its nearest cluster centroid, its index extended. Nothing is refitted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from recommender.clusters import assign
from recommender.embeddings import place
from recommender.growable import Growable
from recommender.live_catalog import CatalogChange
from recommender.recommender import Recommender

__all__ = ["ModelGrowth", "Prepared", "follow", "prepare"]


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


@dataclass(frozen=True)
class Prepared:
    """A model's share of an update, computed before anything shared changes."""

    model: Recommender
    growth: ModelGrowth
    vectors: np.ndarray  # (new rows, e): the new tracks embedded
    clusters: np.ndarray | None  # (new rows,): their nearest centroids


def prepare(
    model: Recommender, features: np.ndarray, labels: Mapping[str, Sequence[object]] | None = None
) -> Prepared:
    """Embed and cluster the new tracks' raw `features` (and their `labels`, column -> one
    value per track, for a model that places songs by them); raises if it cannot follow."""
    growth = model.growth or ModelGrowth.of(model)
    if len(growth.embedding) != len(model.catalog):
        raise ValueError(f"{model.name}: only the newest version of a live model can be updated")
    if not callable(getattr(model.index, "is_newest", None)):
        raise TypeError(f"{model.name}: its index ({type(model.index).__name__}) cannot grow")
    if not model.index.is_newest():  # type: ignore[attr-defined]
        raise ValueError(f"{model.name}: only the newest index of a live model can be updated")
    width = model.catalog_embedding.shape[1]
    vectors = np.empty((0, width), np.float32)
    if len(features):
        vectors = place(model.embedding, model.scaler.transform(features), labels or {})
    clusters = None
    if growth.clusters is not None and growth.centroids is not None:
        clusters = assign(vectors, growth.centroids)
    return Prepared(model, growth, vectors, clusters)


def follow(prepared: Prepared, change: CatalogChange) -> Recommender:
    """The prepared model on `change.catalog`: its new rows appended and indexed."""
    model, growth = prepared.model, prepared.growth
    growth.embedding.append(prepared.vectors)
    if growth.clusters is not None and prepared.clusters is not None:
        growth.clusters.append(prepared.clusters)
    embedding = growth.embedding.view()
    index = model.index.extended(  # type: ignore[attr-defined]
        embedding[change.position_rows], change.dead_positions
    )
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
