import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas import Recommendations, SongSelected, render_schemas

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def test_json_schema_files_are_up_to_date():
    for name, text in render_schemas().items():
        on_disk = (SCHEMA_DIR / name).read_text()
        assert on_disk == text, f"{name} is stale: run `make schemas`"


def test_song_selected_accepts_a_track_or_features():
    by_track = SongSelected.model_validate_json(
        b'{"event_id":"e","user_id":"u","track_id":"t","k":5}'
    )
    assert by_track.track_id == "t" and by_track.k == 5
    by_features = SongSelected.model_validate(
        {"event_id": "e", "user_id": "u", "features": {"energy": 0.5}}
    )
    assert by_features.features == {"energy": 0.5}


@pytest.mark.parametrize(
    "payload",
    [
        {"user_id": "u", "track_id": "t"},
        {"event_id": "e", "track_id": "t"},
        {"event_id": "e", "user_id": "u"},
        {"event_id": "e", "user_id": "u", "track_id": "t", "features": {"energy": 0.5}},
        {"event_id": "e", "user_id": "u", "track_id": "t", "k": 0},
        {"event_id": "e", "user_id": "u", "track_id": "t", "k": 101},
        {"event_id": "e", "user_id": "u", "track_id": "t", "k": "5"},
        {"event_id": "", "user_id": "u", "track_id": "t"},
        {"event_id": "e", "user_id": 7, "track_id": "t"},
    ],
)
def test_song_selected_rejects(payload):
    with pytest.raises(ValidationError):
        SongSelected.model_validate_json(json.dumps(payload))


def test_timestamp_is_rfc3339_or_epoch_ms():
    a = SongSelected.model_validate_json(
        b'{"event_id":"e","user_id":"u","track_id":"t","timestamp":"2026-01-02T03:04:05Z"}'
    )
    b = SongSelected.model_validate_json(
        b'{"event_id":"e","user_id":"u","track_id":"t","timestamp":1767323045000}'
    )
    assert a.timestamp.year == 2026
    assert b.timestamp == 1767323045000


def test_recommendations_round_trip():
    answer = Recommendations.model_validate(
        {
            "event_id": "e",
            "user_id": "u",
            "seed_track_id": None,
            "model": "knn",
            "model_version": "knn-1",
            "items": [{"rank": 1, "track_id": "t", "score": 0.9, "track_name": "n", "artist": "a"}],
            "generated_at": "2026-01-01T00:00:00Z",
        }
    )
    assert Recommendations.model_validate_json(answer.model_dump_json()) == answer
