"""`--features auto`: every extra an export carries, encoded; feature seeds completed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from recommender.features import AUDIO_FEATURES, EXTRA_FEATURES, resolve_features
from recommender.ingest import SeedImputer, load_catalog

AUDIO = dict(zip(AUDIO_FEATURES, (0.1, 0.5, 0.6, 0.0, 0.12, -6.5, 0.05, 120.0, 0.4), strict=True))
# Capitalised headers, no id column, a release date for the year, letter keys, seconds.
HEADERS = [
    "Track", "Artist", "Genre", "Release Date", "Popularity", "Key", "Mode", "Duration",
    "Explicit", "Time Signature", *(name.capitalize() for name in AUDIO_FEATURES),
]  # fmt: skip


def _export(tmp_path: Path, rows: list[dict[str, object]], headers: list[str] = HEADERS) -> Path:
    lines = [",".join(headers)]
    for row in rows:
        lines.append(",".join(str(row.get(h, AUDIO.get(h.lower(), ""))) for h in headers))
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _row(i: int, **values: object) -> dict[str, object]:
    base = {"Track": f"Song {i}", "Artist": f"Artist {i}", "Genre": "pop", "Popularity": 50,
            "Release Date": "2001-05-02", "Key": "C", "Mode": "Major", "Duration": 200,
            "Explicit": "False", "Time Signature": 4}  # fmt: skip
    return {**base, **values}


def test_auto_is_the_nine_plus_every_extra_the_export_has() -> None:
    assert resolve_features("audio", {"key", "year"}) == AUDIO_FEATURES
    assert resolve_features("auto", set()) == AUDIO_FEATURES
    extras = resolve_features(["auto"], {"key", "year"})[len(AUDIO_FEATURES) :]
    assert extras == ("year", "key_sin", "key_cos")
    assert resolve_features("energy,key", {"key"}) == ("energy", "key")


def test_extras_are_encoded(tmp_path: Path) -> None:
    rows = [
        _row(0),
        _row(1, Key="G", Mode="Minor", Duration=100, Explicit="True", **{"Release Date": 1999}),
        _row(2, Key=-1, Popularity=90),
        _row(3, Key=6, **{"Time Signature": 3}),
    ]
    result = load_catalog(_export(tmp_path, rows), "auto")
    catalog = result.catalog
    assert catalog.feature_names == (*AUDIO_FEATURES, *EXTRA_FEATURES)
    assert result.schema.derives_ids and result.label_columns == ("Genre",)
    column = {name: catalog.features[:, j] for j, name in enumerate(catalog.feature_names)}
    assert column["year"].tolist() == [2001, 1999, 2001, 2001]
    assert column["popularity"].tolist() == [50, 50, 90, 50]
    # The circle of fifths: C at the top, G one fifth (30 degrees) on, F# opposite C.
    np.testing.assert_allclose(column["key_sin"], [0, 0.5, 0, 0], atol=1e-6)
    np.testing.assert_allclose(column["key_cos"], [1, math.sqrt(3) / 2, 0, -1], atol=1e-6)
    np.testing.assert_allclose(column["log_duration"], np.log([200, 100, 200, 200]), rtol=1e-6)
    assert column["mode"].tolist() == [1, 0, 1, 1]
    assert column["explicit"].tolist() == [0, 1, 0, 0]
    assert column["time_signature"].tolist() == [4, 4, 4, 3]
    audio = load_catalog(_export(tmp_path, rows), "audio").catalog
    assert audio.feature_names == AUDIO_FEATURES


def test_a_missing_extra_takes_the_median_and_a_sparse_one_is_left_out(tmp_path: Path) -> None:
    rows = [_row(i, Popularity=10 * i, Explicit="") for i in range(5)]
    rows[1]["Popularity"] = ""
    rows[0]["Explicit"] = "True"
    result = load_catalog(_export(tmp_path, rows), "auto")
    names = result.catalog.feature_names
    assert "explicit" not in names  # one valid value in five: not a feature
    popularity = result.catalog.features[:, names.index("popularity")]
    assert popularity.tolist() == [0, 25, 20, 30, 40]
    assert result.report.imputed == {"popularity": 1}
    assert len(result.catalog) == 5  # nothing dropped for a missing extra


def test_a_feature_seed_lacking_extras_is_completed_with_medians(tmp_path: Path) -> None:
    rows = [_row(i, Popularity=10 * i, Key="C" if i else "G") for i in range(5)]
    catalog = load_catalog(_export(tmp_path, rows), "auto").catalog
    imputer = SeedImputer.from_catalog(catalog)
    completed = imputer.complete(dict(AUDIO))
    assert completed.problems == ()
    assert completed.imputed == (
        "year", "popularity", "key", "mode", "duration_ms", "explicit", "time_signature"
    )  # fmt: skip
    assert completed.vector is not None
    np.testing.assert_allclose(completed.vector[:9], list(AUDIO.values()), rtol=1e-6)
    np.testing.assert_allclose(completed.vector[9:], np.median(catalog.features[:, 9:], axis=0))
    given = imputer.complete({**AUDIO, "key": 7, "duration_ms": 100_000, "popularity": 80})
    assert given.imputed == ("year", "mode", "explicit", "time_signature")
    assert given.vector is not None
    position = {name: j for j, name in enumerate(catalog.feature_names)}
    assert given.vector[position["popularity"]] == 80
    assert given.vector[position["key_sin"]] == pytest.approx(0.5)
    assert given.vector[position["log_duration"]] == pytest.approx(math.log(100))
    encoded = imputer.complete({**AUDIO, "key_sin": 0.0, "key_cos": -1.0})
    assert "key" not in encoded.imputed


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({k: v for k, v in AUDIO.items() if k != "energy"}, "missing feature 'energy'"),
        ({**AUDIO, "loudest": 1.0}, "unknown feature 'loudest'"),
        ({**AUDIO, "popularity": 300.0}, "popularity=300.0 outside"),
    ],
)
def test_a_seed_missing_an_audio_feature_or_out_of_range_is_a_problem(
    tmp_path: Path, values: dict[str, float], problem: str
) -> None:
    catalog = load_catalog(_export(tmp_path, [_row(0), _row(1)]), "auto").catalog
    completed = SeedImputer.from_catalog(catalog).complete(values)
    assert completed.vector is None
    assert any(p.startswith(problem) for p in completed.problems)
