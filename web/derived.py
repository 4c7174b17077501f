"""What is computed from a model once per version, on first use: its clusters and its map.

One lock per kind, so two first requests compute once; entries of replaced versions are
dropped when a new version is computed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

from recommender.recommender import Recommender
from web.clusters import cluster_ids, describe
from web.contract import ClusterInfo
from web.maps import Projection, project

T = TypeVar("T")


class PerVersion(Generic[T]):
    def __init__(self, compute: Callable[[Recommender], T]) -> None:
        self._compute = compute
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
            value = self._compute(recommender)
            self._values[recommender.name] = (*key, value)
            return value


class Derived:
    def __init__(self) -> None:
        self.cluster_ids: PerVersion[np.ndarray] = PerVersion(cluster_ids)
        self.clusters: PerVersion[list[ClusterInfo]] = PerVersion(
            lambda r: describe(r.catalog, self.cluster_ids.get(r))
        )
        self.maps: PerVersion[Projection] = PerVersion(project)
