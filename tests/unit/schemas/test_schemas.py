import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas import Recommendations, SongSelected, render_schemas

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"


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


def test_version_2_controls_parse_and_flat_feature_controls_are_kept():
    event = SongSelected.model_validate_json(
        b'{"event_id":"e","user_id":"u","seed_track_ids":["a","b","c"],"target_energy":0.3,'
        b'"min_tempo":90,"max_tempo":130.5,"exclude_artists":["X"],"max_per_artist":1,'
        b'"diversity":0.3,"pool":100,"explain":true,"unrelated":"ignored","schema_version":2}'
    )
    assert event.seed_ids == ["a", "b", "c"]
    assert event.feature_controls == {"target_energy": 0.3, "min_tempo": 90.0, "max_tempo": 130.5}
    assert event.shaping()["max_per_artist"] == 1 and "unrelated" not in event.shaping()
    both = SongSelected.model_validate(
        {"event_id": "e", "user_id": "u", "track_id": "a", "seed_track_ids": ["a", "b"]}
    )
    assert both.seed_ids == ["a", "b"]


@pytest.mark.parametrize(
    "controls",
    [
        {"seed_track_ids": ["a", "b", "c", "d", "e", "f"]},
        {"seed_track_ids": []},
        {"target_energy": "high"},
        {"min_tempo": True},
        {"diversity": 1.5},
        {"pool": 1001},
        {"max_per_artist": -1},
        {"exclude_track_ids": [str(i) for i in range(501)]},
        {"features": {"energy": 0.5}},  # features beside a catalog seed
    ],
)
def test_version_2_invalid_controls_are_refused(controls):
    with pytest.raises(ValidationError):
        SongSelected.model_validate({"event_id": "e", "user_id": "u", "track_id": "t", **controls})


def test_a_version_1_event_keeps_its_defaults():
    event = SongSelected.model_validate_json(b'{"event_id":"e","user_id":"u","track_id":"t"}')
    assert event.schema_version == 1 and event.shaping() == {} and event.max_per_artist == 2
