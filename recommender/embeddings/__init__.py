"""The spaces neighbours are searched in: each maps standardised features (n, d) to (n, e).

Served embeddings are plain numpy (`Identity`, `PCAEmbedding`, `EncoderEmbedding`); fitting the
ones that learn with torch lives in `recommender.training`. Each has `state()` (the arrays
saved in an artifact) and a loader from those arrays, named in `recommender.registry`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = ["Embedding", "Identity"]


class Embedding(Protocol):
    """Maps standardised features (n, d) to the space neighbours are searched in (n, e)."""

    def transform(self, scaled: np.ndarray) -> np.ndarray: ...

    def state(self) -> dict[str, np.ndarray]: ...


class Identity:
    """The standardised features themselves (plain KNN)."""

    def transform(self, scaled: np.ndarray) -> np.ndarray:
        return scaled

    def state(self) -> dict[str, np.ndarray]:
        return {}

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> Identity:
        return cls()
