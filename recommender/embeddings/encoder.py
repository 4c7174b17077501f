"""The autoencoder's configuration and its served form, the encoder as numpy arrays.

Torch-free on purpose: the service loads and runs encoders without importing torch; only
training (`recommender.training.autoencoder`) needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.embeddings.layers import forward, layers_from_state, layers_state
from recommender.embeddings.quantiles import QuantileNormal
from recommender.errors import ConfigurationError


@dataclass(frozen=True)
class AutoencoderConfig:
    """Default: quantile-normal input (d features) -> 128 -> d - 1 latent -> 128 -> input, 10 %
    of the inputs masked in training.

    ReLU between layers, linear latent and output. The issue's original network (input -> 12 ->
    6 on standardised features) is `hidden=(12,), latent_dim=6, quantile_inputs=False,
    input_dropout=0.0`; docs/quality.md says why the defaults moved (it ranked 6.5 % below KNN)
    and how these were chosen across catalogs and feature sets.
    """

    hidden: tuple[int, ...] = (128,)
    # None: one fewer than the features the catalog has (8 of the nine audio features, 15 of
    # sixteen with extras): a fixed 8 loses to plain KNN once extras widen the input.
    latent_dim: int | None = None
    # Map each standardised feature to the normal score of its rank before the network (see
    # `recommender.embeddings.quantiles`); the map is part of the served encoder.
    quantile_inputs: bool = True
    # Share of input values zeroed in each training batch (a masked, denoising autoencoder): the
    # network must rebuild a feature from the others, so the latent keeps what they share.
    input_dropout: float = 0.1
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
        if (self.latent_dim is not None and self.latent_dim < 1) or any(h < 1 for h in self.hidden):
            raise ConfigurationError("layer sizes must be positive")
        if self.epochs < 1 or self.batch_size < 1 or self.patience < 1:
            raise ConfigurationError("epochs, batch_size and patience must be positive")
        if not 0.0 <= self.validation_split < 1.0:
            raise ConfigurationError("validation_split must lie in [0, 1)")
        if not 0.0 <= self.input_dropout < 1.0:
            raise ConfigurationError("input_dropout must lie in [0, 1)")

    def latent_for(self, n_features: int) -> int:
        """The latent size for a catalog of `n_features` features."""
        return self.latent_dim if self.latent_dim is not None else max(1, n_features - 1)


@dataclass(frozen=True)
class EncoderEmbedding:
    """The trained encoder as numpy arrays: the optional quantile-normal input map, then dense
    layers with ReLU between them (on the latent only if asked)."""

    weights: tuple[np.ndarray, ...]  # (in, out) float32 each
    biases: tuple[np.ndarray, ...]  # (out,) float32 each
    relu_latent: bool = False
    inputs: QuantileNormal | None = None

    def transform(self, scaled: np.ndarray) -> np.ndarray:
        if self.inputs is not None:
            scaled = self.inputs.transform(scaled)
        return forward(scaled, (self.weights, self.biases), relu_last=self.relu_latent)

    def state(self) -> dict[str, np.ndarray]:
        state = layers_state("encoder", (self.weights, self.biases))
        state["encoder.relu_latent"] = np.array([int(self.relu_latent)], dtype=np.int64)
        if self.inputs is not None:
            state.update(self.inputs.state("encoder.inputs"))
        return state

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> EncoderEmbedding:
        weights, biases = layers_from_state("encoder", state)
        inputs = QuantileNormal.from_state(state, "encoder.inputs")
        return cls(weights, biases, bool(state["encoder.relu_latent"][0]), inputs)
