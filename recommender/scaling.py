"""Standardisation of raw audio features (zero mean, unit variance per feature)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Standardizer:
    mean: np.ndarray  # (d,) float32
    scale: np.ndarray  # (d,) float32, never zero

    @classmethod
    def fit(cls, features: np.ndarray) -> Standardizer:
        mean = features.mean(axis=0, dtype=np.float64)
        std = features.std(axis=0, dtype=np.float64)
        # A constant feature carries no information; leave it centred rather than divide by 0.
        std[std < 1e-12] = 1.0
        return cls(mean.astype(np.float32), std.astype(np.float32))

    def transform(self, features: np.ndarray) -> np.ndarray:
        scaled: np.ndarray = (np.asarray(features, dtype=np.float32) - self.mean) / self.scale
        return scaled.astype(np.float32, copy=False)

    def state(self) -> dict[str, np.ndarray]:
        return {"scaler.mean": self.mean, "scaler.scale": self.scale}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> Standardizer:
        return cls(
            np.asarray(state["scaler.mean"], np.float32),
            np.asarray(state["scaler.scale"], np.float32),
        )
