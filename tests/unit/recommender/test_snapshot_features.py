"""`catalog compile` keeps what `--features auto` and `supervised` use: the encoded extras
(year, popularity, key, mode, duration, explicit, time signature) and the label columns, so a
model from the compiled snapshot is the model from the CSV; a service asking the snapshot for
other features than it was compiled with is told how to recompile it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.__main__ import main
from recommender.artifacts import load_artifact, save_artifact
from recommender.catalog import Catalog
from recommender.errors import CatalogError
from recommender.features import AUDIO_FEATURES, EXTRA_FEATURES
from recommender.snapshot import CATALOG_CACHE, load_catalog_cached, save_snapshot
from recommender.training import train_model
from recommender.training.synthetic import generate_catalog

FAST = {"label_column": "genre", "extra_label_columns": ("mood",), "epochs": 8, "seed": 3}


@pytest.fixture
def csv(tmp_path):
    frame = generate_catalog(600, seed=5)
    rng = np.random.default_rng(5)
    frame["release_date"] = [f"{y}-05-01" for y in rng.integers(1960, 2024, len(frame))]
    frame["popularity"] = rng.integers(0, 101, len(frame))
    frame["key"] = rng.integers(-1, 12, len(frame))
    frame["mode"] = rng.integers(0, 2, len(frame))
    frame["duration_ms"] = rng.integers(90_000, 400_000, len(frame))
    frame["explicit"] = rng.choice(["True", "False"], len(frame))
    frame["time_signature"] = rng.choice([3, 4, 5], len(frame))
    frame["mood"] = [f"m{i % 3}" for i in range(len(frame))]  # not a name loading knows
    frame.loc[10, "popularity"] = None  # an extra to impute
    relisted = frame.iloc[[0]].assign(genre="latin", mood="m9")  # the same id, more labels
    path = tmp_path / "catalog.csv"
    pd.concat([frame, relisted], ignore_index=True).to_csv(path, index=False)
    return path


def compiled(csv, tmp_path, *flags: str):
    out = tmp_path / "c.catalog.npz"
    assert main(["catalog", "compile", str(csv), "--out", str(out), *flags]) == 0
    return out


def assert_same_catalog(a: Catalog, b: Catalog) -> None:
    assert a.fingerprint == b.fingerprint and a.feature_names == b.feature_names
    assert np.array_equal(a.features, b.features)
    assert list(a.track_ids) == list(b.track_ids) and np.array_equal(a.song_ids, b.song_ids)
    assert list(a.extra.columns) == list(b.extra.columns)
    for column in a.extra.columns:
        assert list(a.extra[column].astype(str)) == list(b.extra[column].astype(str)), column


def test_compile_keeps_the_auto_features_and_the_label_columns(csv, tmp_path):
    out = compiled(csv, tmp_path, "--label-column", "mood")
    snapshot = load_catalog_cached(out, None, ("auto",))
    # What the service loads from the CSV with the same flags (its catalog cache included).
    from_csv = load_catalog_cached(csv, tmp_path / CATALOG_CACHE, ("auto",), ("mood",))
    assert snapshot.feature_names == AUDIO_FEATURES + EXTRA_FEATURES
    assert_same_catalog(snapshot, from_csv)
    first = list(snapshot.track_ids).index(str(from_csv.track_ids[0]))
    assert snapshot.labels("genre")[first].split("|")[-1] == "latin"  # merged per song
    assert snapshot.labels("mood")[first] == "m0|m9"


def test_supervised_from_the_snapshot_recommends_as_from_the_csv(csv, tmp_path):
    snapshot = load_catalog_cached(
        compiled(csv, tmp_path, "--label-column", "mood"), None, ("auto",)
    )
    from_csv = load_catalog_cached(csv, None, ("auto",), ("mood",))
    trained_on_csv = train_model("supervised", from_csv, options=FAST).with_search("exact")
    trained_on_snapshot = train_model("supervised", snapshot, options=FAST).with_search("exact")
    # The artifact trained on the CSV also loads on a service started from the snapshot.
    save_artifact(trained_on_csv, tmp_path / "artifacts")
    served = load_artifact(tmp_path / "artifacts", "supervised", snapshot).with_search("exact")
    rows = np.arange(0, len(snapshot), 7)
    features = np.full(len(rows), -1)
    for model in (trained_on_snapshot, served):
        for seeds, given in ((rows, None), (features, from_csv.features[rows])):
            expected = trained_on_csv.recommend(seeds, 10, given)
            got = model.recommend(seeds, 10, None if given is None else snapshot.features[rows])
            assert np.array_equal(got.rows, expected.rows)
            assert np.allclose(got.scores, expected.scores, atol=1e-5)


def test_a_snapshot_serves_only_the_features_it_was_compiled_with(csv, tmp_path):
    auto = compiled(csv, tmp_path)
    with pytest.raises(CatalogError, match=r"compiled with --features auto .*--features audio"):
        load_catalog_cached(auto, None, ("audio",))
    names = ",".join(AUDIO_FEATURES + EXTRA_FEATURES)
    assert len(load_catalog_cached(auto, None, (names,)).feature_names) == 17  # named in full

    audio = compiled(csv, tmp_path / "audio", "--features", "audio")
    assert load_catalog_cached(audio, None, ("audio",)).feature_names == AUDIO_FEATURES
    with pytest.raises(CatalogError, match="recompile it with"):
        load_catalog_cached(audio, None, ("auto",))
    # A snapshot written before the set was recorded holds the nine: it counts as audio.
    legacy = save_snapshot(load_catalog_cached(audio, None, ("audio",)), tmp_path / "l.catalog.npz")
    assert load_catalog_cached(legacy, None, ("audio",)).feature_names == AUDIO_FEATURES
    with pytest.raises(CatalogError, match="compiled with --features audio"):
        load_catalog_cached(legacy, None, ("auto",))


def test_without_extras_auto_and_audio_are_the_same_snapshot(tmp_path):
    path = tmp_path / "plain.csv"
    generate_catalog(200, seed=1).to_csv(path, index=False)
    for compiled_with, asked in (("auto", "audio"), ("audio", "auto")):
        out = compiled(path, tmp_path / compiled_with, "--features", compiled_with)
        assert load_catalog_cached(out, None, (asked,)).feature_names == AUDIO_FEATURES


def test_compile_refuses_a_label_column_the_catalog_lacks(csv, tmp_path, capsys):
    out = tmp_path / "x.catalog.npz"
    assert main(["catalog", "compile", str(csv), "--out", str(out), "--label-column", "no"]) == 2
    assert "no label column 'no'" in capsys.readouterr().err
    assert not out.exists()
