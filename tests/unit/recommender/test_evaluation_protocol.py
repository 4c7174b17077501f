"""The protocol: song-level split, queries, multi-label hits and relevant counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from model_catalogs import grouped_catalog

from recommender.catalog import Catalog
from recommender.evaluation import EvaluationPlan, evaluate, prepare, protocol
from recommender.evaluation.builders import evaluated_model
from recommender.recommender import knn


def _catalog() -> Catalog:
    # Rows 0 and 1 are one song (same name+artist); labels '|'-joined as the loader writes them.
    frame = pd.DataFrame(
        {
            "track_id": ["a", "b", "c", "d", "e"],
            "track_name": ["One", "one", "Two", "Three", "Four"],
            "artist": ["X", "X", "Y", "Z", "Z"],
            "genre": ["pop|rock", "pop|rock", "rock", "edm", "pop"],
            "danceability": [0.1, 0.1, 0.2, 0.9, 0.15],
            "energy": [0.5, 0.5, 0.5, 0.5, 0.5],
        }
    )
    return Catalog.from_frame(frame, ("danceability", "energy"), extra_columns=["genre"])


def test_hits_intersect_label_sets_and_padding_never_hits() -> None:
    catalog = _catalog()
    labels, names = protocol.label_matrix(catalog, "genre")
    assert names == ["edm", "pop", "rock"]
    rows = np.array([[2, 3, 4, -1]])
    assert protocol.hits(labels, np.array([0]), rows).tolist() == [[True, False, True, False]]
    first, _ = protocol.label_matrix(catalog, "genre", mode="first")
    assert protocol.hits(first, np.array([0]), rows).tolist() == [[False, False, True, False]]


def test_relevant_counts_exclude_the_query_song() -> None:
    catalog = _catalog()
    labels, _ = protocol.label_matrix(catalog, "genre")
    # Song "One" (rows 0, 1) shares a label with "Two" and "Four"; "Three" only with itself.
    counts = protocol.relevant_counts(catalog, labels, np.array([0, 3]))
    assert counts.tolist() == [2, 0]


def test_split_keeps_songs_whole_and_queries_are_canonical() -> None:
    catalog = _catalog()
    train, held = protocol.split_songs(catalog, 0.5, seed=1)
    assert set(train) | set(held) == set(range(5)) and not set(train) & set(held)
    assert ({0, 1} <= set(train)) or ({0, 1} <= set(held))
    queries = protocol.sample_queries(catalog, 10, seed=0)
    assert set(queries) <= set(catalog.canonical_rows.tolist())


def test_a_query_never_gets_its_own_song_back() -> None:
    catalog = _catalog()
    data = prepare(catalog, EvaluationPlan("genre", k=3, queries=10, train_fraction=0.0))
    report = evaluate(knn(data.catalog), data, k=3)
    rows = knn(data.catalog).recommend(data.queries, 3).rows
    songs = data.catalog.song_ids
    for query, recommended in zip(data.queries, rows, strict=True):
        assert songs[query] not in {songs[r] for r in recommended if r >= 0}
    assert len(report["precision_at_k"]) == 3


def test_a_label_trained_model_never_learns_a_query_label() -> None:
    catalog = grouped_catalog(5, 40, seed=3)
    data = prepare(catalog, EvaluationPlan("genre", k=5, queries=30))
    queried = np.isin(data.catalog.song_ids, data.catalog.song_ids[data.queries])
    assert not set(data.train.track_ids) & set(data.catalog.track_ids[queried])
    assert len(data.train.canonical_rows) == len(catalog.canonical_rows) - 30
    options = {"epochs": 10, "hidden": (16,), "clusters": 0}
    model, note = evaluated_model(
        "supervised", data, "genre", full_catalog=catalog, options=options
    )
    assert "hidden" in note
    width = catalog.features.shape[1]
    blocks = model.catalog_embedding[:, width:-1] / model.options["weight"]
    # The queries are placed by prediction, every other song by its own label.
    predicted = model.embedding.probabilities(model.scaler.transform(catalog.features))[0]
    np.testing.assert_allclose(blocks[data.queries], predicted[data.queries], atol=1e-5)
    others = np.setdiff1d(np.arange(len(catalog)), data.queries)
    names = np.array(model.embedding.labels[0])
    assert (names[blocks[others].argmax(axis=1)] == catalog.labels("genre")[others]).all()
    assert np.allclose(blocks[others].max(axis=1), 1.0)
    split = prepare(catalog, EvaluationPlan("genre", k=5, queries=30, train_fraction=0.25))
    assert not set(split.train.track_ids) & set(split.catalog.track_ids)
    model, note = evaluated_model(
        "supervised", split, "genre", full_catalog=catalog, options=options
    )
    assert "disjoint" in note
    scaled = model.scaler.transform(split.catalog.features)
    np.testing.assert_allclose(
        model.catalog_embedding, model.embedding.transform(scaled), atol=1e-6
    )
