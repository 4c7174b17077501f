"""Approximate nearest neighbours (an HNSW graph, via hnswlib) for catalogs too big to scan.

`HnswIndex.save` and `load_index` store a built graph in a directory and read it back without
rebuilding it. The settings come from `benchmarks/ann.py`.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import hnswlib
import numpy as np

from recommender.search.exact import Metric, distance_to_score

__all__ = ["HnswIndex", "HnswParams", "load_index"]

_FORMAT = "encore-hnsw/1"
_GRAPH = "hnsw.bin"
_META = "hnsw.json"
_SPACES: dict[str, str] = {"euclidean": "l2", "cosine": "cosine"}


@dataclass(frozen=True)
class HnswParams:
    """Graph degree `m`, build beam `ef_construction` and query beam `ef` (hnswlib raises it to k).

    Chosen by `benchmarks/ann.py` at 1M tracks, 9 standardised features, k + 1 = 11: recall@10
    0.988 (euclidean) / 0.990 (cosine) with the most queries/s of the settings tried; m = 8
    was no faster and lost recall, larger ef costs ~20% throughput per +5 for < 0.01 recall.
    """

    m: int = 12
    ef_construction: int = 100
    ef: int = 11
    seed: int = 0


class _Graph:
    """The hnswlib graph shared by the indexes of a live catalog, and what they know of it."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.lock = threading.Lock()  # a resize must not run beside a search
        self.labels = int(graph.get_current_count())  # positions added so far
        self.alive = self.labels  # positions not deleted
        self.free = 0  # deleted slots the next additions reuse


class HnswIndex:
    """A `NeighbourIndex` over an hnswlib graph whose labels are row positions.

    Searches run on `threads` threads (default: all cores). When the graph yields fewer than k
    neighbours (a catalog smaller than k), the missing entries are position -1 with score 0.
    `extended` adds positions and marks others deleted in the same graph (their slots are
    reused, the graph doubles when full); each index only returns the positions it knows.
    """

    def __init__(
        self,
        graph: Any,
        metric: Metric,
        params: HnswParams,
        threads: int | None = None,
    ) -> None:
        self.metric = metric
        self.params = params
        self.threads = threads or len(os.sched_getaffinity(0))
        self._graph = graph
        self._graph.set_ef(params.ef)
        self._shared = _Graph(graph)
        self._labels = self._shared.labels

    def extended(self, vectors: np.ndarray, deleted: np.ndarray) -> HnswIndex:
        """A new index with `vectors` at the next positions and `deleted` never returned."""
        shared = self._shared
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        with shared.lock:
            if not self.is_newest():
                raise ValueError("only the newest index of a live catalog can be extended")
            for position in np.asarray(deleted, dtype=np.int64).tolist():
                self._graph.mark_deleted(position)
            shared.free += len(deleted)
            shared.alive -= len(deleted)
            labels = np.arange(shared.labels, shared.labels + len(vectors))
            fresh = self._room(len(vectors))
            # Updates are applied between batches, when the search threads are idle.
            threads = self.threads if len(vectors) >= 4 * self.threads else 1
            if fresh:  # new slots while there is room: ~3x cheaper than replacing
                self._graph.add_items(vectors[:fresh], labels[:fresh], num_threads=threads)
            if fresh < len(vectors):
                rest = slice(fresh, None)
                self._graph.add_items(
                    vectors[rest], labels[rest], num_threads=threads, replace_deleted=True
                )
                shared.free -= len(vectors) - fresh
            shared.labels += len(vectors)
            shared.alive += len(vectors)
        index = HnswIndex.__new__(HnswIndex)
        index.metric, index.params, index.threads = self.metric, self.params, self.threads
        index._graph, index._shared, index._labels = self._graph, shared, shared.labels
        return index

    def _room(self, count: int) -> int:
        """How many of `count` additions take new slots; the rest replace deleted ones.

        A full graph reuses deleted slots when they are at least an eighth of it (and enough),
        else it doubles: removed tracks then take at most an eighth of a full graph, and most
        additions are plain insertions (replacing repairs the old node's neighbours too).
        """
        shared = self._shared
        used, capacity = int(self._graph.get_current_count()), int(self._graph.get_max_elements())
        room = capacity - used
        if room >= count:
            return count
        if shared.free >= count - room and shared.free * 8 >= capacity:
            return room
        self._graph.resize_index(max(used + count, 2 * capacity))
        return count

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        metric: Metric = "euclidean",
        params: HnswParams | None = None,
        threads: int | None = None,
    ) -> HnswIndex:
        """Index the rows of `vectors`; search results are row positions."""
        params = params or HnswParams()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        graph = hnswlib.Index(space=_SPACES[metric], dim=vectors.shape[1])
        graph.init_index(
            max(1, len(vectors)),
            M=params.m,
            ef_construction=params.ef_construction,
            random_seed=params.seed,
            allow_replace_deleted=True,  # a live catalog reuses the slots of removed tracks
        )
        threads = threads or len(os.sched_getaffinity(0))
        if len(vectors):
            graph.add_items(vectors, np.arange(len(vectors)), num_threads=threads)
        return cls(graph, metric, params, threads)

    def is_newest(self) -> bool:
        """Whether `extended` may be called: the shared graph holds nothing newer."""
        return self._shared.labels == self._labels

    def __len__(self) -> int:
        """Positions this index knows (deleted ones included)."""
        return self._labels

    @property
    def dim(self) -> int:
        return int(self._graph.dim)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        positions = np.full((len(queries), k), -1, dtype=np.int64)
        scores = np.zeros((len(queries), k), dtype=np.float32)
        with self._shared.lock:
            found = min(k, self._shared.alive)
            if found == 0 or len(queries) == 0:
                return positions, scores
            labels, distances = self._query(queries, found)
        labels = labels.astype(np.int64)
        newer = labels >= self._labels  # added after this index: not in its catalog
        positions[:, :found] = np.where(newer, -1, labels)
        scores[:, :found] = np.where(newer, np.float32(0), self._scores(distances))
        return positions, scores

    def _query(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        try:
            return self._graph.knn_query(queries, k, num_threads=self.threads)  # type: ignore[no-any-return]
        except RuntimeError:  # deleted elements left the beam short of k: widen it once
            self._graph.set_ef(max(4 * k, 4 * self.params.ef, 64))
            try:
                return self._graph.knn_query(queries, k, num_threads=self.threads)  # type: ignore[no-any-return]
            finally:
                self._graph.set_ef(self.params.ef)

    def _scores(self, distances: np.ndarray) -> np.ndarray:
        if self.metric == "cosine":
            # hnswlib's cosine space returns 1 - cosine similarity.
            return (1.0 - distances).astype(np.float32)
        # ... and its l2 space the squared distance.
        return distance_to_score(np.sqrt(np.maximum(distances, 0.0)))

    def save(self, directory: str | Path) -> None:
        """Write the graph and its settings into `directory` (created if missing)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with self._shared.lock:
            if self._shared.labels != self._labels:
                raise ValueError("only the newest index of a live catalog can be saved")
            self._graph.save_index(str(directory / _GRAPH))
            # A live graph has more labels than slots (deleted ones were reused): keep both.
            shared = self._shared
            live = {"labels": shared.labels, "alive": shared.alive, "free": shared.free}
        meta = {"format": _FORMAT, "metric": self.metric, "dim": self.dim, "count": len(self)}
        meta["live"] = live
        (directory / _META).write_text(json.dumps({**meta, "params": asdict(self.params)}))

    @classmethod
    def load(
        cls,
        directory: str | Path,
        metric: Metric | None = None,
        threads: int | None = None,
        ef: int | None = None,
    ) -> HnswIndex:
        """Read a saved graph (no rebuild). `metric`, when given, must match the saved one."""
        directory = Path(directory)
        meta = json.loads((directory / _META).read_text())
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{directory}: not an Encore HNSW index ({meta.get('format')!r})")
        if metric is not None and metric != meta["metric"]:
            raise ValueError(f"{directory}: index metric is {meta['metric']!r}, not {metric!r}")
        params = HnswParams(**meta["params"])
        if ef is not None:
            params = replace(params, ef=ef)
        graph = hnswlib.Index(space=_SPACES[meta["metric"]], dim=int(meta["dim"]))
        graph.load_index(
            str(directory / _GRAPH),
            max_elements=max(1, int(meta["count"])),
            allow_replace_deleted=True,
        )
        index = cls(graph, meta["metric"], params, threads)
        if "live" in meta:
            shared = index._shared
            shared.labels, shared.alive, shared.free = (
                int(meta["live"][k]) for k in ("labels", "alive", "free")
            )
            index._labels = shared.labels
        return index


def load_index(
    directory: str | Path,
    metric: Metric,
    vectors: np.ndarray | None = None,
    *,
    threads: int | None = None,
    ef: int | None = None,
) -> HnswIndex:
    """Load an index written by `HnswIndex.save`; an exact index is rebuilt, never saved.

    `vectors`, the rows the index was built over, are only checked against the saved count, so
    this function is also an `IndexLoader` for `recommender.artifacts.load_artifact`.
    """
    index = HnswIndex.load(directory, metric, threads=threads, ef=ef)
    if vectors is not None and len(vectors) != len(index):
        raise ValueError(f"{directory}: index holds {len(index)} rows, expected {len(vectors)}")
    return index
