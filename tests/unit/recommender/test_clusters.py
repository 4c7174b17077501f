"""KMeans cluster ids cover every track; the table summarises them."""

from __future__ import annotations

import numpy as np
import pytest
from model_catalogs import grouped_catalog

from recommender.clusters import cluster_table, fit_clusters


@pytest.fixture(scope="module")
def catalog():
    return grouped_catalog(groups=4, per_group=5 * 3, seed=5)


def test_every_row_gets_a_cluster_and_groups_are_found(catalog):
    clusters = fit_clusters(catalog.features, n_clusters=4)
    assert clusters.shape == (len(catalog),)
    assert set(clusters.tolist()) == {0, 1, 2, 3}
    genre = catalog.labels("genre")
    # One cluster per group: the pairing of groups and clusters is one to one.
    pairs = {(g, c) for g, c in zip(genre, clusters, strict=True)}
    assert len(pairs) == 4


def test_clusters_are_numbered_by_size():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0, 0.01, (5, 2)), rng.normal(9, 0.01, (20, 2))])
    clusters = fit_clusters(points, n_clusters=2)
    assert (clusters[5:] == 0).all() and (clusters[:5] == 1).all()


def test_too_many_clusters_is_refused():
    with pytest.raises(ValueError, match="distinct"):
        fit_clusters(np.zeros((10, 3)), n_clusters=2)


def test_table_sizes_and_means(catalog):
    clusters = fit_clusters(catalog.features, n_clusters=3, seed=1)
    table = cluster_table(catalog, clusters)
    assert table["size"].sum() == len(catalog)
    assert table["share"].sum() == pytest.approx(1.0)
    for row in table.itertuples():
        members = catalog.features[clusters == row.cluster]
        assert row.size == len(members)
        assert row.tempo == pytest.approx(members[:, catalog.feature_names.index("tempo")].mean())
    assert table["top_genre"].str.match(r"g\d \(\d+%\)").all()
