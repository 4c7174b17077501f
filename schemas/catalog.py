"""A track on the catalog topic (`encore.catalog`, compacted, key: `track_id`).

A value adds or replaces the track; a null value (a tombstone) removes it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from schemas.events import NonEmpty


class CatalogTrack(BaseModel):
    """One catalog track, as every instance applies it between batches."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    track_id: NonEmpty = Field(description="The catalog id; also the message key.")
    track_name: str = Field(max_length=1024)
    artist: str = Field(max_length=1024)
    features: dict[str, float] = Field(
        description="Keyed by feature name exactly like SongSelected.features; extras such as "
        "year or popularity too (a missing extra is imputed with the catalog's median)."
    )
    labels: dict[str, str] | None = Field(
        default=None, description="Label columns (e.g. genre) by column name, for evaluation."
    )
    explicit: bool | None = Field(default=None, description="Whether the song is explicit.")
    updated_at: datetime | int | None = Field(
        default=None, description="When the source changed it: RFC 3339, or epoch milliseconds."
    )
