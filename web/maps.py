"""A 2-D map of a model's catalog embedding: PCA (numpy SVD) fitted on a seeded subsample,
every song projected once, scaled into [0, 1]. A live catalog's next version (the same model,
grown) is `extended` onto the same axes: no point moves when a song is added or removed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.recommender import Recommender

FIT_SAMPLE = 20_000
# Scale by the 0.5th..99.5th percentiles and clip, so a few outliers do not squash the rest.
_CLIP = (0.5, 99.5)


@dataclass(frozen=True)
class Projection:
    """Every song's point (one row per song), in a seeded random order: the first `limit`
    are the map for any `limit`, so a larger map adds points and moves none. `place` puts
    any other row (a re-release) on the same axes."""

    rows: np.ndarray  # (m,) catalog rows
    xy: np.ndarray  # (m, 2) in [0, 1]
    centre: np.ndarray
    axes: np.ndarray  # (e, 2)
    low: np.ndarray
    span: np.ndarray

    def place(self, embedding: np.ndarray) -> np.ndarray:
        xy = (np.asarray(embedding, dtype=np.float64) - self.centre) @ self.axes
        placed: np.ndarray = np.clip((xy - self.low) / self.span, 0.0, 1.0)
        return placed


def project(recommender: Recommender, seed: int = 0) -> Projection:
    catalog = recommender.catalog
    rng = np.random.default_rng(seed)
    rows = rng.permutation(catalog.canonical_rows)
    points = recommender.catalog_embedding[rows].astype(np.float64)
    centre = points[:FIT_SAMPLE].mean(axis=0)
    axes = principal_axes(points[:FIT_SAMPLE] - centre)
    xy = (points - centre) @ axes
    low, high = np.percentile(xy, _CLIP, axis=0)
    span = np.where(high > low, high - low, 1.0)
    return Projection(rows, np.clip((xy - low) / span, 0.0, 1.0), centre, axes, low, span)


def principal_axes(centred: np.ndarray, n: int = 2) -> np.ndarray:
    """(d, n) the first n principal directions, each signed so its largest loading is > 0."""
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes: np.ndarray = vt[:n].T
    if axes.shape[1] < n:  # a 1-D embedding: the map is a line
        axes = np.pad(axes, ((0, 0), (0, n - axes.shape[1])))
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(n)])
    return axes * np.where(signs == 0, 1.0, signs)


def extended(previous: Projection, recommender: Recommender) -> Projection | None:
    """The map of `recommender`'s catalog grown since `previous` was made for it (a live
    update, the same model version): earlier points unchanged, songs new since placed on the
    same axes, each at a seeded random place in the order, so that any first `limit` still
    samples every song alike. None when the catalog is not a growth of the mapped one (then
    the map is made anew)."""
    catalog, known = recommender.catalog, previous.rows
    if len(known) and int(known.max()) >= len(catalog):
        return None
    # A few points placed again land where they are (the clipped ones cannot tell).
    check = np.linspace(0, len(known) - 1, min(64, len(known))).astype(np.int64)
    check = check[((previous.xy[check] > 0) & (previous.xy[check] < 1)).all(axis=1)]
    moved = previous.place(recommender.catalog_embedding[known[check]]) - previous.xy[check]
    if moved.size and np.abs(moved).max() > 1e-4:  # another embedding under the same name
        return None
    fresh = np.setdiff1d(catalog.canonical_rows, known)
    if not len(fresh):
        return previous
    rng = np.random.default_rng(len(known))
    fresh = rng.permutation(fresh)
    at = rng.integers(0, len(known) + 1, len(fresh))
    xy = previous.place(recommender.catalog_embedding[fresh])
    return Projection(
        np.insert(known, at, fresh),
        np.insert(previous.xy, at, xy, axis=0),
        previous.centre,
        previous.axes,
        previous.low,
        previous.span,
    )
