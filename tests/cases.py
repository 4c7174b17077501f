"""Messages with known verdicts, shared by the decoder's unit tests and the broker tests."""

from __future__ import annotations

import json

from recommender.features import AUDIO_FEATURES

GOOD_FEATURES = {
    "acousticness": 0.1,
    "danceability": 0.7,
    "energy": 0.8,
    "instrumentalness": 0.0,
    "liveness": 0.1,
    "loudness": -5.0,
    "speechiness": 0.05,
    "tempo": 120.0,
    "valence": 0.6,
}
assert set(GOOD_FEATURES) == set(AUDIO_FEATURES)


def event(**fields: object) -> bytes:
    return json.dumps({"event_id": "e-1", "user_id": "u-1", **fields}).encode()


def bad_cases(known_track: str) -> list[tuple[str, bytes | None, bytes | None, str]]:
    """(name, key, value, expected error.reason) for every kind of bad input."""
    nan_features = json.dumps({"event_id": "e", "user_id": "u", "features": {**GOOD_FEATURES}})
    nan_features = nan_features.replace('"tempo": 120.0', '"tempo": NaN')
    inf_features = nan_features.replace("NaN", "Infinity")
    return [
        ("not json", b"u", b"this is not json", "invalid_json"),
        ("empty value", b"u", b"", "invalid_json"),
        ("binary garbage", b"u", bytes(range(256)) * 2, "invalid_json"),
        ("truncated json", b"u", event(track_id=known_track)[:-5], "invalid_json"),
        ("json array", b"u", b"[1, 2, 3]", "invalid_schema"),
        ("json string", b"u", b'"hello"', "invalid_schema"),
        ("missing event_id", b"u", json.dumps({"user_id": "u", "track_id": known_track}).encode(), "invalid_schema"),
        ("missing user_id", b"u", json.dumps({"event_id": "e", "track_id": known_track}).encode(), "invalid_schema"),
        ("wrong type user_id", b"u", event(user_id=42, track_id=known_track), "invalid_schema"),
        ("wrong type k", b"u", event(track_id=known_track, k="5"), "invalid_schema"),
        ("both seeds", b"u", event(track_id=known_track, features=GOOD_FEATURES), "invalid_schema"),
        ("neither seed", b"u", event(), "invalid_schema"),
        ("k zero", b"u", event(track_id=known_track, k=0), "invalid_schema"),
        ("k too large", b"u", event(track_id=known_track, k=101), "invalid_schema"),
        ("missing key", None, event(track_id=known_track), "invalid_schema"),
        ("non-utf8 key", b"\xff\xfe\xfd", event(track_id=known_track), "invalid_schema"),
        ("oversized value", b"u", event(track_id=known_track, pad="x" * 70_000), "invalid_schema"),
        ("unknown track", b"u", event(track_id="no-such-track"), "unknown_track"),
        ("unknown model", b"u", event(track_id=known_track, model="no-such-model"), "unknown_model"),
        ("nan feature", b"u", nan_features.encode(), "invalid_features"),
        ("infinite feature", b"u", inf_features.encode(), "invalid_features"),
        ("out of range feature", b"u", event(features={**GOOD_FEATURES, "danceability": 1.5}), "invalid_features"),
        ("negative tempo", b"u", event(features={**GOOD_FEATURES, "tempo": -3.0}), "invalid_features"),
        ("missing feature", b"u", event(features={"energy": 0.5}), "invalid_features"),
    ]  # fmt: skip
