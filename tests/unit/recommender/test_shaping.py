"""Shaped recommendations: known answers per control, the errors, and properties over random
catalogs and requests checked against a plain per-request oracle."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_catalogs import grouped_catalog

from recommender.catalog import Catalog
from recommender.embeddings.pca import PCAEmbedding
from recommender.errors import EncoreError, RequestError, UnknownTrack
from recommender.recommender import Recommender, knn
from recommender.scaling import Standardizer
from recommender.shaping import PLAIN, Controls, Shape
from recommender.shaping.stage import _groups
from recommender.text import normalise_text


def line_catalog() -> Catalog:
    """Eight songs on one feature, gaps growing so that no two distances tie.

    Artists: A (rows 0, 1 spelt "a", 4), B (2, 3), C (5), D (6, 7).
    """
    frame = pd.DataFrame(
        {
            "track_id": [f"t{i}" for i in range(8)],
            "track_name": [f"Song {i}" for i in range(8)],
            "artist": ["A", "a", "B", "B", "A", "C", "D", "D"],
            "danceability": [0.0, 0.1, 0.25, 0.45, 0.7, 1.0, 1.35, 1.75],
            "popularity": [10, 20, 30, 40, 50, 60, 70, 80],
            "explicit": [0, 1, 0, 0, 1, 0, 0, 0],
        }
    )
    return Catalog.from_frame(frame, ("danceability",), extra_columns=["popularity", "explicit"])


LINE = knn(line_catalog())


def answer(controls: dict[str, Any], k: int = 5, model: Recommender = LINE) -> list[int]:
    out = model.recommend_shaped([Shape.resolve(model.catalog, controls, k)])
    return out.rows[0, : out.counts[0]].tolist()


def test_without_controls_but_the_cap_off_it_is_recommend() -> None:
    model = knn(grouped_catalog(6, 10))
    rows = np.arange(0, 60, 7)
    for searched in (model, model.with_search("hnsw")):
        plain = searched.recommend(rows, 5)
        shapes = [Shape(5, (int(r),), controls=Controls(max_per_artist=0)) for r in rows]
        shaped = searched.recommend_shaped(shapes)
        assert (shaped.rows == plain.rows).all()
        assert shaped.scores == pytest.approx(plain.scores)
        assert not shaped.exhausted.any()


@pytest.mark.parametrize(
    ("controls", "expected"),
    [
        ({"max_per_artist": 0}, [1, 2, 3, 4, 5]),
        # The seed is by A and "a" folds to A: row 1 is A's second song, row 4 its third.
        ({}, [1, 2, 3, 5, 6]),
        ({"exclude_track_ids": ["t2", "not-in-catalog"], "max_per_artist": 0}, [1, 3, 4, 5, 6]),
        ({"exclude_artists": ["b"], "max_per_artist": 0}, [1, 4, 5, 6, 7]),
        ({"explicit": False, "max_per_artist": 0}, [2, 3, 5, 6, 7]),
        ({"explicit": True, "max_per_artist": 0}, [1, 2, 3, 4, 5]),
        ({"min_popularity": 35, "max_popularity": 65, "max_per_artist": 0}, [3, 4, 5]),
        ({"max_danceability": 0.3}, [1, 2]),
        ({"max_per_artist": 1}, [2, 5, 6]),  # one song per artist, and A is the seed's
    ],
)
def test_rules_from_seed_t0(controls: dict[str, Any], expected: list[int]) -> None:
    out = LINE.recommend_shaped([Shape.resolve(LINE.catalog, {"track_id": "t0", **controls}, 5)])
    assert out.rows[0, : out.counts[0]].tolist() == expected
    assert (out.rows[0, out.counts[0] :] == -1).all()
    assert out.exhausted[0] == (len(expected) < 5)
    assert (np.diff(out.scores[0, : out.counts[0]]) <= 0).all()


def test_a_range_bound_equal_to_a_stored_value_keeps_the_song() -> None:
    """Features are float32: the song stored as 0.1 is inside a range ending at 0.1 (a
    comparison in float64 would put float32(0.1) = 0.10000000149 outside it)."""
    frame = pd.DataFrame(
        {"track_id": ["id0", "id1"], "track_name": ["Song 0", "Song 1"],
         "artist": ["A", "B"], "danceability": [0.559, 0.1]}
    )  # fmt: skip
    model = knn(Catalog.from_frame(frame, ("danceability",)))
    controls = {"features": {"danceability": 0.0}, "min_danceability": 0.0, "max_danceability": 0.1}
    out = model.recommend_shaped([Shape.resolve(model.catalog, controls, 1)])
    assert out.rows[0, : out.counts[0]].tolist() == [1]


@pytest.mark.parametrize(
    ("controls", "expected"),
    [
        # The blend of 0.0 and 1.75 sits at 0.875; weighted 3:1 at 0.4375.
        ({"seed_track_ids": ["t0", "t7"]}, [5, 4, 3, 6, 2]),
        ({"track_id": "t0", "seed_track_ids": ["t7"]}, [5, 4, 3, 6, 2]),
        ({"seed_track_ids": ["t0", "t7"], "seed_weights": [3, 1]}, [3, 2, 4, 1, 5]),
        ({"track_id": "t0", "target_danceability": 1.3}, [6, 5, 7, 4, 3]),
        # A feature seed is not a catalog song: nothing of its own to leave out.
        ({"features": {"danceability": 0.52}}, [3, 4, 2, 1, 5]),
        ({"features": {"danceability": 0.52}, "target_danceability": 1.05}, [5, 6, 4, 3, 7]),
    ],
)
def test_seeds_blend_and_targets_move_them(controls: dict[str, Any], expected: list[int]) -> None:
    assert answer({**controls, "max_per_artist": 0}) == expected


def test_a_target_puts_the_query_at_the_targeted_value() -> None:
    out = LINE.recommend_shaped(
        [Shape.resolve(LINE.catalog, {"track_id": "t0", "target_danceability": 1.3}, 1)]
    )
    scale = float(LINE.scaler.scale[0])
    assert out.scores[0, 0] == pytest.approx(1 / (1 + 0.05 / scale), rel=1e-5)


def test_full_diversity_picks_the_farthest_song_each_step() -> None:
    # After 1 (the nearest), 7 is farthest from it; then 5 is farthest from both.
    controls = {"track_id": "t0", "diversity": 1.0, "pool": 7, "max_per_artist": 0}
    assert answer(controls, k=3) == [1, 7, 5]
    assert answer({**controls, "diversity": 0.0}, k=3) == [1, 2, 3]


def test_explain_names_the_features_nearest_the_seed() -> None:
    frame = pd.DataFrame(
        {
            "track_id": ["seed", "near", "low", "high"],
            "danceability": [0.5, 0.52, 0.0, 1.0],
            "energy": [0.5, 0.5, 0.0, 1.0],
            "valence": [0.5, 0.9, 0.0, 1.0],
        }
    )
    model = knn(Catalog.from_frame(frame, ("danceability", "energy", "valence")))
    shapes = [
        Shape.resolve(model.catalog, {"track_id": "seed", "explain": True}, 1),
        Shape.resolve(model.catalog, {"track_id": "seed"}, 1),
    ]
    out = model.recommend_shaped(shapes)
    assert out.rows[:, 0].tolist() == [1, 1]
    assert out.because[0] == (("energy", "danceability", "valence"),)
    assert out.because[1] is None
    assert out.items(0)[0].because == ("energy", "danceability", "valence")
    assert [item.rank for item in out.items(1)] == [1]


def test_a_release_of_a_seed_or_of_an_excluded_id_is_the_same_song() -> None:
    frame = pd.DataFrame(
        {
            "track_id": ["a", "b", "b-remaster", "c", "d"],
            "track_name": ["One", "Two", "two", "Three", "Four"],
            "artist": ["W", "X", "X", "Y", "Z"],
            "danceability": [0.0, 0.1, 0.11, 0.3, 0.6],
        }
    )
    model = knn(Catalog.from_frame(frame, ("danceability",)))
    assert answer({"track_id": "b-remaster"}, 3, model) == [0, 3, 4]
    assert answer({"track_id": "a", "exclude_track_ids": ["b-remaster"]}, 3, model) == [3, 4]


@pytest.mark.parametrize(
    ("controls", "field"),
    [
        ({"min_popularity": 50, "max_popularity": 40}, "min_popularity"),
        ({"min_loudness": -5}, "min_loudness"),
        ({"target_popularity": 50}, "target_popularity"),
        ({"target_tempo": 120}, "target_tempo"),
        ({"colour": "blue"}, "colour"),
        ({"seed_track_ids": ["t1", "t2", "t3", "t4", "t5"]}, "seed_track_ids"),
        ({"seed_track_ids": []}, "seed_track_ids"),
        ({"seed_track_ids": "t1"}, "seed_track_ids"),
        ({"seed_weights": [1, 2]}, "seed_weights"),
        ({"seed_weights": [0]}, "seed_weights"),
        ({"pool": 3}, "pool"),
        ({"pool": 1001}, "pool"),
        ({"diversity": 1.5}, "diversity"),
        ({"diversity": -0.1}, "diversity"),
        ({"diversity": True}, "diversity"),
        ({"max_per_artist": -1}, "max_per_artist"),
        ({"max_per_artist": 1.5}, "max_per_artist"),
        ({"explicit": "no"}, "explicit"),
        ({"explain": 1}, "explain"),
        ({"exclude_track_ids": ["x"] * 501}, "exclude_track_ids"),
        ({"exclude_artists": ["x"] * 101}, "exclude_artists"),
        ({"min_danceability": float("nan")}, "min_danceability"),
        ({"features": {"danceability": 0.5}}, "features"),
    ],
)
def test_invalid_controls_name_their_field(controls: dict[str, Any], field: str) -> None:
    with pytest.raises(RequestError) as raised:
        Shape.resolve(LINE.catalog, {"track_id": "t0", **controls}, 5)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")
    assert not isinstance(raised.value, UnknownTrack)


def test_feature_seeds_need_every_feature_and_no_other() -> None:
    for features in ({}, {"danceability": 0.5, "tempo": 120}, {"danceability": "high"}):
        with pytest.raises(RequestError) as raised:
            Shape.resolve(LINE.catalog, {"features": features}, 5)
        assert raised.value.field == "features"
    with pytest.raises(RequestError) as raised:
        Shape.resolve(LINE.catalog, {}, 5)
    assert raised.value.field == "track_id"
    with pytest.raises(RequestError) as raised:
        Shape.resolve(LINE.catalog, {"track_id": "t0"}, 0)
    assert raised.value.field == "k"


@pytest.mark.parametrize(
    ("controls", "field"),
    [({"track_id": "nope"}, "track_id"), ({"seed_track_ids": ["t0", "nope"]}, "seed_track_ids")],
)
def test_an_unknown_seed_is_an_unknown_track(controls: dict[str, Any], field: str) -> None:
    with pytest.raises(UnknownTrack) as raised:
        Shape.resolve(LINE.catalog, controls, 5)
    error = raised.value
    assert error.field == field
    assert isinstance(error, RequestError | EncoreError | ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.field, str(copy)) == (UnknownTrack, field, str(error))


def test_absent_controls_may_be_none_and_resolve_to_the_defaults() -> None:
    shape = Shape.resolve(LINE.catalog, {"track_id": "t0", "pool": None, "diversity": None}, 4)
    assert shape == Shape(4, (0,))
    assert shape.controls is PLAIN
    assert Shape.resolve(LINE.catalog, {"track_id": "t0", "max_per_artist": 2}, 4).controls is PLAIN


class CountingIndex:
    """The recommender's own index, counting searches and the k asked."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.metric, self.calls = inner, inner.metric, []

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        self.calls.append((len(queries), k))
        result: tuple[np.ndarray, np.ndarray] = self.inner.search(queries, k)
        return result


def test_a_batch_of_plain_requests_is_one_search_of_k_plus_one() -> None:
    model = knn(grouped_catalog(6, 10))
    counting = CountingIndex(model.index)
    shapes = [Shape(5, (row,)) for row in range(0, 60, 3)]
    model.with_index(counting).recommend_shaped(shapes)
    assert counting.calls == [(20, 6)]


def test_many_sizes_share_a_few_searches_and_each_answer_stays_its_own() -> None:
    model = knn(grouped_catalog(6, 10))
    counting = CountingIndex(model.index)
    diverse = Controls(diversity=0.5)
    shapes = [Shape(k, (k * 3,), controls=diverse if k % 3 else PLAIN) for k in range(1, 13)]
    together = model.with_index(counting).recommend_shaped(shapes)
    assert len(counting.calls) <= 5  # sizes 2..120 rounded up to powers of two
    for i, shape in enumerate(shapes):
        alone = model.recommend_shaped([shape])
        assert together.rows[i].tolist()[: shape.k] == alone.rows[0].tolist()


def test_only_the_rows_left_short_are_searched_again_wider() -> None:
    model = knn(grouped_catalog(6, 10))  # 60 songs, groups of 10 far apart
    counting = CountingIndex(model.index)
    tempo = model.catalog.numeric_columns["tempo"]
    far = float(tempo[59]) - 1e-3  # a few songs of row 59's group, far from row 0's
    plain = [Shape(5, (row,)) for row in range(0, 20)]
    odd = Shape.resolve(
        model.catalog, {"track_id": model.catalog.track_ids[0], "min_tempo": far}, 5
    )
    out = model.with_index(counting).recommend_shaped([*plain, odd])
    # One search for all 21 rows (the plain rows' fetch of k + 1 folded into the filtered
    # row's 2 x (k + 1): cheaper than a search of their own), then wider searches for that row
    # alone until 5 of its songs pass; the stage's answers stand.
    assert counting.calls[0] == (21, 12) and len(counting.calls) > 1
    assert all(n == 1 for n, _ in counting.calls[1:])
    assert [k for _, k in counting.calls] == sorted(k for _, k in counting.calls)
    for row in range(20):  # each plain row still answered from its own k + 1 nearest
        assert out.rows[row, :5].tolist() == model.recommend_shaped([plain[row]]).rows[0].tolist()
    assert (tempo[out.rows[20, : out.counts[20]]] >= far).all()


def test_a_small_group_folds_into_the_next_fetch_size_and_a_large_one_is_searched_apart() -> None:
    fetch = np.array([11] * 40 + [22] * 10 + [40] * 5)
    todo = np.arange(len(fetch))
    # 40 x (22 - 11) = 440 extra neighbours: less than a search; then 50 x 18 = 900: more.
    groups = [(size, requests.tolist()) for size, requests in _groups(fetch, todo, 1000)]
    assert groups == [(22, list(range(50))), (40, list(range(50, 55)))]
    fetch = np.array([11] * 500 + [22] * 500)
    sizes = [size for size, _ in _groups(fetch, np.arange(1000), 1000)]
    assert sizes == [11, 22]


def test_short_rows_are_widened_then_scanned_and_exhausted_is_exact() -> None:
    # 3,000 songs; only a few far from the seed pass the filter: beyond any widened pool.
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "track_id": [f"s{i}" for i in range(3000)],
            "danceability": rng.uniform(0, 1, 3000),
            "energy": rng.uniform(0, 1, 3000),
        }
    )
    model = knn(Catalog.from_frame(frame, ("danceability", "energy")))
    seed = int(np.argmin(frame["danceability"] + frame["energy"]))
    wanted = np.flatnonzero(frame["danceability"].to_numpy() >= 0.997)
    for k in (len(wanted) - 1, len(wanted) + 2):
        controls = {"track_id": f"s{seed}", "min_danceability": 0.997}
        shape = Shape.resolve(model.catalog, controls, k)
        out = model.recommend_shaped([shape])
        assert out.counts[0] == min(k, len(wanted))
        assert out.exhausted[0] == (k > len(wanted))
        assert set(out.rows[0, : out.counts[0]].tolist()) <= set(wanted.tolist())
        valid, kept = oracle(model, shape)
        expected = [valid[row] for row in kept[:k]]
        assert out.scores[0, : out.counts[0]] == pytest.approx(expected, rel=1e-5)


# --- properties over random catalogs and requests -------------------------------------------


def oracle(model: Recommender, shape: Shape) -> tuple[dict[int, float], list[int]]:
    """A knn model's answer, one request in plain Python: every song the filters let through
    with its exact score, and the ones the artist cap leaves of them, best first."""
    catalog, c = model.catalog, shape.controls
    rows = [r for r in shape.seed_rows if r >= 0]
    weights = c.seed_weights or (1 / len(shape.seed_rows),) * len(shape.seed_rows)
    raw = [catalog.features[r] if r >= 0 else shape.seed_features for r in shape.seed_rows]
    seed = sum(w * np.asarray(x, np.float64) for w, x in zip(weights, raw, strict=True))
    for column, value in c.targets:
        seed[column] = value
    query = model.scaler.transform(np.asarray(seed)[None, :])[0]  # knn: targets are exact
    seed_songs = {int(catalog.song_ids[r]) for r in rows}
    excluded = {int(catalog.song_ids[catalog.canonical_rows[p]]) for p in c.exclude_songs}
    valid: dict[int, float] = {}
    for row in catalog.canonical_rows.tolist():
        if int(catalog.song_ids[row]) in seed_songs | excluded:
            continue
        if int(catalog.artist_ids[row]) in c.exclude_artists:
            continue
        if not c.explicit and catalog.explicit is not None and catalog.explicit[row]:
            continue
        if not all(lo <= catalog.numeric_columns[c][row] <= hi for c, lo, hi in c.ranges):
            continue
        scaled = model.scaler.transform(catalog.features[row][None, :])[0]
        valid[row] = similarity(scaled, query, model.metric)
    counts = seed_artists(catalog, shape)
    kept = []
    for row in sorted(valid, key=lambda r: -valid[r]):
        artist = int(catalog.artist_ids[row])
        if c.max_per_artist and counts.get(artist, 0) >= c.max_per_artist:
            continue
        counts[artist] = counts.get(artist, 0) + 1
        kept.append(row)
    return valid, kept


def similarity(a: np.ndarray, b: np.ndarray, metric: str) -> float:
    if metric == "cosine":
        return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
    return float(1 / (1 + np.linalg.norm(a - b)))


def seed_artists(catalog: Catalog, shape: Shape) -> dict[int, int]:
    counts: dict[int, int] = {}
    for row in (r for r in shape.seed_rows if r >= 0):
        counts[int(catalog.artist_ids[row])] = counts.get(int(catalog.artist_ids[row]), 0) + 1
    return counts


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    n = draw(st.integers(2, 40))
    d = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    artists = draw(st.integers(1, 6))
    names = rng.integers(0, max(2, n // 2 + 1), n)  # repeats of name+artist are re-releases
    frame = pd.DataFrame(
        {
            "track_id": [f"id{i}" for i in range(n)],
            "track_name": [f"Song {v}" for v in names],
            "artist": [
                ["Ärtist 0", "artist 0", "B", "C", "D", "E"][v] for v in rng.integers(0, artists, n)
            ],
            "popularity": rng.integers(0, 100, n),
            "explicit": rng.integers(0, 2, n),
        }
    )
    features = ("danceability", "energy", "valence")[:d]
    for name in features:
        frame[name] = rng.uniform(0, 1, n).round(3)
    return Catalog.from_frame(frame, features, extra_columns=["popularity", "explicit"])


@st.composite
def requests(draw: st.DrawFn, catalog: Catalog) -> tuple[dict[str, Any], int]:
    ids = catalog.track_ids.tolist()
    controls: dict[str, Any] = {}
    if draw(st.booleans()) or len(ids) < 2:
        controls["track_id"] = draw(st.sampled_from(ids))
    if draw(st.booleans()):
        controls["seed_track_ids"] = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3))
    if not controls:
        controls["features"] = {f: draw(st.floats(0, 1)) for f in catalog.feature_names}
    if draw(st.booleans()):
        count = len(Shape.resolve(catalog, controls, 1).seed_rows)
        controls["seed_weights"] = draw(st.lists(st.floats(0.1, 5), min_size=count, max_size=count))
    name = draw(st.sampled_from(catalog.feature_names))
    if draw(st.booleans()):
        controls[f"target_{name}"] = draw(st.floats(0, 1))
    for column in ("popularity", catalog.feature_names[-1]):
        if draw(st.booleans()):
            high = 100.0 if column == "popularity" else 1.0
            low = draw(st.floats(0, high))
            controls[f"min_{column}"] = low
            if draw(st.booleans()):
                controls[f"max_{column}"] = draw(st.floats(low, high))
    if draw(st.booleans()):
        controls["exclude_track_ids"] = draw(st.lists(st.sampled_from(ids), max_size=6))
    if draw(st.booleans()):
        controls["exclude_artists"] = draw(
            st.lists(st.sampled_from(["artist 0", "b", "zz"]), max_size=2)
        )
    controls["max_per_artist"] = draw(st.integers(0, 3))
    controls["explicit"] = draw(st.booleans())
    if draw(st.booleans()):
        controls["diversity"] = draw(st.floats(0.01, 1))
    k = draw(st.integers(1, 8))
    if draw(st.booleans()):
        controls["pool"] = draw(st.integers(k, 20))
    controls["explain"] = draw(st.booleans())
    return controls, k


def check(
    model: Recommender, shape: Shape, rows: list[int], scores: list[float], exhausted: bool
) -> None:
    catalog, c = model.catalog, shape.controls
    valid, kept = oracle(model, shape)
    assert set(rows) <= set(valid)  # every filter, the seeds and the exclusions
    songs = [int(catalog.song_ids[r]) for r in rows]
    assert len(set(songs)) == len(songs)
    if c.max_per_artist:  # the seeds' artists count; a song of theirs is never added above
        counts = seed_artists(catalog, shape)
        for row in rows:
            artist = int(catalog.artist_ids[row])
            counts[artist] = counts.get(artist, 0) + 1
            assert counts[artist] <= c.max_per_artist
    # As many songs as the rules allow, up to k: short only when the catalog has no more.
    assert len(rows) == min(shape.k, len(kept))
    assert exhausted == (len(kept) < shape.k)
    assert scores == pytest.approx([valid[r] for r in rows], rel=1e-4, abs=1e-6)
    if c.diversity == 0:
        assert scores == sorted(scores, reverse=True)
        best = [valid[r] for r in kept[: len(rows)]]
        assert scores == pytest.approx(best, rel=1e-4, abs=1e-6)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_answer_keeps_every_rule(data: st.DataObject) -> None:
    catalog = data.draw(catalogs())
    model = knn(catalog, data.draw(st.sampled_from(["euclidean", "cosine"])))
    if data.draw(st.booleans()):
        model = model.with_search("hnsw")
    drawn = data.draw(st.lists(requests(catalog), min_size=1, max_size=4))
    shapes = [Shape.resolve(catalog, controls, k) for controls, k in drawn]
    out = model.recommend_shaped(shapes)
    for i, shape in enumerate(shapes):
        n = int(out.counts[i])
        rows, scores = out.rows[i, :n].tolist(), out.scores[i, :n].tolist()
        assert (out.rows[i, n:] == -1).all()
        assert [item.rank for item in out.items(i)] == list(range(1, n + 1))
        check(model, shape, rows, scores, bool(out.exhausted[i]))
        alone = model.recommend_shaped([shape])  # a request's answer is its own, in any batch
        assert alone.counts[0] == n
        assert alone.scores[0, :n].tolist() == pytest.approx(scores, rel=1e-4, abs=1e-6)
        if shape.controls.explain:
            assert out.because[i] is not None and len(out.because[i]) == n
            assert all(0 < len(names) <= 3 for names in out.because[i])
        else:
            assert out.because[i] is None


def test_excluded_artists_are_folded_and_unknown_ones_ignored() -> None:
    controls = {"track_id": "t0", "exclude_artists": [" b ", "Ä", "zz"]}
    shape = Shape.resolve(LINE.catalog, controls, 5)
    index = LINE.catalog.artist_index
    assert shape.controls.exclude_artists == tuple(
        sorted((index["a"], index[normalise_text(" B ")]))
    )
    assert answer({**controls, "max_per_artist": 0}) == [5, 6, 7]


def test_an_empty_batch_is_an_empty_answer_and_a_shape_needs_a_seed() -> None:
    out = LINE.recommend_shaped([])
    assert out.rows.shape == (0, 0) and out.because == ()
    with pytest.raises(ValueError, match="seed"):
        LINE.recommend_shaped([Shape(3, ())])


def test_a_target_on_a_blend_is_exact_for_a_linear_embedding() -> None:
    catalog = grouped_catalog(6, 10)
    scaler = Standardizer.fit(catalog.features)
    scaled = scaler.transform(catalog.features)
    mean = scaled.mean(axis=0)
    _, _, axes = np.linalg.svd(scaled - mean, full_matrices=False)
    pca = PCAEmbedding(mean, axes[:3].astype(np.float32), np.ones(3, np.float32))
    model = Recommender("pca", catalog, scaler, pca)
    controls = {"seed_track_ids": ["t0-0003", "t0-0042"], "seed_weights": [1, 3]}
    controls["target_tempo"] = 150.0
    shape = Shape.resolve(catalog, controls, 4)
    out = model.recommend_shaped([shape])
    seed = 0.25 * catalog.features[3] + 0.75 * catalog.features[42]
    seed[catalog.feature_names.index("tempo")] = 150.0
    query = model.embed(seed[None, :])[0]
    rows = out.rows[0, : out.counts[0]]
    expected = 1 / (1 + np.linalg.norm(model.catalog_embedding[rows] - query, axis=1))
    assert out.scores[0, : out.counts[0]] == pytest.approx(expected, rel=1e-5)
