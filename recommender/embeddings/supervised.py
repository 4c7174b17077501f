"""The `supervised` model's served form: a label classifier's probabilities beside the features.

A small network trained on label columns (`recommender.training.supervised`, torch) predicts,
per column, a distribution over its labels. The embedding is

    [standardised features, weight * sqrt(P(column_1 | x)), weight * sqrt(P(column_2 | x)), ...]

so neighbours must be close in sound *and* in how their sound reads as a label. With the
square roots the euclidean distance between two blocks is (√2 times) the Hellinger distance
between the label distributions. Served as numpy (`layers.forward`), so no torch here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.embeddings.layers import Layers, forward, layers_from_state, layers_state
from recommender.embeddings.quantiles import QuantileNormal

__all__ = ["SupervisedEmbedding", "softmax"]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    shifted: np.ndarray = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


@dataclass(frozen=True)
class SupervisedEmbedding:
    """A trunk of dense ReLU layers, one softmax head per label column, and the block weight."""

    trunk: Layers  # (weights (in, out), biases): ReLU after every layer
    heads: Layers  # one (hidden, n_labels) layer per label column
    weight: float  # of each probability block against the unit-variance features
    sqrt: bool = True  # blocks hold square roots of the probabilities (Hellinger geometry)
    inputs: QuantileNormal | None = None  # the network's input map (the feature block is not)

    def probabilities(self, scaled: np.ndarray) -> list[np.ndarray]:
        """P(label | features) per label column: (n, n_labels) each."""
        x = np.asarray(scaled, dtype=np.float32)
        if self.inputs is not None:
            x = self.inputs.transform(x)
        hidden = forward(x, self.trunk, relu_last=True)  # no trunk: softmax regression
        return [softmax(hidden @ w + b) for w, b in zip(*self.heads, strict=True)]

    def transform(self, scaled: np.ndarray) -> np.ndarray:
        scaled = np.asarray(scaled, dtype=np.float32)
        blocks = [np.sqrt(p) if self.sqrt else p for p in self.probabilities(scaled)]
        return np.hstack([scaled, *(self.weight * b for b in blocks)]).astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        state = {
            **layers_state("supervised.trunk", self.trunk),
            **layers_state("supervised.heads", self.heads),
            "supervised.weight": np.array([self.weight], dtype=np.float32),
            "supervised.sqrt": np.array([int(self.sqrt)], dtype=np.int64),
        }
        if self.inputs is not None:
            state.update(self.inputs.state("supervised.inputs"))
        return state

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> SupervisedEmbedding:
        return cls(
            layers_from_state("supervised.trunk", state),
            layers_from_state("supervised.heads", state),
            float(state["supervised.weight"][0]),
            bool(state["supervised.sqrt"][0]),
            QuantileNormal.from_state(state, "supervised.inputs"),
        )
