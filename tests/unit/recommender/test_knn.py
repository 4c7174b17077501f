"""Exact KNN on tiny catalogs where the right neighbours are known."""

import numpy as np
import pandas as pd
import pytest

from recommender.catalog import Catalog
from recommender.features import AUDIO_FEATURES
from recommender.recommender import knn
from recommender.search import ExactIndex
from recommender.text import normalise_text


def catalog_from(rows: list[tuple[str, str, str, list[float]]]) -> Catalog:
    frame = pd.DataFrame(
        [
            {
                "track_id": t,
                "track_name": n,
                "artist": a,
                **dict(zip(AUDIO_FEATURES, f, strict=True)),
            }
            for t, n, a, f in rows
        ]
    )
    return Catalog.from_frame(frame)


def line_catalog(n: int = 20) -> Catalog:
    """Tracks on a line in feature space: track i's nearest neighbours are i-1 and i+1."""
    rows = []
    for i in range(n):
        features = [0.5] * len(AUDIO_FEATURES)
        features[1] = i / n  # danceability varies, everything else constant
        rows.append((f"t{i}", f"Song {i}", f"Artist {i}", features))
    return catalog_from(rows)


def test_neighbours_on_a_line_are_the_adjacent_tracks():
    catalog = line_catalog()
    model = knn(catalog)
    result = model.recommend(np.array([10]), k=2)
    assert sorted(result.rows[0].tolist()) == [9, 11]
    result = model.recommend(np.array([0]), k=3)
    assert result.rows[0].tolist() == [1, 2, 3]
    assert np.all(np.diff(result.scores[0]) <= 0)


def test_feature_seed_finds_the_closest_tracks():
    catalog = line_catalog()
    model = knn(catalog)
    seed = catalog.features[5].copy()
    result = model.recommend(np.array([-1]), k=1, seed_features=seed[None, :])
    assert result.rows[0].tolist() == [5]  # not in the catalog as a seed: itself may be returned


def test_seed_and_its_duplicates_are_never_returned():
    catalog = line_catalog()
    dup = list(catalog.features[10])
    dup[1] += 1e-4
    rows = [
        (str(t), str(n), str(a), list(f))
        for t, n, a, f in zip(
            catalog.track_ids, catalog.names, catalog.artists, catalog.features, strict=True
        )
    ]
    rows.append(("t10-remaster", "SONG 10!", "artist 10", dup))
    catalog = catalog_from(rows)
    model = knn(catalog)
    for seed in (10, len(catalog) - 1):
        result = model.recommend(np.array([seed]), k=5)
        names = {normalise_text(catalog.names[r]) for r in result.rows[0]}
        assert "song 10" not in names
        assert len(set(result.rows[0].tolist())) == 5


def test_batch_matches_one_by_one():
    catalog = line_catalog(50)
    model = knn(catalog)
    seeds = np.arange(50)
    batch = model.recommend(seeds, k=7)
    for seed in seeds:
        single = model.recommend(np.array([seed]), k=7)
        assert single.rows[0].tolist() == batch.rows[seed].tolist()


def test_cosine_ranks_by_angle():
    vectors = np.array([[1.0, 0.0], [10.0, 0.1], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    index = ExactIndex(vectors, metric="cosine")
    positions, scores = index.search(np.array([[1.0, 0.0]], dtype=np.float32), k=4)
    assert positions[0].tolist() == [0, 1, 3, 2]
    assert scores[0, 0] == pytest.approx(1.0)
    assert scores[0, 3] == pytest.approx(0.0, abs=1e-6)


def test_euclidean_scores_are_one_over_one_plus_distance():
    vectors = np.array([[0.0, 0.0], [3.0, 4.0]], dtype=np.float32)
    positions, scores = ExactIndex(vectors).search(np.array([[0.0, 0.0]], dtype=np.float32), k=2)
    assert positions[0].tolist() == [0, 1]
    assert scores[0].tolist() == pytest.approx([1.0, 1 / 6])


def test_exact_index_chunks_large_batches_consistently():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3000, 9)).astype(np.float32)
    queries = rng.normal(size=(500, 9)).astype(np.float32)
    index = ExactIndex(vectors)
    index._BLOCK = 30_000  # force many chunks
    chunked, _ = index.search(queries, 5)
    distances = ((queries[:, None, :] - vectors[None, :, :]) ** 2).sum(-1)
    assert np.array_equal(chunked, np.argsort(distances, axis=1)[:, :5])


def test_tiny_catalog_pads_with_minus_one():
    catalog = line_catalog(3)
    result = knn(catalog).recommend(np.array([0]), k=5)
    assert result.rows[0].tolist()[:2] == [1, 2]
    assert result.rows[0].tolist()[2:] == [-1, -1, -1]


def test_catalog_rejects_bad_input():
    catalog = line_catalog(3)
    with pytest.raises(ValueError, match="unique"):
        Catalog(
            np.array(["a", "a"], dtype=object),
            catalog.names[:2],
            catalog.artists[:2],
            catalog.features[:2],
        )
    frame = pd.DataFrame({"track_id": ["a"], "energy": [0.1]})
    with pytest.raises(ValueError, match="missing columns"):
        Catalog.from_frame(frame)
