"""Quantile-normal features: each feature mapped through its catalog quantiles to a normal score.

Audio features are far from normal (most songs have instrumentalness near 0, speechiness and
liveness have long tails), so after standardising, a few extreme values dominate euclidean
distances. Ranking each feature and taking the normal score of its rank spreads every feature
evenly. Fitted without labels; served as `np.interp` over stored knots, so no scipy or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

KNOTS = 1001  # quantiles kept per feature: a 0.1 % grid, ~36 kB for nine features


@dataclass(frozen=True)
class QuantileNormal:
    """Piecewise-linear, non-decreasing map per feature from its value to a unit-variance score."""

    knots: np.ndarray  # (KNOTS, d) float64: each feature's values at evenly spaced quantiles
    scores: np.ndarray  # (KNOTS, d) float64: the score of each knot

    @classmethod
    def fit(cls, data: np.ndarray, n_knots: int = KNOTS) -> QuantileNormal:
        """Knots at the quantiles of `data` (n, d); a knot's score is the normal quantile of its
        mid-rank, so tied values (many exact zeros) share one score."""
        ordered = np.sort(np.asarray(data, dtype=np.float64), axis=0)
        n, d = ordered.shape
        if n < 2:
            raise ValueError("a quantile map needs at least two rows")
        knots = np.quantile(ordered, np.linspace(0.0, 1.0, n_knots), axis=0)
        cdf = np.empty_like(knots)
        for j in range(d):
            below = np.searchsorted(ordered[:, j], knots[:, j], side="left")
            up_to = np.searchsorted(ordered[:, j], knots[:, j], side="right")
            cdf[:, j] = (below + up_to) / (2.0 * n)
        cdf = np.clip(cdf, 0.5 / n, 1.0 - 0.5 / n)
        scores = np.vectorize(NormalDist().inv_cdf)(cdf)
        unscaled = cls(knots, scores).transform(ordered)
        # Ties and the grid leave each feature's scores not quite N(0, 1): restore unit variance.
        mean, std = unscaled.mean(axis=0), unscaled.std(axis=0)
        return cls(knots, (scores - mean) / np.where(std > 0, std, 1.0))

    def transform(self, data: np.ndarray) -> np.ndarray:
        """(n, d) -> (n, d) float32; values beyond the fitted range take the end scores."""
        data = np.asarray(data, dtype=np.float64)
        columns = [
            np.interp(data[:, j], self.knots[:, j], self.scores[:, j]) for j in range(data.shape[1])
        ]
        return np.column_stack(columns).astype(np.float32)

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}.knots": self.knots, f"{prefix}.scores": self.scores}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray], prefix: str) -> QuantileNormal | None:
        """The map saved under `prefix`, or None when there is none."""
        if f"{prefix}.knots" not in state:
            return None
        return cls(
            np.asarray(state[f"{prefix}.knots"], np.float64),
            np.asarray(state[f"{prefix}.scores"], np.float64),
        )
