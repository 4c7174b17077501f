"""A living catalog: every model under add/replace/remove against a fresh model on the final
catalog (same fitted transforms, nothing refitted), the HNSW graph's recall after churn, and
the catalog's derived data kept right."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from recommender.build import build
from recommender.catalog import Catalog
from recommender.embeddings import place
from recommender.features import AUDIO_FEATURES
from recommender.live import CatalogUpdate, TrackUpsert, apply_update, compacted
from recommender.recommender import Recommender
from recommender.search import ExactIndex, HnswIndex, HnswParams
from recommender.shaping import Shape
from recommender.snapshot import load_snapshot, save_snapshot
from recommender.training.synthetic import generate_catalog

N = 800
OPTIONS = {
    "knn": {"clusters": 4},
    "knn-cosine": {"clusters": 4},
    "pca": {"clusters": 4},
    "autoencoder": {"clusters": 4, "epochs": 4, "patience": 2},
    "supervised": {"clusters": 4, "epochs": 4, "hidden": (16,)},
}


def frame(n: int, seed: int) -> pd.DataFrame:
    data = generate_catalog(n, seed=seed)
    data["popularity"] = np.random.default_rng(seed).integers(0, 100, n).astype(float)
    return data


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.from_frame(frame(N, 1), extra_columns=["genre", "popularity"])


@pytest.fixture(scope="module")
def models(catalog: Catalog) -> dict[str, Recommender]:
    return {name: build(name, catalog, options) for name, options in OPTIONS.items()}


def upsert(track_id: str, features: np.ndarray, name: str = "", artist: str = "") -> TrackUpsert:
    values = dict(zip(AUDIO_FEATURES, np.asarray(features, float).tolist(), strict=True))
    return TrackUpsert(track_id, name or f"Name {track_id}", artist or f"Artist {track_id}", values)


def churn(catalog: Catalog, share: float, seed: int) -> list[CatalogUpdate]:
    """Batches removing, replacing and adding `share` of the catalog in all (half removals,
    a quarter replacements, a quarter additions, some of them re-releases of living songs)."""
    rng = np.random.default_rng(seed)
    count = int(share * len(catalog))
    ids = rng.permutation(catalog.track_ids)
    removed = ids[: count // 2].tolist()
    changed = ids[count // 2 : count // 2 + count // 4].tolist()
    fresh = frame(count // 4, seed + 100)
    records: list[tuple[str, TrackUpsert | None]] = [(t, None) for t in removed]
    for t in changed:
        other = catalog.features[rng.integers(len(catalog))] * rng.uniform(0.97, 1.03)
        records.append(
            (t, upsert(t, np.clip(other, catalog.features.min(0), catalog.features.max(0))))
        )
    keep = ids[count:]
    for i, row in enumerate(fresh[list(AUDIO_FEATURES)].to_numpy()):
        # Re-releases: of a song that stays, and of one removed before or after it comes.
        twin = {0: catalog.index[keep[i]], 1: catalog.index[removed[i]]}.get(i % 5)
        name = catalog.names[twin] if twin is not None else ""
        artist = catalog.artists[twin] if twin is not None else ""
        records.append((f"new-{seed}-{i}", upsert(f"new-{seed}-{i}", row, name, artist)))
    order = rng.permutation(len(records))
    batches = np.array_split(order, 7)
    return [CatalogUpdate.from_records([records[j] for j in batch]) for batch in batches]


def apply_all(
    models: dict[str, Recommender], updates: list[CatalogUpdate]
) -> dict[str, Recommender]:
    for update in updates:
        applied = apply_update(models, update)
        assert not applied.rejected
        models = applied.models
    return models


def fresh(model: Recommender) -> Recommender:
    """The same fitted model built on the final catalog's living tracks, searched exactly,
    its songs placed as a live catalog places the songs it adds: by their labels or the
    prediction, not their artist's labels (`supervised`'s `artist_prior` applies to the
    catalog it is trained on)."""
    final = compacted(model.catalog)
    placed = place(model.embedding, model.scaler.transform(final.features), final.extra)
    return Recommender(model.name, final, model.scaler, model.embedding, model.metric, None, placed)


def neighbour_ids(model: Recommender, track_ids: list[str], k: int = 10) -> list[set[str]]:
    rows = np.array([model.catalog.index[t] for t in track_ids])
    found = model.recommend(rows, k).rows
    return [set(model.catalog.track_ids[r[r >= 0]].tolist()) for r in found]


@pytest.mark.parametrize("name", list(OPTIONS))
def test_exact_search_after_churn_matches_a_fresh_model(models, catalog, name):
    live = apply_all({name: models[name]}, churn(catalog, 0.2, seed=7))[name]
    reference = fresh(live)
    ids = list(reference.catalog.track_ids)
    assert len(live.catalog.index) == len(ids) == live.catalog.track_count
    assert neighbour_ids(live, ids) == neighbour_ids(reference, ids)
    np.testing.assert_allclose(
        live.catalog_embedding[[live.catalog.index[t] for t in ids]],
        reference.catalog_embedding,
        rtol=1e-5,
        atol=1e-5,
    )


def test_hnsw_recall_after_a_fifth_of_the_catalog_churned():
    catalog = Catalog.from_frame(frame(5000, 4), extra_columns=["genre", "popularity"])
    model = build("knn", catalog, {"clusters": 0})
    graph = model.with_index(HnswIndex.build(model.catalog_embedding[catalog.canonical_rows]))
    live = apply_all({"knn": graph}, churn(catalog, 0.2, seed=11))["knn"]
    reference = fresh(live)
    ids = list(reference.catalog.track_ids)
    found, truth = neighbour_ids(live, ids), neighbour_ids(reference, ids)
    recall = np.mean([len(f & t) / len(t) for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.95


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_removed_tracks_never_come_back(catalog, kind):
    model = build("knn", catalog, {"clusters": 0}).with_search(kind)
    updates = churn(catalog, 0.3, seed=3)
    removed = {t for u in updates for t in u.removals}
    live = apply_all({"knn": model}, updates)["knn"]
    rows = np.arange(len(live.catalog))[live.catalog.alive]
    answers = live.recommend(rows, 50).rows
    returned = set(live.catalog.track_ids[answers[answers >= 0]].tolist())
    assert returned and not returned & removed
    assert not any(t in live.catalog.index for t in removed)
    # Shaped answers too: a range filter few songs pass makes them scan the whole catalog.
    tempo = catalog.feature_names.index("tempo")
    shapes = [
        Shape.resolve(live.catalog, {"track_id": t, "min_tempo": 190.0}, 20)
        for t in list(compacted(live.catalog).track_ids[:20])
    ]
    shaped = live.recommend_shaped(shapes)
    rows = shaped.rows[shaped.rows >= 0]
    assert not set(live.catalog.track_ids[rows].tolist()) & removed
    assert (live.catalog.features[rows, tempo] >= 190.0).all()
    assert live.catalog.alive[rows].all()


@pytest.mark.parametrize("name", list(OPTIONS))
@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_a_copy_of_a_song_is_its_neighbour_at_once(models, catalog, name, kind):
    model = models[name] if kind == "exact" else models[name].with_search("hnsw")
    seeds = [catalog.track_ids[i] for i in (5, 50, 500)]
    copies = [upsert(f"copy-{t}", catalog.features[catalog.index[t]]) for t in seeds]
    # With its genre, as the upstream catalog sends it (`supervised` places songs by it).
    genres = catalog.labels("genre")
    copies = [
        replace(c, labels={"genre": genres[catalog.index[t]]})
        for c, t in zip(copies, seeds, strict=True)
    ]
    applied = apply_update({name: model}, CatalogUpdate(copies))
    assert applied.added == [c.track_id for c in copies]
    live = applied.models[name]
    for seed, found in zip(seeds, neighbour_ids(live, seeds, k=3), strict=True):
        assert f"copy-{seed}" in found
    clusters = live.cluster_ids(np.array([live.catalog.index[c.track_id] for c in copies]))
    assert clusters is not None and (clusters >= 0).all()


def test_replaced_track_uses_its_new_features_name_and_artist_at_once(models, catalog):
    model = models["knn"]
    target, other = catalog.track_ids[10], catalog.track_ids[20]
    moved = upsert(target, catalog.features[catalog.index[other]], "New Name", "New Artist")
    applied = apply_update({"knn": model}, CatalogUpdate([moved]))
    assert applied.replaced == [target] and not applied.added
    live = applied.models["knn"]
    row = live.catalog.index[target]
    assert live.catalog.names[row] == "New Name" and live.catalog.artists[row] == "New Artist"
    assert target in neighbour_ids(live, [other], k=3)[0]
    assert live.catalog.artist_index["new artist"] == live.catalog.artist_ids[row]
    # The model the update was applied to still answers over its own catalog.
    before = neighbour_ids(model, [other], k=3)[0]
    assert target not in before and all(t in catalog.index for t in before)


def test_rejected_records_are_reported_with_the_others_applied(models, catalog):
    good = upsert("good", catalog.features[0])
    features = dict(good.features)
    missing = TrackUpsert("missing", "n", "a", {k: v for k, v in features.items() if k != "tempo"})
    nan = TrackUpsert("nan", "n", "a", {**features, "energy": float("nan")})
    wide = TrackUpsert("wide", "n", "a", {**features, "danceability": 7.0})
    applied = apply_update(models, CatalogUpdate([missing, good, nan, wide], ["not-there"]))
    assert applied.added == ["good"] and applied.removed == []
    reasons = dict(applied.rejected)
    assert set(reasons) == {"missing", "nan", "wide"}
    assert "missing feature 'tempo'" in reasons["missing"]
    assert "not finite" in reasons["nan"]
    assert "outside" in reasons["wide"]
    assert "missing" not in applied.catalog.index
    assert {m.catalog for m in applied.models.values()} == {applied.catalog}


def test_later_record_of_a_track_wins():
    a, b = upsert("x", np.full(9, 0.5)), upsert("x", np.full(9, 0.25))
    assert CatalogUpdate.from_records([("x", a), ("x", None)]).removals == ("x",)
    update = CatalogUpdate.from_records([("x", None), ("x", a), ("y", None), ("x", b)])
    assert update.upserts == (b,) and update.removals == ("y",)


def test_derived_data_match_a_catalog_built_from_the_final_tracks(catalog):
    model = build("knn", catalog, {"clusters": 0})
    live = apply_all({"knn": model}, churn(catalog, 0.4, seed=5))["knn"].catalog
    final = compacted(live)
    rows = np.array([live.index[t] for t in final.track_ids])
    same_song = final.song_ids[:, None] == final.song_ids[None, :]
    np.testing.assert_array_equal(
        live.song_ids[rows][:, None] == live.song_ids[rows][None, :], same_song
    )
    same_artist = final.artist_ids[:, None] == final.artist_ids[None, :]
    live_artist = live.artist_ids[rows]
    np.testing.assert_array_equal(live_artist[:, None] == live_artist[None, :], same_artist)
    # The searched row of every living song is the one a fresh catalog searches.
    positions = live.canonical_position[rows]
    searched = live.canonical_rows[positions]
    assert live.alive[searched].all()
    np.testing.assert_array_equal(
        live.track_ids[searched], final.track_ids[final.canonical_rows[final.canonical_position]]
    )
    np.testing.assert_array_equal(live.song_artist_ids[positions], live_artist)
    for column in ("tempo", "popularity"):
        np.testing.assert_allclose(
            live.numeric_columns[column][rows], final.numeric_columns[column]
        )
    np.testing.assert_array_equal(live.labels("genre")[rows], final.labels("genre"))


def test_fingerprint_follows_content_not_batching(catalog):
    model = build("knn", catalog, {"clusters": 0})
    updates = churn(catalog, 0.1, seed=9)
    one = apply_all({"knn": model}, updates)["knn"].catalog
    records = [(u.track_id, u) for b in updates for u in b.upserts]
    records += [(t, None) for b in updates for t in b.removals]
    other = apply_update({"knn": model}, CatalogUpdate.from_records(records)).catalog
    assert one.fingerprint == other.fingerprint != catalog.fingerprint
    x = catalog.track_ids[1]
    back = upsert(x, catalog.features[1], catalog.names[1], catalog.artists[1])
    away = apply_update({"knn": model}, CatalogUpdate([upsert(x, catalog.features[2])]))
    assert (
        apply_update(away.models, CatalogUpdate([back])).catalog.fingerprint == catalog.fingerprint
    )


def test_missing_extra_is_imputed_with_the_median():
    data = frame(300, 2)
    data["year"] = np.random.default_rng(0).integers(1960, 2024, 300).astype(float)
    base = Catalog.from_frame(data, (*AUDIO_FEATURES, "year"), extra_columns=["genre"])
    model = build("knn", base, {"clusters": 0})
    new = upsert("no-year", base.features[0, :9])
    applied = apply_update({"knn": model}, CatalogUpdate([new]))
    row = applied.catalog.index["no-year"]
    assert applied.catalog.features[row, -1] == pytest.approx(np.median(base.features[:, -1]))
    assert applied.catalog.labels("genre")[row] is None


def test_graph_reuses_deleted_slots_and_grows_when_full():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(100, 4)).astype(np.float32)
    index = HnswIndex.build(vectors, params=HnswParams(ef=20))
    grown = index.extended(rng.normal(size=(30, 4)).astype(np.float32), np.arange(30))
    assert grown._graph.get_current_count() == 100  # the 30 deleted slots were reused
    bigger = grown.extended(rng.normal(size=(500, 4)).astype(np.float32), np.array([], np.int64))
    assert len(bigger) == 630 and bigger._graph.get_max_elements() >= 600
    positions, _ = bigger.search(vectors[:5], 10)
    assert (positions >= 30).all()
    positions, _ = index.search(vectors[:5], 10)  # the first index: its own positions only
    seen = positions[positions >= 0]
    assert len(seen) and ((seen >= 30) & (seen < 100)).all()


def test_exact_index_hides_deleted_positions_and_sees_its_own_length():
    vectors = np.eye(4, dtype=np.float32)
    index = ExactIndex(vectors)
    grown = index.extended(np.ones((1, 4), np.float32), np.array([0, 1, 2]))
    positions, scores = grown.search(vectors[:1], 3)
    assert positions.tolist() == [[3, 4, -1]] and scores[0, 2] == 0
    assert len(index) == 4 and len(grown) == 5
    newer = grown.extended(2 * vectors[:1], np.array([], np.int64))
    assert grown.search(2 * vectors[:1], 1)[0].tolist() == [[4]]  # 5 is newer than it
    assert newer.search(2 * vectors[:1], 1)[0].tolist() == [[5]]
    with pytest.raises(ValueError, match="newest"):
        grown.extended(np.ones((1, 4), np.float32), np.array([], np.int64))
    again = index.extended(np.ones((1, 4), np.float32), np.array([], np.int64))  # a copy
    assert again.search(vectors[:1], 1)[0].tolist() == [[0]] and len(again) == 5


def test_a_saved_live_graph_loads_and_keeps_growing(tmp_path):
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(50, 3)).astype(np.float32)
    grown = HnswIndex.build(vectors).extended(vectors[:10] + 10, np.arange(10))
    grown.save(tmp_path)
    loaded = HnswIndex.load(tmp_path)
    assert len(loaded) == 60
    again = loaded.extended(vectors[:1] + 20, np.array([59]))
    positions, _ = again.search(vectors[:1] + 20, 1)
    assert positions.tolist() == [[60]]
    positions, _ = again.search(vectors[:1] + 10, 2)
    assert set(positions[0].tolist()) <= set(range(10, 59))


def test_a_song_added_twice_in_one_update_is_searched_once_until_its_first_row_goes(catalog):
    model = build("knn", catalog, {"clusters": 0})
    seed = catalog.features[catalog.index[catalog.track_ids[3]]]
    first, second = (upsert(f"take-{i}", seed * (1 + 1e-4 * i), "Fresh", "Band") for i in (1, 2))
    live = apply_update({"knn": model}, CatalogUpdate([first, second])).models["knn"]
    rows = [live.catalog.index["take-1"], live.catalog.index["take-2"]]
    assert live.catalog.canonical_position[rows[0]] == live.catalog.canonical_position[rows[1]]
    assert neighbour_ids(live, [catalog.track_ids[3]], k=2)[0] & {"take-1", "take-2"} == {"take-1"}
    later = apply_update({"knn": live}, CatalogUpdate(removals=["take-1"])).models["knn"]
    assert "take-2" in neighbour_ids(later, [catalog.track_ids[3]], k=2)[0]
    assert not set(neighbour_ids(later, list(catalog.track_ids[:50]), k=10)[0]) & {"take-1"}


def test_a_snapshot_of_a_live_catalog_holds_its_living_tracks(catalog, tmp_path):
    model = build("knn", catalog, {"clusters": 0})
    live = apply_all({"knn": model}, churn(catalog, 0.2, seed=13))["knn"].catalog
    loaded = load_snapshot(save_snapshot(live, tmp_path / "live.npz"))
    final = compacted(live)
    np.testing.assert_array_equal(loaded.track_ids, final.track_ids)
    np.testing.assert_array_equal(loaded.features, final.features)
    np.testing.assert_array_equal(loaded.canonical_rows, final.canonical_rows)
    assert len(loaded) == live.track_count
