"""The wire contract: what upstream apps send and what Encore publishes (JSON, UTF-8)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1
MAX_K = 100

NonEmpty = Annotated[str, Field(min_length=1, max_length=256)]


class SongSelected(BaseModel):
    """A listener picked a song. Key: `user_id`. Exactly one of `track_id` and `features`."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    event_id: NonEmpty = Field(description="Unique id of this selection; echoed in the answer.")
    user_id: NonEmpty = Field(description="The listener; also the message key.")
    track_id: NonEmpty | None = Field(default=None, description="A catalog track id.")
    features: dict[str, float] | None = Field(
        default=None,
        description="Audio features of a song that is not in the catalog (every catalog feature).",
    )
    k: int | None = Field(default=None, ge=1, le=MAX_K, description="How many songs to return.")
    model: NonEmpty | None = Field(default=None, description="A loaded model; default if absent.")
    with_features: bool = Field(default=False, description="Return each item's audio features.")
    timestamp: datetime | int | None = Field(
        default=None, description="When the song was picked: RFC 3339, or epoch milliseconds."
    )
    schema_version: int = SCHEMA_VERSION

    @model_validator(mode="after")
    def _one_seed(self) -> Self:
        if (self.track_id is None) == (self.features is None):
            raise ValueError("exactly one of track_id and features is required")
        return self


class RecommendedItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    rank: int = Field(ge=1, le=MAX_K)
    track_id: str
    score: float = Field(description="Higher is more similar; items are in descending order.")
    track_name: str
    artist: str
    cluster: int | None = Field(
        default=None, description="The track's cluster, if the model has one."
    )
    features: dict[str, float] | None = None


class Recommendations(BaseModel):
    """The ranked answer to one `SongSelected`. Key: `user_id`."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    user_id: str
    seed_track_id: str | None = Field(description="Null when the seed was given by features.")
    model: str
    model_version: str
    items: list[RecommendedItem]
    generated_at: datetime
    schema_version: int = SCHEMA_VERSION


class DeadLetterReason(StrEnum):
    """The `error.reason` header of a dead letter."""

    INVALID_JSON = "invalid_json"
    INVALID_SCHEMA = "invalid_schema"
    UNKNOWN_TRACK = "unknown_track"
    UNKNOWN_MODEL = "unknown_model"
    INVALID_FEATURES = "invalid_features"
    INTERNAL = "internal"


# Headers of a dead letter; its key and value are the original message's, byte for byte.
DEAD_LETTER_HEADERS = (
    "error.reason",
    "error.message",
    "source.topic",
    "source.partition",
    "source.offset",
)
