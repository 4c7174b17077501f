"""`metric`: a label-trained embedding, the standardised features plus a genre-probability block.

A classifier learns P(label | features) on a training catalog (gradient-boosted trees by
default, or a small MLP whose weights are plain arrays and can be saved); the embedding is
`[scaled, weight * P(label | scaled)]`, so neighbours must be close in sound *and* in how
their sound reads as a label. Songs with several labels count once per label in training.
Train it only on songs disjoint from anything it is evaluated on (see `recommender.evaluation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.neural_network import MLPClassifier

from recommender.catalog import Catalog
from recommender.ingest import split_labels
from recommender.model import Recommender
from recommender.scaling import Standardizer

DEFAULTS: dict[str, Any] = {
    "label_column": "genre",
    "classifier": "boosting",  # or "mlp"
    "hidden": (64, 64),  # mlp only
    "weight": 6.0,
    "seed": 0,
}


@dataclass(frozen=True)
class BoostedProbabilityEmbedding:
    """Trees cannot be stored as a few arrays: this variant is for in-place evaluation."""

    classifier: HistGradientBoostingClassifier
    weight: float

    def transform(self, scaled: np.ndarray) -> np.ndarray:
        scaled = np.asarray(scaled, dtype=np.float32)
        probabilities = self.classifier.predict_proba(scaled)
        return np.hstack([scaled, self.weight * probabilities]).astype(np.float32)


@dataclass(frozen=True)
class LabelProbabilityEmbedding:
    weights: tuple[np.ndarray, ...]  # (in, out) per layer
    biases: tuple[np.ndarray, ...]
    weight: float  # scale of the probability block against the unit-variance features

    def probabilities(self, scaled: np.ndarray) -> np.ndarray:
        hidden = np.asarray(scaled, dtype=np.float32)
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            hidden = np.maximum(hidden @ w + b, 0.0)
        logits = hidden @ self.weights[-1] + self.biases[-1]
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return np.asarray(odds / odds.sum(axis=1, keepdims=True), dtype=np.float32)

    def transform(self, scaled: np.ndarray) -> np.ndarray:
        scaled = np.asarray(scaled, dtype=np.float32)
        return np.hstack([scaled, self.weight * self.probabilities(scaled)]).astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        state = {f"layer{i}.weight": w for i, w in enumerate(self.weights)}
        state.update({f"layer{i}.bias": b for i, b in enumerate(self.biases)})
        state["block.weight"] = np.array([self.weight], dtype=np.float32)
        return state

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> LabelProbabilityEmbedding:
        layers = sum(1 for key in state if key.endswith(".weight") and key.startswith("layer"))
        return cls(
            tuple(np.asarray(state[f"layer{i}.weight"], np.float32) for i in range(layers)),
            tuple(np.asarray(state[f"layer{i}.bias"], np.float32) for i in range(layers)),
            float(state["block.weight"][0]),
        )


def training_pairs(scaled: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One (features, label) pair per label of each row; unlabelled rows are skipped."""
    sets = [sorted(split_labels(v)) for v in labels]
    counts = np.array([len(s) for s in sets], dtype=np.int64)
    return np.repeat(scaled, counts, axis=0), np.array([x for s in sets for x in s], dtype=object)


def fit_label_embedding(
    scaled: np.ndarray, labels: np.ndarray, options: dict[str, Any]
) -> LabelProbabilityEmbedding | BoostedProbabilityEmbedding:
    x, y = training_pairs(scaled, labels)
    if len(np.unique(y)) < 2:
        raise ValueError("the metric model needs at least two distinct labels to train on")
    if options["classifier"] == "boosting":
        boosted = HistGradientBoostingClassifier(
            max_iter=200, learning_rate=0.05, early_stopping=True, random_state=options["seed"]
        )
        return BoostedProbabilityEmbedding(boosted.fit(x, y.astype(str)), float(options["weight"]))
    if options["classifier"] != "mlp":
        raise ValueError(f"classifier must be 'boosting' or 'mlp', not {options['classifier']!r}")
    return _mlp_embedding(x, y, options)


def _mlp_embedding(
    x: np.ndarray, y: np.ndarray, options: dict[str, Any]
) -> LabelProbabilityEmbedding:
    classifier = MLPClassifier(
        hidden_layer_sizes=tuple(options["hidden"]),
        max_iter=300,
        early_stopping=True,
        random_state=options["seed"],
    ).fit(x, y.astype(str))
    weights = [np.asarray(w, np.float32) for w in classifier.coefs_]
    biases = [np.asarray(b, np.float32) for b in classifier.intercepts_]
    if len(classifier.classes_) == 2:
        # sklearn gives a binary problem one logistic output; as softmax logits: [0, z].
        weights[-1] = np.hstack([np.zeros_like(weights[-1]), weights[-1]])
        biases[-1] = np.concatenate([np.zeros_like(biases[-1]), biases[-1]])
    return LabelProbabilityEmbedding(tuple(weights), tuple(biases), float(options["weight"]))


def train_metric(catalog: Catalog, *, options: dict[str, Any] | None = None) -> Recommender:
    """Fit on `catalog`'s labels (one row per song) and return a recommender over it."""
    opts = {**DEFAULTS, **(options or {})}
    unknown = sorted(set(opts) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"model 'metric' takes no option {', '.join(unknown)}")
    scaler = Standardizer.fit(catalog.features)
    songs = catalog.canonical_rows
    scaled = scaler.transform(catalog.features[songs])
    embedding = fit_label_embedding(scaled, catalog.labels(opts["label_column"])[songs], opts)
    return Recommender("metric", catalog, scaler, embedding, "euclidean")
