"""Near-duplicates of a song in one model: the songs at embedding distance ~0 from it.

A disliked song is never recommended again, nor any song that is the same to the model (a
re-release the catalog does not know as one song, a copy under another id). Found by one
neighbour search per song, remembered per model.
"""

from __future__ import annotations

import numpy as np

from recommender.recommender import Recommender

NEIGHBOURS = 8  # searched per song; more copies than this of one song are not expected
TOLERANCE = 1e-5  # relative to the song's embedding norm


class NearDuplicates:
    def __init__(self, recommender: Recommender, most: int = 200_000) -> None:
        self.recommender = recommender
        self.most = most
        self._memo: dict[int, tuple[int, ...]] = {}

    def positions(self, rows: list[int]) -> set[int]:
        """Canonical positions of the songs `rows` are and their near-duplicates."""
        missing = [r for r in dict.fromkeys(rows) if r not in self._memo]
        if missing:
            self._find(missing)
        found: set[int] = set()
        for row in rows:
            found.update(self._memo[row])
        return found

    def _find(self, rows: list[int]) -> None:
        r = self.recommender
        catalog = r.catalog
        vectors = r.catalog_embedding[rows]
        positions, _ = r.index.search(vectors, min(NEIGHBOURS, len(catalog.canonical_rows)))
        safe = np.maximum(positions, 0)
        candidates = r.catalog_embedding[catalog.canonical_rows[safe]]
        distance = np.linalg.norm(candidates - vectors[:, None, :], axis=2)
        scale = 1.0 + np.linalg.norm(vectors, axis=1)[:, None]
        same = (distance <= TOLERANCE * scale) & (positions >= 0)
        if len(self._memo) + len(rows) > self.most:
            self._memo.clear()
        own = catalog.canonical_position[rows]
        for i, row in enumerate(rows):
            self._memo[row] = tuple({int(own[i]), *positions[i][same[i]].tolist()})
