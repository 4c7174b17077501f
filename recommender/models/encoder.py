"""The autoencoder's configuration and its served form, the encoder as numpy arrays.

Torch-free on purpose: the service loads and runs encoders without importing torch; only
training (`recommender.models.autoencoder`) needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.models.layers import forward, layers_from_state, layers_state


@dataclass(frozen=True)
class AutoencoderConfig:
    """Default: input -> 12 -> 6 latent -> 12 -> input; ReLU between, linear latent and output."""

    hidden: tuple[int, ...] = (12,)
    latent_dim: int = 6
    # A linear latent keeps all its dimensions alive for the distance search; True applies ReLU.
    relu_latent: bool = False
    # Enough for early stopping to end training on real catalogs (~280 epochs on 28k songs).
    epochs: int = 300
    batch_size: int = 256
    learning_rate: float = 1e-3
    validation_split: float = 0.1
    patience: int = 10  # epochs without a better validation MSE before stopping
    seed: int = 0

    def __post_init__(self) -> None:
        if self.latent_dim < 1 or any(h < 1 for h in self.hidden):
            raise ValueError("layer sizes must be positive")
        if self.epochs < 1 or self.batch_size < 1 or self.patience < 1:
            raise ValueError("epochs, batch_size and patience must be positive")
        if not 0.0 <= self.validation_split < 1.0:
            raise ValueError("validation_split must lie in [0, 1)")


@dataclass(frozen=True)
class EncoderEmbedding:
    """The trained encoder as numpy arrays; ReLU between layers, on the latent only if asked."""

    weights: tuple[np.ndarray, ...]  # (in, out) float32 each
    biases: tuple[np.ndarray, ...]  # (out,) float32 each
    relu_latent: bool = False

    def transform(self, scaled: np.ndarray) -> np.ndarray:
        return forward(scaled, (self.weights, self.biases), relu_last=self.relu_latent)

    def state(self) -> dict[str, np.ndarray]:
        state = layers_state("encoder", (self.weights, self.biases))
        state["encoder.relu_latent"] = np.array([int(self.relu_latent)], dtype=np.int64)
        return state

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> EncoderEmbedding:
        weights, biases = layers_from_state("encoder", state)
        return cls(weights, biases, bool(state["encoder.relu_latent"][0]))
