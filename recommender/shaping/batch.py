"""A batch of shaped requests as arrays: a few passes over the `Shape`s, then numpy only.

The first search of a request fetches `pool` neighbours (plus its seeds' songs, which come
back too) when it gives a pool; otherwise k + seeds, twice that when a filter may drop
neighbours, or the default pool (10 x k, at most 1,000) of a diverse request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from recommender.shaping.controls import MAX_POOL, PLAIN, POOL_PER_K, Controls, Shape

_COLUMNS = np.dtype(
    [
        ("cap", np.int64),
        ("pool", np.int64),
        ("diversity", np.float64),
        ("filtered", np.bool_),  # a range, an exclusion or explicit=False
    ]
)


@dataclass(frozen=True)
class Batch:
    """Per request: k, its controls (`custom` lists the requests whose are not `PLAIN`), the
    artist cap, the diversity, what the first search fetches, and the seeds: flat in request
    order, and as an (n, S) matrix of rows, -1 for none."""

    controls: list[Controls]
    custom: list[int]
    k: np.ndarray  # (n,) int64
    cap: np.ndarray  # (n,) int64, 0 = no cap
    diversity: np.ndarray  # (n,) float64
    filtered: np.ndarray  # (n,) bool
    fetch: np.ndarray  # (n,) int64
    starts: np.ndarray  # (n,) first seed entry of each request
    seed_rows: np.ndarray  # (t,) catalog rows, -1 for a feature seed
    seed_weights: np.ndarray  # (t,) summing to 1 per request
    seed_features: np.ndarray  # (feature seeds, d) raw
    seed_matrix: np.ndarray  # (n, S) int64
    shapes: Sequence[Shape] = ()
    blended: list[int] = field(default_factory=list)  # requests with a `blend` (session)
    withheld: list[int] = field(default_factory=list)  # requests with `withheld` songs

    @classmethod
    def of(cls, shapes: Sequence[Shape], dim: int) -> Batch:
        n = len(shapes)
        controls = [s.controls for s in shapes]
        custom = [i for i, c in enumerate(controls) if c is not PLAIN]
        table = np.zeros(n, _COLUMNS)
        table["cap"] = PLAIN.max_per_artist
        if custom:
            table[custom] = np.fromiter(
                (
                    (
                        c.max_per_artist,
                        c.pool or 0,
                        c.diversity,
                        bool(c.ranges or c.exclude_songs or c.exclude_artists) or not c.explicit,
                    )
                    for c in (controls[i] for i in custom)
                ),
                _COLUMNS,
                len(custom),
            )
        withheld = [i for i, s in enumerate(shapes) if s.withheld is not None and len(s.withheld)]
        if withheld:
            table["filtered"][withheld] = True
        k = np.fromiter((s.k for s in shapes), np.int64, n)
        lengths = np.fromiter((len(s.seed_rows) for s in shapes), np.int64, n)
        if not lengths.all():
            raise ValueError("every Shape needs a seed (seed_rows)")
        starts = np.cumsum(lengths) - lengths
        rows, weights, features = _seeds(shapes, controls, custom, lengths, starts, dim)
        matrix = np.full((n, int(lengths.max(initial=1))), -1, dtype=np.int64)
        entry = np.arange(len(rows)) - np.repeat(starts, lengths)
        matrix[np.repeat(np.arange(n), lengths), entry] = rows
        return cls(
            controls=controls,
            custom=custom,
            k=k,
            cap=table["cap"],
            diversity=table["diversity"],
            filtered=table["filtered"],
            fetch=fetch_sizes(k, lengths, table),
            starts=starts,
            seed_rows=rows,
            seed_weights=weights,
            seed_features=features,
            seed_matrix=matrix,
            shapes=shapes,
            blended=[i for i, s in enumerate(shapes) if s.blend is not None],
            withheld=withheld,
        )

    def mean(self, values: np.ndarray) -> np.ndarray:
        """The weighted mean per request of per-seed values (t, e)."""
        if len(self.seed_rows) == len(self.starts):
            return values
        weighted = values * self.seed_weights[:, None].astype(values.dtype)
        means: np.ndarray = np.add.reduceat(weighted, self.starts, axis=0)
        return means


def fetch_sizes(k: np.ndarray, seeds: np.ndarray, table: np.ndarray) -> np.ndarray:
    diverse = np.maximum(k, np.minimum(POOL_PER_K * k, MAX_POOL)) + seeds
    plain = (k + seeds) * np.where(table["filtered"], 2, 1)
    sizes = np.where(table["diversity"] > 0, diverse, plain)
    fetch: np.ndarray = np.where(table["pool"] > 0, table["pool"] + seeds, sizes)
    return fetch


def _seeds(
    shapes: Sequence[Shape],
    controls: list[Controls],
    custom: list[int],
    lengths: np.ndarray,
    starts: np.ndarray,
    dim: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat seed rows, their weights and the feature seeds' values."""
    total = int(lengths.sum())
    if total == len(shapes):  # one seed each: the common case
        rows = np.fromiter((s.seed_rows[0] for s in shapes), np.int64, total)
        weights = np.ones(total)
    else:
        rows = np.fromiter(chain.from_iterable(s.seed_rows for s in shapes), np.int64, total)
        weights = np.repeat(1.0 / lengths, lengths)
        weighted = [i for i in custom if controls[i].seed_weights]
        if weighted:
            at = np.concatenate([starts[i] + np.arange(lengths[i]) for i in weighted])
            weights[at] = list(chain.from_iterable(controls[i].seed_weights for i in weighted))
    features = np.empty((0, dim), np.float32)
    if (rows < 0).any():
        given = [s.seed_features for s in shapes if s.seed_features is not None]
        features = np.asarray(given, np.float32).reshape(-1, dim)
    return rows, weights, features
