"""What is computed from a model once per version, on first use: its clusters and its map.

One lock per kind, so two first requests compute once; entries of replaced versions are
dropped when a new version is computed. A live catalog's next version of the same model may
be derived from the last one's value instead (`grow`: the map keeps its points, k-means
clusters their centroids).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

from recommender.recommender import Recommender
from web.clusters import Clustering, describe, fit, grown
from web.contract import ClusterInfo
from web.maps import Projection, extended, project

T = TypeVar("T")


class PerVersion(Generic[T]):
    def __init__(
        self,
        compute: Callable[[Recommender], T],
        grow: Callable[[T, Recommender], T | None] | None = None,
    ) -> None:
        self._compute = compute
        self._grow = grow  # the value for the same model on a grown catalog; None: compute
        self._values: dict[str, tuple[str, int, T]] = {}
        self._lock = threading.Lock()

    def get(self, recommender: Recommender) -> T:
        key = (recommender.version, id(recommender.catalog))
        entry = self._values.get(recommender.name)
        if entry is not None and entry[:2] == key:
            return entry[2]
        with self._lock:
            entry = self._values.get(recommender.name)
            if entry is not None and entry[:2] == key:
                return entry[2]
            value = None
            if entry is not None and entry[0] == recommender.version and self._grow is not None:
                value = self._grow(entry[2], recommender)
            if value is None:
                value = self._compute(recommender)
            self._values[recommender.name] = (*key, value)
            return value


class Derived:
    def __init__(self) -> None:
        # A model's own clusters (trained, and grown by a live catalog), or k-means here.
        self.kmeans: PerVersion[Clustering] = PerVersion(fit, grown)
        self.cluster_ids: PerVersion[np.ndarray] = PerVersion(
            lambda r: r.clusters if r.clusters is not None else self.kmeans.get(r)[0]
        )
        self.clusters: PerVersion[list[ClusterInfo]] = PerVersion(
            lambda r: describe(r.catalog, self.cluster_ids.get(r))
        )
        self.maps: PerVersion[Projection] = PerVersion(project, extended)
