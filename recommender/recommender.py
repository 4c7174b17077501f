"""A recommender: standardise, embed, search. Models differ only in their embedding."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from recommender.catalog import Catalog
from recommender.embeddings import Embedding, Identity, place, query_zeroed, tied_columns
from recommender.scaling import Standardizer
from recommender.search import (
    DEFAULT_THRESHOLD,
    ExactIndex,
    IndexKind,
    Metric,
    NeighbourIndex,
    build_index,
)
from recommender.shaping import Shape, ShapedNeighbours, shaped_recommend

if TYPE_CHECKING:
    from recommender.live_model import ModelGrowth


def new_version(now: datetime | None = None) -> str:
    """A version id that sorts by creation time: `20260101T120000123456Z`."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")


@dataclass(frozen=True)
class Neighbours:
    """Recommendations for a batch of seeds: catalog rows and scores, best first.

    Each row holds k entries; a catalog smaller than k leaves the rest as row -1, score 0.
    """

    rows: np.ndarray  # (n, k) int64
    scores: np.ndarray  # (n, k) float32


@dataclass(frozen=True)
class TrainingCurve:
    """Reconstruction MSE per epoch of a trained embedding, and how long training took."""

    train: tuple[float, ...]
    validation: tuple[float, ...] = ()  # empty when trained without a validation split
    best_epoch: int = 0  # 0-based; the weights kept are this epoch's
    seconds: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "train_mse": list(self.train),
            "validation_mse": list(self.validation),
            "best_epoch": self.best_epoch,
            "seconds": self.seconds,
            **dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingCurve:
        known = {"train_mse", "validation_mse", "best_epoch", "seconds"}
        return cls(
            train=tuple(float(v) for v in data["train_mse"]),
            validation=tuple(float(v) for v in data.get("validation_mse", ())),
            best_epoch=int(data.get("best_epoch", 0)),
            seconds=float(data.get("seconds", 0.0)),
            extra={k: v for k, v in data.items() if k not in known},
        )


class Recommender:
    """Content-based recommendations from one embedding of a catalog.

    The catalog is embedded once at construction (or loaded from an artifact), so serving a
    catalog seed costs a lookup and a search; only feature seeds go through the embedding.
    `clusters` (one id per catalog row), `options` and `training_curve` describe how the model
    was trained; they travel with it into its artifact.

    Immutable once built: its version is decided at construction (a new timestamp unless one
    is given) and a different index makes a new recommender (`with_index`, `with_search`).
    """

    def __init__(
        self,
        name: str,
        catalog: Catalog,
        scaler: Standardizer,
        embedding: Embedding,
        metric: Metric = "euclidean",
        version: str | None = None,
        catalog_embedding: np.ndarray | None = None,
        index: NeighbourIndex | None = None,
        *,
        clusters: np.ndarray | None = None,
        options: Mapping[str, Any] | None = None,
        training_curve: TrainingCurve | None = None,
        growth: ModelGrowth | None = None,
    ) -> None:
        if clusters is not None and np.shape(clusters) != (len(catalog),):
            raise ValueError(f"clusters must hold one id per catalog row, got {np.shape(clusters)}")
        self.name = name
        self.catalog = catalog
        self.scaler = scaler
        self.embedding = embedding
        self.metric: Metric = metric
        self.version: str = version or new_version()
        if catalog_embedding is None:  # labelled songs placed by their labels, if it does
            scaled = scaler.transform(catalog.features)
            catalog_embedding = place(embedding, scaled, catalog.extra, catalog.artists)
        self.catalog_embedding = np.ascontiguousarray(catalog_embedding, dtype=np.float32)
        self.index: NeighbourIndex = index or ExactIndex(
            self.catalog_embedding[catalog.canonical_rows], metric=metric
        )
        self.clusters = None if clusters is None else np.asarray(clusters, dtype=np.int64)
        # Coordinates a query leaves at zero (`SupervisedEmbedding`'s `labels` geometry).
        self.query_zeroed = query_zeroed(embedding, catalog.features.shape[1])
        # Coordinates songs of the same labels share: the rules stage spreads artists there.
        self.tied_columns = tied_columns(embedding, catalog.features.shape[1])
        self.options: Mapping[str, Any] = dict(options or {})
        self.training_curve = training_curve
        # The buffers a live catalog grows this model's embedding and clusters in
        # (`recommender.live_model`); None until the first update.
        self.growth = growth
        self._built = True

    def __setattr__(self, name: str, value: object) -> None:
        if getattr(self, "_built", False):
            raise AttributeError(f"a built Recommender is immutable (setting {name!r})")
        object.__setattr__(self, name, value)

    def with_index(self, index: NeighbourIndex) -> Recommender:
        """The same model searching with `index` (over its canonical rows), as a new object."""
        return Recommender(
            self.name,
            self.catalog,
            self.scaler,
            self.embedding,
            self.metric,
            self.version,
            self.catalog_embedding,
            index,
            clusters=self.clusters,
            options=self.options,
            training_curve=self.training_curve,
        )

    def unspread(self) -> Recommender:
        """The same model with no songs seen as tied: its lists as searched and capped, never
        spread among artists (`shaping.spread`); what the spread is measured against."""
        twin = copy.copy(self)
        object.__setattr__(twin, "tied_columns", np.empty(0, np.int64))
        return twin

    def with_search(
        self, kind: IndexKind = "auto", threshold: int = DEFAULT_THRESHOLD
    ) -> Recommender:
        """Search with an HNSW graph (`hnsw`, or `auto` above `threshold` songs) or exactly.

        Exact search is the default so that offline evaluation is exact; training for serving
        and the service choose here, and an artifact keeps a graph that was built.
        """
        if self.catalog.dead_rows:  # its positions include removed songs' ones
            raise ValueError("a live catalog is re-indexed after `recommender.live.compacted`")
        canonical = self.catalog_embedding[self.catalog.canonical_rows]
        return self.with_index(build_index(canonical, self.metric, kind, threshold))

    def cluster_ids(self, rows: np.ndarray) -> np.ndarray | None:
        """The cluster of each row (-1 where the row is -1); None if trained without clusters."""
        if self.clusters is None:
            return None
        rows = np.asarray(rows, dtype=np.int64)
        return np.where(rows >= 0, self.clusters[np.maximum(rows, 0)], -1)

    def embed(self, features: np.ndarray) -> np.ndarray:
        """Raw features (n, d) -> embedding (n, e)."""
        return np.asarray(self.embedding.transform(self.scaler.transform(features)), np.float32)

    def as_queries(self, vectors: np.ndarray) -> np.ndarray:
        """Catalog-space vectors (n, e) as the queries searched with: the same, except for an
        embedding whose songs and queries differ in some coordinates (zeroed here, in place)."""
        if self.query_zeroed.size:
            vectors[:, self.query_zeroed] = 0.0
        return vectors

    def recommend(
        self, seed_rows: np.ndarray, k: int, seed_features: np.ndarray | None = None
    ) -> Neighbours:
        """The k most similar songs for each seed, in one search for the whole batch.

        `seed_rows[i]` is a catalog row, or -1 when seed i is given by `seed_features[i]` (raw
        feature values in the catalog's feature order). A catalog seed never gets itself or
        another row of the same song back.
        """
        seed_rows = np.asarray(seed_rows, dtype=np.int64)
        known = seed_rows >= 0
        queries = np.empty((len(seed_rows), self.catalog_embedding.shape[1]), np.float32)
        queries[known] = self.catalog_embedding[seed_rows[known]]
        if not known.all():
            if seed_features is None:
                raise ValueError("seed_features is required for seeds without a catalog row")
            queries[~known] = self.embed(np.asarray(seed_features)[~known])
        self.as_queries(queries)
        exclude = np.full(len(seed_rows), -1, dtype=np.int64)
        exclude[known] = self.catalog.canonical_position[seed_rows[known]]
        positions, scores = self.index.search(queries, k + 1)
        if positions.shape[1] < k + 1:  # a catalog smaller than k: pad, and say so with -1
            pad = ((0, 0), (0, k + 1 - positions.shape[1]))
            positions = np.pad(positions, pad, constant_values=-1)
            scores = np.pad(scores, pad, constant_values=0)
        return self._drop_excluded(positions, scores, exclude, k)

    def recommend_shaped(self, shapes: Sequence[Shape]) -> ShapedNeighbours:
        """Answers to shaped requests (`recommender.shaping`): blended and targeted seeds,
        filters, an artist cap and diversity, after one search per batch.

        Build each `Shape` with `Shape.resolve(catalog, controls, k)` (it raises
        `RequestError` naming a bad field) or directly, `Shape(k, (row,))`.
        """
        return shaped_recommend(self, shapes)

    def _drop_excluded(
        self, positions: np.ndarray, scores: np.ndarray, exclude: np.ndarray, k: int
    ) -> Neighbours:
        # Keep the first k entries of each row that are not the seed's own song.
        keep = positions != exclude[:, None]
        keep &= positions >= 0
        order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
        positions = np.take_along_axis(positions, order, axis=1)
        scores = np.take_along_axis(scores, order, axis=1)
        valid = np.take_along_axis(keep, order, axis=1)
        rows = np.where(valid, self.catalog.canonical_rows[np.maximum(positions, 0)], -1)
        return Neighbours(rows=rows, scores=np.where(valid, scores, np.float32(0)))


def knn(catalog: Catalog, metric: Metric = "euclidean", version: str | None = None) -> Recommender:
    """Plain KNN on standardised features: `knn` (euclidean) or `knn-cosine`, no clusters."""
    name = "knn" if metric == "euclidean" else "knn-cosine"
    scaler = Standardizer.fit(catalog.features)
    return Recommender(name, catalog, scaler, Identity(), metric, version)
