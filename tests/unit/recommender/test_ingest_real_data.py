"""The loader on the real exports beside the repo; skipped when they are absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.ingest import load_catalog, split_labels


def test_tidytuesday_songs_load_with_the_readme_counts(real_songs: Path) -> None:
    result = load_catalog(real_songs)
    report = result.report
    assert report.rows_read == 32_833
    assert report.rows_kept == 28_355  # 28,356 unique ids less the one with tempo 0
    assert report.out_of_range == {"tempo": 1}
    # Normalised name+artist folds a few more pairs than the README's exact 26,230.
    assert 26_000 < len(result.catalog.canonical_rows) <= 26_230
    genres = [split_labels(v) for v in result.catalog.labels("playlist_genre")]
    assert set().union(*genres) == {"edm", "rap", "pop", "r&b", "latin", "rock"}
    assert any(len(g) > 1 for g in genres)


def test_hit_predictor_loads_by_uri(real_songs: Path) -> None:
    path = real_songs.parent / "hit_predictor_1960_2019.csv"
    if not path.exists():
        pytest.skip(f"real data not present at {path}")
    result = load_catalog(path)
    assert result.schema.mapping["track_id"] == "uri"
    assert result.report.rows_read == 41_106
    assert len(result.catalog) == 40_559  # 40,560 unique uris less the one with tempo 0
    assert not any(t.startswith("spotify:") for t in result.catalog.track_ids[:100])
