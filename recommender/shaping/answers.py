"""What a shaped batch answers: ranked rows and scores per request, and why, with `explain`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ShapedItem:
    rank: int  # 1-based
    row: int  # catalog row
    score: float  # similarity to the (blended, targeted) seed, on `recommend`'s scale
    because: tuple[str, ...] = ()  # with `explain`: the features nearest the seed's


@dataclass(frozen=True)
class ShapedNeighbours:
    """Answers to a batch of shaped requests; row i holds `counts[i]` songs, then -1 / 0."""

    rows: np.ndarray  # (n, max k) int64 catalog rows
    scores: np.ndarray  # (n, max k) float32
    counts: np.ndarray  # (n,) int64
    exhausted: np.ndarray  # (n,) bool: fewer than k songs of the catalog meet the rules
    because: tuple[tuple[tuple[str, ...], ...] | None, ...]  # per request, None without explain

    def items(self, i: int) -> list[ShapedItem]:
        """Request i's answer, ranked 1..counts[i]."""
        because = self.because[i]
        return [
            ShapedItem(
                rank=j + 1,
                row=int(self.rows[i, j]),
                score=float(self.scores[i, j]),
                because=() if because is None else because[j],
            )
            for j in range(int(self.counts[i]))
        ]


class Answers:
    """The output arrays, filled a group of requests at a time."""

    def __init__(self, n: int, width: int) -> None:
        self.rows = np.full((n, width), -1, dtype=np.int64)
        self.scores = np.zeros((n, width), dtype=np.float32)
        self.counts = np.zeros(n, dtype=np.int64)

    def put(
        self, requests: np.ndarray, rows: np.ndarray, scores: np.ndarray, take: np.ndarray
    ) -> None:
        """Request requests[i] answers rows[i, take[i]] in list order."""
        ranks = np.cumsum(take, axis=1) - 1
        at = np.nonzero(take)
        self.rows[requests[at[0]], ranks[at]] = rows[at]
        self.scores[requests[at[0]], ranks[at]] = scores[at]
        self.counts[requests] = take.sum(axis=1)

    def put_picks(
        self, requests: np.ndarray, rows: np.ndarray, scores: np.ndarray, picks: np.ndarray
    ) -> None:
        """Request requests[i] answers rows[i, picks[i]] in pick order, picks -1 padded."""
        took = picks >= 0
        safe = np.maximum(picks, 0)
        width = picks.shape[1]
        self.rows[requests, :width] = np.where(took, np.take_along_axis(rows, safe, 1), -1)
        self.scores[requests, :width] = np.where(took, np.take_along_axis(scores, safe, 1), 0)
        self.counts[requests] = took.sum(axis=1)

    def because(
        self,
        explained: list[int],
        features: np.ndarray,
        reference: np.ndarray,
        scale: np.ndarray,
        names: tuple[str, ...],
        n: int,
        most: int = 3,
    ) -> tuple[tuple[tuple[str, ...], ...] | None, ...]:
        """Per explained request, per item: the `most` features with the smallest
        standardised difference from the request's (blended, targeted) seed."""
        because: list[tuple[tuple[str, ...], ...] | None] = [None] * n
        if not explained:
            return tuple(because)
        rows = np.maximum(self.rows[explained], 0)
        gaps = np.abs(features[rows] - reference[explained][:, None, :]) / scale
        closest = np.argsort(gaps, axis=2, kind="stable")[:, :, :most]
        labels = np.asarray(names, dtype=object)[closest]
        for j, i in enumerate(explained):
            because[i] = tuple(tuple(labels[j, item]) for item in range(int(self.counts[i])))
        return tuple(because)
