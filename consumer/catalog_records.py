"""One record of the catalog topic in, a track to upsert, a tombstone, or why it is a dead letter.

Key: the `track_id` (UTF-8), or that id as a JSON string (`"abc"`, quotes included: the key
Debezium's MongoDB connector gives a document with `_id: "abc"`). Value: a
`schemas.CatalogTrack` JSON object whose `track_id` is the key, or null (a tombstone: the
track is removed). Whether the features are usable (every
audio feature present, in range) is decided when the record is applied (`apply_update`).
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from consumer.decode import Rejected, classify
from recommender.live import TrackUpsert
from schemas import CatalogTrack, DeadLetterReason

__all__ = ["decode_record", "upsert_of"]

# A track is a few hundred bytes; this bounds what one bad record can cost.
MAX_RECORD_BYTES = 64 * 1024


def upsert_of(track: CatalogTrack) -> TrackUpsert:
    return TrackUpsert(
        track.track_id,
        track.track_name,
        track.artist,
        dict(track.features),
        dict(track.labels) if track.labels is not None else None,
        track.explicit,
    )


def decode_record(
    key: bytes | None, value: bytes | None, max_bytes: int = MAX_RECORD_BYTES
) -> tuple[str, TrackUpsert | None] | Rejected:
    """(track_id, the upsert, or None for a tombstone), or why the record is unusable."""
    if not key:
        return Rejected(DeadLetterReason.INVALID_SCHEMA, "missing key (expected the track_id)")
    try:
        track_id = key.decode("utf-8")
    except UnicodeDecodeError:
        return Rejected(DeadLetterReason.INVALID_SCHEMA, "key is not UTF-8")
    track_id = _unquoted(track_id)
    if value is None:
        return track_id, None
    if len(value) == 0:
        return Rejected(DeadLetterReason.INVALID_JSON, "empty value (a tombstone is a null value)")
    if len(value) > max_bytes:
        return Rejected(
            DeadLetterReason.INVALID_SCHEMA, f"value of {len(value)} bytes exceeds {max_bytes}"
        )
    try:
        track = CatalogTrack.model_validate_json(value)
    except ValidationError as exc:
        return classify(exc, "track")
    if track.track_id != track_id:
        return Rejected(
            DeadLetterReason.INVALID_SCHEMA,
            f"key {track_id!r} is not the value's track_id {track.track_id!r}",
        )
    return track_id, upsert_of(track)


def _unquoted(key: str) -> str:
    """`"abc"` (a JSON string) -> `abc`; any other key as it is."""
    if len(key) >= 2 and key[0] == key[-1] == '"':
        try:
            text = json.loads(key)
        except ValueError:
            return key
        if isinstance(text, str) and text:
            return text
    return key
