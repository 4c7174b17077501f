"""PCA embedding: project standardised features onto their leading principal axes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from recommender.errors import ConfigurationError

if TYPE_CHECKING:
    from recommender.catalog import Catalog


@dataclass(frozen=True)
class PCAEmbedding:
    """`(scaled - mean) @ components.T`: a plain numpy projection, fitted by SVD."""

    mean: np.ndarray  # (d,) float32
    components: np.ndarray  # (e, d) float32, rows are unit principal axes
    explained_variance_ratio: np.ndarray  # (e,) float32

    def transform(self, scaled: np.ndarray) -> np.ndarray:
        centred = np.asarray(scaled, dtype=np.float32) - self.mean
        return np.asarray(centred @ self.components.T, dtype=np.float32)

    def state(self) -> dict[str, np.ndarray]:
        return {
            "pca.mean": self.mean,
            "pca.components": self.components,
            "pca.explained_variance_ratio": self.explained_variance_ratio,
        }

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> PCAEmbedding:
        return cls(
            np.asarray(state["pca.mean"], np.float32),
            np.asarray(state["pca.components"], np.float32),
            np.asarray(state["pca.explained_variance_ratio"], np.float32),
        )


def components_for(ratios: np.ndarray, n_components: int | float) -> int:
    """How many axes to keep: a count, or the fewest explaining at least a share of variance."""
    if isinstance(n_components, bool):
        raise ConfigurationError("n_components must be an int or a float share, not a bool")
    if isinstance(n_components, int):
        if not 1 <= n_components <= len(ratios):
            raise ConfigurationError(f"n_components={n_components} outside [1, {len(ratios)}]")
        return n_components
    if not 0.0 < n_components <= 1.0:
        raise ConfigurationError(
            f"a share of explained variance must lie in (0, 1], got {n_components}"
        )
    # The tiny tolerance keeps a share of exactly 1.0 reachable despite rounding.
    reached = np.cumsum(ratios) >= n_components - 1e-9
    return int(np.argmax(reached)) + 1 if reached.any() else len(ratios)


def fit_pca(scaled: np.ndarray, n_components: int | float = 0.9) -> PCAEmbedding:
    """Fit on standardised features (n, d); axes signed so the largest loading is positive."""
    data = np.asarray(scaled, dtype=np.float64)
    mean = data.mean(axis=0)
    _, singular, axes = np.linalg.svd(data - mean, full_matrices=False)
    variance = singular**2
    ratios = variance / variance.sum() if variance.sum() > 0 else np.zeros_like(variance)
    keep = components_for(ratios, n_components)
    axes = axes[:keep]
    # SVD signs are arbitrary; fixing them makes refits on the same data give the same axes.
    signs = np.sign(axes[np.arange(keep), np.abs(axes).argmax(axis=1)])
    axes = axes * np.where(signs == 0, 1.0, signs)[:, None]
    return PCAEmbedding(
        mean.astype(np.float32), axes.astype(np.float32), ratios[:keep].astype(np.float32)
    )


def fit(
    scaled: np.ndarray, catalog: Catalog, options: dict[str, Any], progress: bool
) -> tuple[PCAEmbedding, None]:
    """The registry's fitting function for `pca` (option `components`)."""
    return fit_pca(scaled, options["components"]), None
