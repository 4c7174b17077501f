"""`jittered_catalog` on a tiny generated export: real rows again, moved a little, in range."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.features import AUDIO_FEATURES, FEATURE_RANGES
from recommender.ingest import read_catalog
from recommender.training.synthetic import generate_catalog, jittered_catalog

ROWS = 40


@pytest.fixture
def export() -> pd.DataFrame:
    """A TidyTuesday-shaped export: its header names, a repeated row, one out of range."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "track_id": [f"id{i:03d}" for i in range(ROWS)],
            "track_name": [f"Name {i}" for i in range(ROWS)],
            "track_artist": [f"Artist {i % 7}" for i in range(ROWS)],
            "track_popularity": rng.integers(0, 101, ROWS),
            "playlist_genre": rng.choice(["pop", "rock"], ROWS),
        }
    )
    for name in AUDIO_FEATURES:
        low, high = FEATURE_RANGES[name]
        low, high = max(low, -20.0), min(high, 200.0)
        frame[name] = rng.uniform(low, high, ROWS)
    frame.loc[:4, "energy"] = 1.0  # on the edge: noise must be clipped back into range
    frame.loc[ROWS - 1, "tempo"] = 0.0  # invalid (tempo 0): never drawn
    return pd.concat([frame, frame.iloc[:3]], ignore_index=True)  # listed twice, as in real data


def test_layout_is_the_generated_one_plus_popularity(export: pd.DataFrame, tmp_path) -> None:
    out = jittered_catalog(export, 500, seed=1)
    assert out.shape == (500, len(generate_catalog(5).columns) + 1)
    assert list(out.columns) == [*generate_catalog(5).columns, "popularity"]
    path = tmp_path / "jitter.csv"
    out.to_csv(path, index=False)
    assert len(read_catalog(path)) == 500  # the loader takes it as it is written


def test_ids_are_new_and_unique_and_names_kept(export: pd.DataFrame) -> None:
    out = jittered_catalog(export, 500, seed=1)
    assert out["track_id"].is_unique
    assert not set(out["track_id"]) & set(export["track_id"])
    base = out["track_name"].str.split(" - ").str[0]
    assert set(base) <= {f"Name {i}" for i in range(ROWS - 1)}
    assert not out[["track_name", "artist"]].duplicated().any()
    assert out["track_name"].str.endswith(" - Live").any()


def test_values_stay_in_range(export: pd.DataFrame) -> None:
    out = jittered_catalog(export, 2000, seed=2, noise=0.5)
    for name in AUDIO_FEATURES:
        low, high = FEATURE_RANGES[name]
        assert out[name].between(low, high).all(), name
    assert (out["energy"] == 1.0).any()  # edge rows pushed out were clipped back


def test_jitter_is_noise_times_the_standard_deviation(export: pd.DataFrame) -> None:
    noise = 0.05
    out = jittered_catalog(export, 4000, seed=3, noise=noise)
    source = export.drop_duplicates("track_id").set_index("track_name")
    origin = source.loc[out["track_name"].str.split(" - ").str[0]]
    valid = source[source["tempo"] > 0]
    for name in AUDIO_FEATURES:
        moved = out[name].to_numpy() - origin[name].to_numpy()
        low, high = FEATURE_RANGES[name]
        unclipped = (out[name] > low).to_numpy() & (out[name] < high).to_numpy()
        ratio = moved[unclipped].std() / (noise * valid[name].std(ddof=0))
        assert ratio == pytest.approx(1.0, abs=0.1), name
        assert abs(moved[unclipped].mean()) < 0.1 * noise * valid[name].std(ddof=0), name


def test_seeded(export: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(jittered_catalog(export, 50, 4), jittered_catalog(export, 50, 4))
    assert not jittered_catalog(export, 50, 4).equals(jittered_catalog(export, 50, 5))
