"""Recommendations a product can shape: blended seeds, targets, filters, an artist cap, MMR.

    shape = Shape.resolve(catalog, {"track_id": "...", "min_tempo": 120, "diversity": 0.3}, k)
    answer = recommender.recommend_shaped([shape, Shape(k, (row,)), ...])  # one batch
    answer.items(0)  # [ShapedItem(rank, row, score, because), ...]; answer.exhausted[0]

`controls` checks a request's controls against a catalog (`Shape`, `Controls`; `PLAIN` is a
request without any), `batch` lays a batch out as arrays, `rules` turns its filters and
artist cap into masks over candidate lists, `mmr` picks diverse lists, `stage` runs them after
one neighbour search per batch (`shaped_recommend`), and `answers` holds the result.
"""

from recommender.shaping.answers import ShapedItem, ShapedNeighbours
from recommender.shaping.controls import (
    CONTROLS,
    DEFAULT_MAX_PER_ARTIST,
    MAX_EXCLUDED_ARTISTS,
    MAX_EXCLUDED_TRACKS,
    MAX_POOL,
    MAX_SEEDS,
    PLAIN,
    Controls,
    Shape,
)
from recommender.shaping.stage import shaped_recommend

__all__ = [
    "CONTROLS",
    "DEFAULT_MAX_PER_ARTIST",
    "MAX_EXCLUDED_ARTISTS",
    "MAX_EXCLUDED_TRACKS",
    "MAX_POOL",
    "MAX_SEEDS",
    "PLAIN",
    "Controls",
    "Shape",
    "ShapedItem",
    "ShapedNeighbours",
    "shaped_recommend",
]
