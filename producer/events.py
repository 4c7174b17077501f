"""Build song-selected events: from arguments, or as simulated listeners picking catalog songs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np

from recommender.catalog import Catalog


def selection(
    user_id: str,
    track_id: str | None = None,
    features: dict[str, float] | None = None,
    k: int | None = None,
    model: str | None = None,
    event_id: str | None = None,
) -> dict[str, object]:
    """A `SongSelected` as a plain dict (the producer side needs no pydantic round trip)."""
    event: dict[str, object] = {
        "event_id": event_id or uuid.uuid4().hex,
        "user_id": user_id,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    if track_id is not None:
        event["track_id"] = track_id
    if features is not None:
        event["features"] = features
    if k is not None:
        event["k"] = k
    if model is not None:
        event["model"] = model
    return event


def encode(event: dict[str, object]) -> tuple[bytes, bytes]:
    """(key, value): keyed by user so one listener's events stay in order."""
    return str(event["user_id"]).encode(), json.dumps(event).encode()


def listeners(
    catalog: Catalog, users: int = 50, seed: int = 0, models: list[str] | None = None
) -> Iterator[dict[str, object]]:
    """Endless selections: a random one of `users` listeners picks a uniformly random catalog
    track; with `models`, the events rotate through them."""
    rng = np.random.default_rng(seed)
    n = len(catalog)
    counter = 0
    while True:
        counter += 1
        user = int(rng.integers(users))
        row = int(rng.integers(n))
        model = models[counter % len(models)] if models else None
        yield selection(
            f"user-{user:04d}",
            track_id=str(catalog.track_ids[row]),
            model=model,
            event_id=f"sim-{seed}-{counter}",
        )
