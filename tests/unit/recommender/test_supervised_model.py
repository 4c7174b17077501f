"""`supervised` trains on any labelled catalog and is served as numpy arrays, like the others."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import torch
from model_catalogs import grouped_catalog
from safetensors.numpy import load_file, save_file

from recommender.artifacts import load_artifact, save_artifact
from recommender.catalog import Catalog
from recommender.embeddings.supervised import SupervisedEmbedding
from recommender.training.supervised import LabelNetwork, train_supervised

FAST = {"epochs": 15, "hidden": (16,), "clusters": 0}


def awkward_catalog() -> Catalog:
    """Six tight groups; labels as real exports have them: a label held by one song, songs
    with several labels, songs with none, and a second label column."""
    grouped = grouped_catalog(6, 12, seed=4)
    genre = grouped.labels("genre").copy()
    genre[0] = "solo"  # the only song with this label
    genre[1] = "g0|g1"  # multi-label
    genre[2:5] = ""  # unlabelled
    mood = np.where(np.arange(len(genre)) % 2 == 0, "up", "down").astype(object)
    extra = pd.DataFrame({"genre": genre, "mood": mood})
    return Catalog(grouped.track_ids, grouped.names, grouped.artists, grouped.features, extra=extra)


def test_trains_on_rare_multi_and_missing_labels_and_two_columns() -> None:
    catalog = awkward_catalog()
    options = {**FAST, "label_column": "genre", "extra_label_columns": ["mood"]}
    model = train_supervised(catalog, options=options)
    curve = model.training_curve
    assert curve is not None
    assert curve.extra["training_songs"] == len(catalog)  # every song has a mood
    assert curve.extra["labels"]["genre"] == ["g0", "g1", "g2", "g3", "g4", "g5", "solo"]
    assert model.catalog_embedding.shape == (len(catalog), 9 + (7 + 1) + (2 + 1))
    only_genre = train_supervised(catalog, options={**FAST, "label_column": "genre"})
    assert only_genre.training_curve.extra["training_songs"] == len(catalog) - 3


def test_same_seed_same_model_and_another_seed_another() -> None:
    catalog = grouped_catalog(4, 10, seed=2)
    first, second = (train_supervised(catalog, options={**FAST, "seed": 3}) for _ in range(2))
    np.testing.assert_array_equal(first.catalog_embedding, second.catalog_embedding)
    # Labelled songs sit at their labels: the networks show in their predictions.
    seeds = catalog.features + 0.01
    np.testing.assert_array_equal(first.embed(seeds), second.embed(seeds))
    other = train_supervised(catalog, options={**FAST, "seed": 4})
    assert not np.array_equal(first.embed(seeds), other.embed(seeds))


def test_neighbours_share_the_label_it_learned() -> None:
    catalog = grouped_catalog(6, 10, seed=5)
    options = {**FAST, "epochs": 100, "batch_size": 16, "weight": 8.0}
    model = train_supervised(catalog, options=options)
    rows = model.recommend(np.arange(len(catalog)), 5).rows
    genre = catalog.labels("genre")
    assert (genre[rows] == genre[:, None]).mean() > 0.95
    probabilities = model.embedding.probabilities(model.scaler.transform(catalog.features))[0]
    names = np.array(model.training_curve.extra["labels"]["genre"])
    assert (names[probabilities.argmax(axis=1)] == genre).mean() > 0.99


def test_the_numpy_forward_pass_is_the_torch_network() -> None:
    torch.manual_seed(0)
    network = LabelNetwork(9, (12, 8), (5, 3), dropout=0.2).eval()
    x = np.random.default_rng(0).normal(size=(50, 9)).astype(np.float32)
    with torch.no_grad():
        expected = [torch.softmax(h, dim=1).numpy() for h in network(torch.from_numpy(x))]
    served = network.export(weight=2.0, geometry="hellinger", inputs=None)
    for got, want in zip(served.probabilities(x), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    embedding = served.transform(x)
    np.testing.assert_allclose(embedding[:, 9:14], 2.0 * np.sqrt(expected[0]), atol=1e-5)


def test_saved_and_loaded_without_torch_state(tmp_path) -> None:
    catalog = grouped_catalog(4, 10, seed=6)
    model = train_supervised(catalog, options={**FAST, "label_column": "genre"})
    path = save_artifact(model, tmp_path)
    assert not list(path.glob("*.pt")) and not list(path.glob("*.pkl"))
    loaded = load_artifact(tmp_path, "supervised", catalog)
    assert isinstance(loaded.embedding, SupervisedEmbedding)
    seeds = catalog.features[:7] + 0.01
    np.testing.assert_allclose(loaded.embed(seeds), model.embed(seeds), atol=1e-6)
    unknown = np.full(7, -1)
    np.testing.assert_array_equal(
        loaded.recommend(unknown, 4, seeds).rows, model.recommend(unknown, 4, seeds).rows
    )


def test_an_artifact_from_before_the_labels_geometry_still_loads(tmp_path) -> None:
    catalog = grouped_catalog(4, 10, seed=6)
    options = {**FAST, "label_column": "genre", "geometry": "hellinger"}
    model = train_supervised(catalog, options=options)
    path = save_artifact(model, tmp_path)
    # What an artifact of the Hellinger-only model held: `sqrt_probabilities`, no geometry,
    # no label names.
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["options"]["geometry"], manifest["options"]["artist_prior"]
    manifest["options"]["sqrt_probabilities"] = True
    (path / "manifest.json").write_text(json.dumps(manifest))
    weights = load_file(path / "model.safetensors")
    old = {k: v for k, v in weights.items() if k != "supervised.geometry"}
    old = {k: v for k, v in old.items() if k != "supervised.artist_prior"}
    old = {k: v for k, v in old.items() if not k.startswith(("supervised.labels", "supervised.c"))}
    save_file(old, path / "model.safetensors")
    loaded = load_artifact(tmp_path, "supervised", catalog)
    assert loaded.embedding.geometry == "hellinger" and loaded.options["geometry"] == "hellinger"
    assert loaded.query_zeroed.size == 0
    # Saved before `artist_prior`: placed without artists, and its options say so.
    assert loaded.options["artist_prior"] == loaded.embedding.artist_prior == 0.0
    seeds = catalog.features[:5] + 0.01
    np.testing.assert_allclose(loaded.embed(seeds), model.embed(seeds), atol=1e-6)


def test_an_ensemble_predicts_the_mean_of_its_networks_and_saves_them_all() -> None:
    torch.manual_seed(0)
    networks = [LabelNetwork(9, (12,), (5, 3), dropout=0.0).eval() for _ in range(3)]
    x = np.random.default_rng(1).normal(size=(40, 9)).astype(np.float32)
    with torch.no_grad():
        outputs = [[torch.softmax(h, 1).numpy() for h in n(torch.from_numpy(x))] for n in networks]
    served = networks[0].export(2.0, "labels", None, members=networks[1:])
    for head, got in enumerate(served.probabilities(x)):
        want = np.mean([out[head] for out in outputs], axis=0)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    loaded = SupervisedEmbedding.from_state(served.state())
    assert len(loaded.members) == 2
    np.testing.assert_array_equal(loaded.transform(x), served.transform(x))


def test_members_train_with_successive_seeds() -> None:
    catalog = grouped_catalog(4, 10, seed=2)
    single = train_supervised(catalog, options={**FAST, "seed": 3, "members": 1})
    pair = train_supervised(catalog, options={**FAST, "seed": 3, "members": 2})
    assert pair.training_curve.extra["members"] == 2 and len(pair.embedding.members) == 1
    # The first member is the single network of the same seed; the second, seed 4's.
    for got, want in zip(pair.embedding.trunk[0], single.embedding.trunk[0], strict=True):
        np.testing.assert_array_equal(got, want)
    other = train_supervised(catalog, options={**FAST, "seed": 4, "members": 1})
    for got, want in zip(pair.embedding.members[0][0][0], other.embedding.trunk[0], strict=True):
        np.testing.assert_array_equal(got, want)


def test_an_unlabelled_song_is_placed_between_its_prediction_and_its_artists_labels() -> None:
    torch.manual_seed(0)
    network = LabelNetwork(9, (12,), (3,), dropout=0.0).eval()
    served = network.export(1.0, "labels", None, [("a", "b", "c")], ["genre"], artist_prior=1.0)
    x = np.random.default_rng(2).normal(size=(6, 9)).astype(np.float32)
    genres = ["a", "b", "", "", "c", ""]
    # Row 2's artist is rows 0 and 1's (trimmed, case-folded); row 3's has no labelled song;
    # row 5 has no artist at all.
    artists = ["Xavier", "Xavier", " xavier ", "Yola", "Zed", ""]
    predicted = served.probabilities(x)[0]
    block = served.place(x, {"genre": genres}, artists)[:, 9:12]
    np.testing.assert_allclose(block[2], (predicted[2] + [1.0, 1.0, 0.0]) / 3, atol=1e-6)
    np.testing.assert_allclose(block[[3, 5]], predicted[[3, 5]], atol=1e-6)
    np.testing.assert_allclose(block[[0, 1, 4]], np.eye(3), atol=1e-6)
    # Saved with the model; a model saved before it places by the prediction alone.
    loaded = SupervisedEmbedding.from_state(served.state())
    assert loaded.artist_prior == 1.0
    older = {k: v for k, v in served.state().items() if k != "supervised.artist_prior"}
    alone = SupervisedEmbedding.from_state(older).place(x, {"genre": genres}, artists)
    np.testing.assert_allclose(alone[2, 9:12], predicted[2], atol=1e-6)
