"""The models an evaluation compares: trained in place, loaded from artifacts, or label-trained.

Models trained without labels may see every evaluated song's features (that is how they are
deployed); a model trained on labels never sees a query's label (see `protocol`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from recommender.artifacts import load_artifact
from recommender.catalog import Catalog
from recommender.clusters import fit_clusters
from recommender.embeddings import place
from recommender.errors import ArtifactNotFound
from recommender.evaluation import protocol
from recommender.evaluation.runner import EvaluationData
from recommender.recommender import Recommender
from recommender.registry import spec
from recommender.training import train_model


def rebuild(
    recommender: Recommender, catalog: Catalog, encoded: np.ndarray | None = None
) -> Recommender:
    """The same scaler, embedding and metric, searching another catalog, its songs placed at
    `encoded` (None: as the model places them, labelled songs by their labels)."""
    return Recommender(
        recommender.name,
        catalog,
        recommender.scaler,
        recommender.embedding,
        recommender.metric,
        catalog_embedding=encoded,
        options=recommender.options,
        training_curve=recommender.training_curve,
    )


def evaluated_model(
    name: str,
    data: EvaluationData,
    label_column: str,
    *,
    full_catalog: Catalog,
    artifacts: Path | None = None,
    options: dict[str, Any] | None = None,
) -> tuple[Recommender, str]:
    """A recommender over `data.catalog`, and one line on how it was trained."""
    options = dict(options or {})
    if spec(name).needs_labels:
        if len(data.train) == 0:
            raise ValueError(
                f"model {name!r} trains on labels and no song is left to train on: "
                "ask for fewer queries, or use a train fraction above 0"
            )
        options.setdefault("label_column", label_column)
        trained = train_model(name, data.train, options=options)
        columns = [options["label_column"], *options.get("extra_label_columns", ())]
        songs = len(data.train.canonical_rows)
        scaled = trained.scaler.transform(data.catalog.features)
        if not data.candidate_labels:
            note = (
                f"trained on the labels ({', '.join(columns)}) of {songs} training songs, "
                "disjoint from every query and candidate"
            )
            # Every candidate (and query) placed by prediction: no label of theirs is known.
            return rebuild(trained, data.catalog, trained.embedding.transform(scaled)), note
        # As deployed: the catalog's labels place its songs, the queries' stay unknown.
        hidden = protocol.without_labels(data.catalog, data.queries, columns)
        note = (
            f"trained on the labels ({', '.join(columns)}) of the {songs} songs that are not "
            "queries; the queries' labels are hidden from it"
        )
        placed = place(trained.embedding, scaled, hidden.extra, data.catalog.artists)
        return rebuild(trained, data.catalog, placed), note
    if artifacts is not None:
        try:
            loaded = load_artifact(artifacts, name, full_catalog)
        except ArtifactNotFound:
            pass
        else:
            return rebuild(loaded, data.catalog), f"artifact {loaded.version} (no labels)"
    trained = train_model(name, data.catalog, options=options or None)
    return trained, "trained in place on the candidate songs' features (no labels)"


def clusters_for_map(recommender: Recommender, seed: int = 0) -> np.ndarray:
    """The model's own cluster per catalog row, or KMeans over its embedding when it has none."""
    clusters = getattr(recommender, "clusters", None)
    if clusters is not None and len(clusters) == len(recommender.catalog):
        return np.asarray(clusters)
    n = min(10, len(np.unique(recommender.catalog_embedding, axis=0)))
    return fit_clusters(recommender.catalog_embedding, n, seed=seed)
