"""Cleaning counts: missing features, out-of-range values, duplicates and their labels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from recommender.features import AUDIO_FEATURES
from recommender.ingest import first_label, load_catalog, split_labels
from recommender.ingest.report import describe

GOOD = dict(zip(AUDIO_FEATURES, (0.1, 0.5, 0.6, 0.0, 0.12, -6.5, 0.05, 120.0, 0.4), strict=True))


def _row(track_id: str, name: str, artist: str, genre: str, **features: float) -> dict[str, object]:
    return {
        "track_id": track_id,
        "track_name": name,
        "track_artist": artist,
        "playlist_genre": genre,
        **GOOD,
        **features,
    }


def _catalog_file(tmp_path: Path) -> Path:
    rows = [
        _row("t1", "Song One", "Band", "rock"),
        _row("t1", "Song One", "Band", "pop"),  # same id, another playlist
        _row("t2", "song one!", " band", "latin"),  # same song, another id
        _row("t3", "Two", "Band", "rock", danceability=float("nan")),
        _row("t4", "Three", "Band", "rock", danceability=1.5, tempo=0.0),
        _row("t5", "Four", "Band", "rock", tempo=0.0),
        _row("t6", "Five", "Other", "edm"),
    ]
    path = tmp_path / "songs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_cleaning_report_counts(tmp_path: Path) -> None:
    report = load_catalog(_catalog_file(tmp_path)).report
    assert report.rows_read == 7
    assert report.missing_features == 1
    assert report.out_of_range == {"danceability": 1, "tempo": 2}
    assert report.rejected_out_of_range == 2
    assert report.duplicate_track_ids == 1
    assert report.duplicate_songs == 1
    assert report.rows_kept == 3


def test_duplicates_keep_every_label_of_the_song(tmp_path: Path) -> None:
    catalog = load_catalog(_catalog_file(tmp_path)).catalog
    labels = dict(zip(catalog.track_ids, catalog.labels("playlist_genre"), strict=True))
    assert labels == {"t1": "rock|pop|latin", "t2": "rock|pop|latin", "t6": "edm"}
    assert split_labels(labels["t1"]) == {"rock", "pop", "latin"}
    assert first_label(labels["t1"]) == "rock"
    # t1 and t2 are one song: search runs over a single row of it.
    assert len(catalog.canonical_rows) == 2


def test_describe_names_the_mapping_and_the_drops(tmp_path: Path) -> None:
    text = describe(load_catalog(_catalog_file(tmp_path)))
    assert "artist             <- track_artist" in text
    assert "dropped, missing features: 1" in text
    assert "  tempo: 2" in text
    assert "rows kept: 3 (2 songs;" in text


def test_split_labels_handles_missing_and_plain_values() -> None:
    assert split_labels(float("nan")) == frozenset()
    assert split_labels("") == frozenset()
    assert split_labels(3) == {"3"}
    assert first_label(None) == ""
