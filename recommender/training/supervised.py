"""`metric`: a label-trained embedding, the standardised features plus label-probability blocks.

Gradient-boosted trees learn P(label | features) for each label column on a training catalog;
the embedding is `[scaled, weight * sqrt(P(column_1 | scaled)), ...]`, so neighbours must be
close in sound *and* in how their sound reads as a label. With the square roots the distance
between two blocks is their Hellinger distance, which counts a difference between small
probabilities for more than the euclidean distance of the probabilities does. A finer
auxiliary column (say `playlist_subgenre` beside `playlist_genre`) adds a block. Songs with
several labels count once per label in training. Train it only on songs disjoint from anything
it is evaluated on (see `recommender.evaluation`). Trees are not a few arrays, so this model
is not saved as an artifact: the evaluation trains it in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from recommender.build import build
from recommender.catalog import Catalog
from recommender.errors import ArtifactError
from recommender.ingest import split_labels
from recommender.recommender import Recommender


@dataclass(frozen=True)
class LabelProbabilityEmbedding:
    classifiers: tuple[HistGradientBoostingClassifier, ...]
    weight: float
    sqrt: bool = True

    def state(self) -> dict[str, np.ndarray]:
        raise ArtifactError("the metric model is trees, not arrays: it is never saved")

    def transform(self, scaled: np.ndarray) -> np.ndarray:
        scaled = np.asarray(scaled, dtype=np.float32)
        with threadpool_limits(1):
            probabilities = [c.predict_proba(scaled) for c in self.classifiers]
        blocks = [self.weight * (np.sqrt(p) if self.sqrt else p) for p in probabilities]
        return np.hstack([scaled, *blocks]).astype(np.float32)


def training_pairs(scaled: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One (features, label) pair per label of each row; unlabelled rows are skipped."""
    sets = [sorted(split_labels(v)) for v in labels]
    counts = np.array([len(s) for s in sets], dtype=np.int64)
    return np.repeat(scaled, counts, axis=0), np.array([x for s in sets for x in s], dtype=str)


def fit_classifier(
    scaled: np.ndarray, labels: np.ndarray, options: dict[str, Any]
) -> HistGradientBoostingClassifier:
    x, y = training_pairs(scaled, labels)
    if len(np.unique(y)) < 2:
        raise ValueError("the metric model needs at least two distinct labels to train on")
    classifier = HistGradientBoostingClassifier(
        max_iter=int(options["iterations"]),
        learning_rate=float(options["learning_rate"]),
        early_stopping=True,
        random_state=int(options["seed"]),
    )
    # One thread: OpenMP spin-waiting on a shared machine costs far more than it saves here.
    with threadpool_limits(1):
        return classifier.fit(x, y)


def fit(
    scaled: np.ndarray, catalog: Catalog, options: dict[str, Any], progress: bool
) -> tuple[LabelProbabilityEmbedding, None]:
    """The registry's fitting function for `metric`: trees on the labels of one row per song."""
    songs = catalog.canonical_rows
    columns = [options["label_column"], *options["extra_label_columns"]]
    classifiers = tuple(
        fit_classifier(scaled[songs], catalog.labels(c)[songs], options) for c in columns
    )
    embedding = LabelProbabilityEmbedding(
        classifiers, float(options["weight"]), bool(options["sqrt_probabilities"])
    )
    return embedding, None


def train_metric(catalog: Catalog, *, options: dict[str, Any] | None = None) -> Recommender:
    """Fit on `catalog`'s labels (one row per song) and return a recommender over it."""
    return build("metric", catalog, options)
