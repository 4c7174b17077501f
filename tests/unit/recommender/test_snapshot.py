"""Catalog snapshots: a compiled catalog loads back identical, and caches follow the content."""

import numpy as np
import pytest

from recommender.catalog import Catalog
from recommender.ingest import read_catalog
from recommender.snapshot import load_catalog_cached, load_snapshot, save_snapshot
from recommender.training.synthetic import generate_catalog


@pytest.fixture
def csv_path(tmp_path):
    frame = generate_catalog(500, seed=3)
    frame["popularity"] = np.arange(500) % 100
    frame.loc[3, "track_name"] = "Ça va — «naïve» 東京"
    frame.loc[4, ["track_name", "artist"]] = frame.loc[5, ["track_name", "artist"]].to_numpy()
    path = tmp_path / "catalog.csv"
    frame.to_csv(path, index=False)
    return path


def assert_same(a: Catalog, b: Catalog) -> None:
    assert a.fingerprint == b.fingerprint
    assert list(a.track_ids) == list(b.track_ids)
    assert list(a.names) == list(b.names) and list(a.artists) == list(b.artists)
    assert np.array_equal(a.features, b.features) and a.feature_names == b.feature_names
    assert np.array_equal(a.song_ids, b.song_ids)
    assert list(a.extra.columns) == list(b.extra.columns)
    for column in a.extra.columns:
        assert list(a.extra[column]) == list(b.extra[column])


def test_snapshot_round_trip(csv_path, tmp_path):
    catalog = read_catalog(csv_path)
    path = save_snapshot(catalog, tmp_path / "c.catalog.npz")
    loaded = load_snapshot(path)
    assert_same(catalog, loaded)
    assert loaded.song_ids[4] == loaded.song_ids[5]  # the grouping survived
    loaded.__dict__.pop("fingerprint")
    assert loaded.fingerprint == catalog.fingerprint  # recomputed, not only stored


def test_cache_is_written_once_and_follows_the_content(csv_path, tmp_path):
    cache = tmp_path / "cache"
    first = load_catalog_cached(csv_path, cache)
    snapshots = list(cache.iterdir())
    assert len(snapshots) == 1
    assert_same(first, load_catalog_cached(csv_path, cache))
    assert list(cache.iterdir()) == snapshots

    csv_path.write_text(csv_path.read_text().replace("Song 0000007", "Song 7 (edit)"))
    changed = load_catalog_cached(csv_path, cache)
    assert len(list(cache.iterdir())) == 2
    assert changed.fingerprint == first.fingerprint  # names are not in the fingerprint...
    assert "Song 7 (edit)" in set(changed.names)  # ...but the new content was loaded


def test_a_broken_cached_snapshot_is_ignored(csv_path, tmp_path):
    cache = tmp_path / "cache"
    load_catalog_cached(csv_path, cache)
    (snapshot,) = cache.iterdir()
    snapshot.write_bytes(b"not a snapshot")
    assert len(load_catalog_cached(csv_path, cache)) == 500


def test_a_snapshot_path_loads_directly(csv_path, tmp_path):
    path = save_snapshot(read_catalog(csv_path), tmp_path / "x.catalog.npz")
    assert len(load_catalog_cached(path, None)) == 500
