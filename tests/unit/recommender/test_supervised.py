"""The label-trained `supervised` model: soft targets, embedding shape, option checks."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.catalog import Catalog
from recommender.training.supervised import label_targets, train_supervised
from recommender.training.synthetic import generate_catalog


def test_label_targets_count_each_label_of_a_song() -> None:
    targets, names = label_targets(np.array(["pop|rock", "", "edm"], dtype=object))
    assert names == ["edm", "pop", "rock"]
    # Each label of a song counts (evenly); an unlabelled song has no target at all.
    assert targets.tolist() == [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]


def test_supervised_embedding_appends_one_label_block_per_label_column() -> None:
    frame = generate_catalog(600, seed=2)
    frame["mood"] = np.where(frame["valence"] > 0.5, "happy", "sad")
    frame.loc[:9, "genre"] = ""  # ten songs without a genre
    catalog = Catalog.from_frame(frame, extra_columns=["genre", "mood"])
    # (Without its artist's labels: those move an unlabelled song, tested on their own.)
    options = {
        "label_column": "genre",
        "extra_label_columns": ["mood"],
        "epochs": 20,
        "artist_prior": 0,
    }
    model = train_supervised(catalog, options=options)
    n_genres = len(set(frame["genre"])) - 1
    # Each block: a distribution over the column's labels and one length term.
    assert model.catalog_embedding.shape == (600, 9 + n_genres + 1 + 2 + 1)
    blocks = model.catalog_embedding[:, 9:] / model.options["weight"]
    genre, mood = blocks[:, : n_genres + 1], blocks[:, n_genres + 1 :]
    assert np.allclose((genre**2).sum(axis=1), 1.0, atol=1e-5)
    assert np.allclose((mood**2).sum(axis=1), 1.0, atol=1e-5)
    # A labelled song sits at its own label; a song without one at the network's prediction.
    names = list(model.embedding.labels[0])
    at = [names.index(g) for g in frame["genre"][10:]]
    np.testing.assert_array_equal(genre[10:, :-1].argmax(axis=1), at)
    assert np.allclose(genre[10:, :-1].max(axis=1), 1.0) and np.allclose(genre[10:, -1], 0.0)
    predicted = model.embedding.probabilities(model.scaler.transform(catalog.features[:10]))[0]
    np.testing.assert_allclose(genre[:10, :-1], predicted, atol=1e-5)
    # A query leaves the length terms at zero.
    assert model.query_zeroed.tolist() == [9 + n_genres, 9 + n_genres + 3]
    queries = model.as_queries(model.catalog_embedding[:3].copy())
    assert (queries[:, model.query_zeroed] == 0).all()
    rows = model.recommend(np.arange(5), 3).rows
    assert rows.shape == (5, 3) and (rows >= 0).all()
    roots = train_supervised(catalog, options={**options, "geometry": "hellinger"})
    assert roots.query_zeroed.size == 0
    squares = (roots.catalog_embedding[:, 9:] / roots.options["weight"]) ** 2
    linear = train_supervised(catalog, options={**options, "geometry": "probabilities"})
    probabilities = linear.catalog_embedding[:, 9:] / linear.options["weight"]
    np.testing.assert_allclose(probabilities, squares, atol=1e-5)
    assert np.allclose(probabilities[:, :n_genres].sum(axis=1), 1.0, atol=1e-5)


def test_supervised_rejects_unknown_options_single_label_data_and_id_like_labels() -> None:
    frame = generate_catalog(100, seed=1)
    catalog = Catalog.from_frame(frame, extra_columns=["genre"])
    with pytest.raises(ValueError, match="no option"):
        train_supervised(catalog, options={"label_column": "genre", "depth": 3})
    frame["genre"] = "pop"
    single = Catalog.from_frame(frame, extra_columns=["genre"])
    with pytest.raises(ValueError, match="two distinct labels"):
        train_supervised(single, options={"label_column": "genre"})
    frame["genre"] = frame["track_name"]  # a column of titles: one song per label
    titles = Catalog.from_frame(frame, extra_columns=["genre"])
    with pytest.raises(ValueError, match="looks like an identifier"):
        train_supervised(titles, options={"label_column": "genre"})
