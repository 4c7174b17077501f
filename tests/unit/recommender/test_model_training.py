"""train_model for every model: known neighbours, options, clusters, and the PCA embedding."""

from __future__ import annotations

import numpy as np
import pytest
from model_catalogs import grouped_catalog, same_group_share
from sklearn.decomposition import PCA

from recommender.embeddings.pca import components_for, fit_pca
from recommender.recommender import knn
from recommender.training import MODEL_NAMES, resolve_options, train_model

FAST_AE = {"epochs": 300, "batch_size": 16, "learning_rate": 0.01, "patience": 30}


@pytest.fixture(scope="module")
def catalog():
    return grouped_catalog(groups=6, per_group=10)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_finds_the_seeds_group(catalog, name):
    options = {"clusters": 6, **(FAST_AE if name == "autoencoder" else {})}
    recommender = train_model(name, catalog, options=options)
    seeds = np.arange(len(catalog))
    found = recommender.recommend(seeds, k=5)
    assert (found.rows != seeds[:, None]).all()
    # Groups are 50x further apart than their spread: every model must get them all right.
    assert same_group_share(catalog, found.rows, seeds) == 1.0
    assert recommender.clusters is not None
    assert recommender.clusters.shape == (len(catalog),)


def test_cluster_ids_of_recommended_rows(catalog):
    model = train_model("knn", catalog, options={"clusters": 6})
    found = model.recommend(np.array([0, 11]), k=len(catalog))
    ids = model.cluster_ids(found.rows)
    assert ids.shape == found.rows.shape
    assert (found.rows == -1).any() and (ids[found.rows == -1] == -1).all()
    valid = found.rows >= 0
    np.testing.assert_array_equal(ids[valid], model.clusters[found.rows[valid]])
    assert train_model("knn", catalog, options={"clusters": 0}).cluster_ids(found.rows) is None


def test_knn_through_train_model_equals_plain_knn(catalog):
    trained = train_model("knn", catalog, options={"clusters": 0})
    plain = knn(catalog)
    seeds = np.arange(0, len(catalog), 7)
    a, b = trained.recommend(seeds, 4), plain.recommend(seeds, 4)
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert trained.clusters is None
    assert trained.version != plain.version


def test_feature_seeds_are_embedded_like_catalog_rows(catalog):
    recommender = train_model("pca", catalog, options={"components": 3, "clusters": 2})
    seeds = np.array([3, 17])
    by_row = recommender.recommend(seeds, 5)
    by_features = recommender.recommend(np.array([-1, -1]), 6, catalog.features[seeds])
    # A feature seed is not known to be in the catalog, so its own row comes back first.
    np.testing.assert_array_equal(by_features.rows[:, 0], seeds)
    np.testing.assert_array_equal(by_features.rows[:, 1:], by_row.rows)


def test_options_are_resolved_and_checked():
    assert resolve_options("pca")["components"] == 0.9
    assert resolve_options("autoencoder", {"hidden": [32, 12]})["hidden"] == (32, 12)
    assert resolve_options("knn") == {"clusters": 10, "seed": 0}
    with pytest.raises(ValueError, match="takes no option epochs"):
        resolve_options("pca", {"epochs": 3})
    with pytest.raises(ValueError, match="unknown model"):
        resolve_options("svd")


def test_pca_keeps_a_count_or_a_share_of_variance():
    rng = np.random.default_rng(1)
    # Rank 2 in 9 dimensions plus a whisper of noise: two axes explain almost everything.
    data = rng.normal(size=(500, 2)) @ rng.normal(size=(2, 9)) + rng.normal(0, 1e-3, (500, 9))
    assert fit_pca(data, 0.99).components.shape == (2, 9)
    assert fit_pca(data, 4).components.shape == (4, 9)
    assert fit_pca(data, 1.0).components.shape[0] >= 2


def test_pca_projection_matches_sklearn_up_to_sign():
    data = np.random.default_rng(2).normal(size=(300, 9)) * np.arange(1, 10)
    ours = fit_pca(data, 3).transform(data)
    theirs = PCA(3).fit_transform(data)
    np.testing.assert_allclose(np.abs(ours), np.abs(theirs), atol=1e-3)


@pytest.mark.parametrize("bad", [0, 10, 0.0, 1.5, True])
def test_pca_refuses_impossible_component_counts(bad):
    with pytest.raises((ValueError, TypeError)):
        components_for(np.full(9, 1 / 9), bad)


def test_pca_share_picks_the_fewest_axes():
    ratios = np.array([0.5, 0.3, 0.15, 0.05])
    assert components_for(ratios, 0.5) == 1
    assert components_for(ratios, 0.8) == 2
    assert components_for(ratios, 0.81) == 3
    assert components_for(ratios, 1.0) == 4
