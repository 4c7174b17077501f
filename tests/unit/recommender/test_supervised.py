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


def test_supervised_embedding_appends_one_probability_block_per_label_column() -> None:
    frame = generate_catalog(600, seed=2)
    frame["mood"] = np.where(frame["valence"] > 0.5, "happy", "sad")
    catalog = Catalog.from_frame(frame, extra_columns=["genre", "mood"])
    options = {"label_column": "genre", "extra_label_columns": ["mood"], "epochs": 20}
    model = train_supervised(catalog, options=options)
    n_genres = len(set(frame["genre"]))
    assert model.catalog_embedding.shape == (600, 9 + n_genres + 2)
    # Square roots of probabilities by default (Hellinger geometry): their squares sum to 1.
    roots = model.catalog_embedding[:, 9:] / model.options["weight"]
    assert np.allclose((roots[:, :n_genres] ** 2).sum(axis=1), 1.0, atol=1e-5)
    rows = model.recommend(np.arange(5), 3).rows
    assert rows.shape == (5, 3) and (rows >= 0).all()
    linear = train_supervised(catalog, options={**options, "sqrt_probabilities": False})
    probabilities = linear.catalog_embedding[:, 9:] / linear.options["weight"]
    np.testing.assert_allclose(probabilities, roots**2, atol=1e-5)


def test_supervised_rejects_unknown_options_and_single_label_data() -> None:
    frame = generate_catalog(100, seed=1)
    catalog = Catalog.from_frame(frame, extra_columns=["genre"])
    with pytest.raises(ValueError, match="no option"):
        train_supervised(catalog, options={"label_column": "genre", "depth": 3})
    frame["genre"] = "pop"
    single = Catalog.from_frame(frame, extra_columns=["genre"])
    with pytest.raises(ValueError, match="two distinct labels"):
        train_supervised(single, options={"label_column": "genre"})
