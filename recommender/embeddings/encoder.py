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

    ReLU between layers, linear latent and output; the standardised features are searched beside
    the latent. The issue's original network (input -> 12 -> 6 on standardised features,
    searched in its latent) is `hidden=(12,), latent_dim=6, quantile_inputs=False,
    input_dropout=0.0, keep_features=False`; docs/quality.md says why the defaults moved (it
    ranked 6.5 % below KNN) and how these were chosen across catalogs and feature sets.
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
    # The embedding searched: the standardised features beside the latent, the latent scaled
    # to a mean spread of `latent_weight` per dimension (False: the latent alone). The latent
    # alone fell below plain KNN on the 114k development catalog; beside the features it is
    # above it on both catalogs and feature sets (docs/quality.md).
    keep_features: bool = True
    latent_weight: float = 1.0
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
        if self.latent_weight <= 0:
            raise ConfigurationError("latent_weight must be positive")

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
    # [standardised features, latent_scale * latent], or the latent alone (artifacts from
    # before `keep_features`).
    keep_features: bool = False
    latent_scale: float = 1.0

    def latent(self, scaled: np.ndarray) -> np.ndarray:
        mapped = self.inputs.transform(scaled) if self.inputs is not None else scaled
        return forward(mapped, (self.weights, self.biases), relu_last=self.relu_latent)

    def transform(self, scaled: np.ndarray) -> np.ndarray:
        latent = self.latent(scaled)
        if not self.keep_features:
            return latent
        scaled = np.asarray(scaled, dtype=np.float32)
        return np.hstack([scaled, np.float32(self.latent_scale) * latent])

    def state(self) -> dict[str, np.ndarray]:
        state = layers_state("encoder", (self.weights, self.biases))
        state["encoder.relu_latent"] = np.array([int(self.relu_latent)], dtype=np.int64)
        state["encoder.keep_features"] = np.array([int(self.keep_features)], dtype=np.int64)
        state["encoder.latent_scale"] = np.array([self.latent_scale], dtype=np.float32)
        if self.inputs is not None:
            state.update(self.inputs.state("encoder.inputs"))
        return state

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> EncoderEmbedding:
        weights, biases = layers_from_state("encoder", state)
        inputs = QuantileNormal.from_state(state, "encoder.inputs")
        keep = (
            bool(state["encoder.keep_features"][0]) if "encoder.keep_features" in state else False
        )
        scale = float(state["encoder.latent_scale"][0]) if "encoder.latent_scale" in state else 1.0
        return cls(weights, biases, bool(state["encoder.relu_latent"][0]), inputs, keep, scale)
