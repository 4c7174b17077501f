"""Versioned artifacts: round trips, versions, refusals, atomic writes, the index hook."""

from __future__ import annotations

import json

import numpy as np
import pytest
from model_catalogs import grouped_catalog
from safetensors.numpy import load_file

from recommender import artifacts
from recommender.artifacts import (
    ArtifactMismatch,
    ArtifactNotFound,
    latest_version,
    load_artifact,
    load_or_train,
    read_cluster_table,
    save_artifact,
)
from recommender.catalog import Catalog
from recommender.recommender import knn
from recommender.search import ExactIndex
from recommender.training import MODEL_NAMES, train_model

OPTIONS = {
    "knn": {"clusters": 3},
    "knn-cosine": {"clusters": 3},
    "pca": {"components": 4, "clusters": 3},
    "autoencoder": {"epochs": 5, "batch_size": 16, "clusters": 3},
    "supervised": {"epochs": 5, "batch_size": 16, "clusters": 3},
}


@pytest.fixture(scope="module")
def catalog():
    return grouped_catalog(groups=4, per_group=8)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_round_trip_gives_identical_recommendations(tmp_path, catalog, name):
    trained = train_model(name, catalog, options=OPTIONS[name])
    path = save_artifact(trained, tmp_path)
    assert path == tmp_path / name / trained.version
    loaded = load_artifact(tmp_path, name, catalog)
    seeds = np.array([0, 5, -1, 31])
    features = catalog.features[[0, 0, 9, 0]] + np.float32(0.01)
    a, b = trained.recommend(seeds, 6, features), loaded.recommend(seeds, 6, features)
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(loaded.catalog_embedding, trained.catalog_embedding)
    np.testing.assert_array_equal(loaded.clusters, trained.clusters)
    assert (loaded.version, loaded.metric, loaded.options) == (
        trained.version,
        trained.metric,
        trained.options,
    )
    assert loaded.training_curve == trained.training_curve


def test_artifact_holds_no_pickle_and_all_it_promises(tmp_path, catalog):
    path = save_artifact(
        train_model("autoencoder", catalog, options=OPTIONS["autoencoder"]), tmp_path
    )
    assert sorted(p.name for p in path.iterdir()) == [
        "catalog.safetensors",
        "clusters.csv",
        "manifest.json",
        "model.safetensors",
    ]
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["catalog_fingerprint"] == catalog.fingerprint
    assert manifest["feature_names"] == list(catalog.feature_names)
    assert manifest["options"]["epochs"] == 5
    assert len(manifest["training_curve"]["train_mse"]) == 5
    assert {"version", "created_at", "metric", "index"} <= set(manifest)
    weights = load_file(path / "model.safetensors")
    assert {"scaler.mean", "scaler.scale", "encoder.0.weight", "encoder.inputs.knots"} <= set(
        weights
    )
    # The nine standardised features beside the default 8-dimensional latent.
    assert load_file(path / "catalog.safetensors")["embedding"].shape == (len(catalog), 9 + 8)
    assert read_cluster_table(tmp_path, "autoencoder")["size"].sum() == len(catalog)


def test_newest_version_is_loaded_unless_one_is_named(tmp_path, catalog):
    assert latest_version(tmp_path, "pca") is None
    old = train_model("pca", catalog, options={"components": 2, "clusters": 0})
    new = train_model("pca", catalog, options={"components": 3, "clusters": 0})
    save_artifact(old, tmp_path)
    save_artifact(new, tmp_path)
    assert old.version < new.version
    assert latest_version(tmp_path, "pca") == new.version
    assert load_artifact(tmp_path, "pca", catalog).catalog_embedding.shape[1] == 3
    assert load_artifact(tmp_path, "pca", catalog, old.version).catalog_embedding.shape[1] == 2
    with pytest.raises(FileExistsError):
        save_artifact(new, tmp_path)


def test_a_model_built_without_a_version_gets_one_on_save(tmp_path, catalog):
    model = knn(catalog)
    path = save_artifact(model, tmp_path)
    assert path.name == model.version == latest_version(tmp_path, "knn")
    assert load_artifact(tmp_path, "knn", catalog).clusters is None


def test_artifact_of_another_catalog_is_refused(tmp_path, catalog):
    save_artifact(train_model("pca", catalog, options={"clusters": 0}), tmp_path)
    other = grouped_catalog(groups=4, per_group=8, seed=1)
    with pytest.raises(ArtifactMismatch, match="another catalog"):
        load_artifact(tmp_path, "pca", other)


def test_artifact_of_other_features_is_refused(tmp_path, catalog):
    save_artifact(train_model("knn", catalog, options={"clusters": 0}), tmp_path)
    names = catalog.feature_names[:-1]
    fewer = Catalog(
        catalog.track_ids, catalog.names, catalog.artists, catalog.features[:, :-1], names
    )
    with pytest.raises(ArtifactMismatch, match="features"):
        load_artifact(tmp_path, "knn", fewer)


def test_missing_artifact_is_not_found(tmp_path, catalog):
    with pytest.raises(ArtifactNotFound):
        load_artifact(tmp_path, "autoencoder", catalog)
    with pytest.raises(FileNotFoundError):
        load_artifact(tmp_path, "autoencoder", catalog, version="20200101T000000000000Z")


def test_a_failed_write_leaves_nothing_behind(tmp_path, catalog, monkeypatch):
    def fail_half_way(recommender, directory):
        (directory / "manifest.json").write_text("{}")
        raise OSError("disk full")

    monkeypatch.setattr(artifacts, "_write", fail_half_way)
    with pytest.raises(OSError, match="disk full"):
        save_artifact(knn(catalog), tmp_path)
    assert list((tmp_path / "knn").iterdir()) == []
    assert latest_version(tmp_path, "knn") is None


def test_versions_being_written_are_invisible(tmp_path):
    (tmp_path / "pca" / ".20990101T000000000000Z-tmp").mkdir(parents=True)
    assert latest_version(tmp_path, "pca") is None


class SavingIndex(ExactIndex):
    """An index that can save itself, as an approximate index would."""

    def save(self, directory):
        np.save(directory / "vectors.npy", self._vectors, allow_pickle=False)


def test_an_index_that_saves_itself_gets_a_place_in_the_artifact(tmp_path, catalog):
    model = knn(catalog)
    model = model.with_index(SavingIndex(model.catalog_embedding[catalog.canonical_rows]))
    path = save_artifact(model, tmp_path)
    assert (path / "index" / "vectors.npy").is_file()
    assert json.loads((path / "manifest.json").read_text())["index"]["type"] == "SavingIndex"

    seen = {}

    def loader(directory, metric, vectors):
        seen["vectors"] = np.load(directory / "vectors.npy", allow_pickle=False)
        return ExactIndex(vectors, metric)

    loaded = load_artifact(tmp_path, "knn", catalog, index_loader=loader)
    np.testing.assert_array_equal(seen["vectors"], loaded.catalog_embedding[catalog.canonical_rows])
    # Without a loader the saved index is ignored and an exact one is built.
    assert type(load_artifact(tmp_path, "knn", catalog).index) is ExactIndex


def test_load_or_train_trains_only_when_asked(tmp_path, catalog):
    with pytest.raises(ArtifactNotFound):
        load_or_train(["knn"], tmp_path, catalog, train_missing=False)
    first = load_or_train(["knn", "pca"], tmp_path, catalog, train_missing=True)
    assert latest_version(tmp_path, "pca") == first["pca"].version
    again = load_or_train(["pca", "knn"], tmp_path, catalog, train_missing=False)
    assert {n: m.version for n, m in again.items()} == {n: m.version for n, m in first.items()}


def test_load_or_train_retrains_for_a_new_catalog_only_when_asked(tmp_path, catalog):
    old = load_or_train(["knn"], tmp_path, catalog, train_missing=True)["knn"]
    other = grouped_catalog(groups=4, per_group=8, seed=2)
    with pytest.raises(ArtifactMismatch):
        load_or_train(["knn"], tmp_path, other, train_missing=False)
    new = load_or_train(["knn"], tmp_path, other, train_missing=True)["knn"]
    assert new.version > old.version
    assert new.catalog is other


def test_an_artifact_trained_with_other_options_than_asked_does_not_fit(tmp_path, catalog):
    """`--label-column mood` must not serve the newest supervised model trained on genre: an
    artifact fits only when the options given agree with those it was trained with."""
    two = {"pca": {"components": 2}}
    first = load_or_train(["pca"], tmp_path, catalog, train_missing=True, options=two)["pca"]
    assert first.options["components"] == 2
    same = load_or_train(["pca"], tmp_path, catalog, train_missing=False, options=two)["pca"]
    unasked = load_or_train(["pca"], tmp_path, catalog, train_missing=False)["pca"]
    assert same.version == unasked.version == first.version
    three = {"pca": {"components": 3}}
    with pytest.raises(ArtifactMismatch, match="components"):
        load_or_train(["pca"], tmp_path, catalog, train_missing=False, options=three)
    retrained = load_or_train(["pca"], tmp_path, catalog, train_missing=True, options=three)["pca"]
    assert retrained.version > first.version
    assert retrained.options["components"] == 3
