"""The wire contract: what upstream apps send and what Encore publishes (JSON, UTF-8)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Version 2 added the request controls (several seeds, targets and ranges, exclusions, an
# artist cap, diversity, explanations); a version 1 event is answered exactly as before.
SCHEMA_VERSION = 2
MAX_K = 100
MAX_SEEDS = 5
MAX_EXCLUDED_TRACKS = 500
MAX_EXCLUDED_ARTISTS = 100
MAX_POOL = 1000
DEFAULT_MAX_PER_ARTIST = 2
DEFAULT_SESSION_WEIGHT = 0.5

NonEmpty = Annotated[str, Field(min_length=1, max_length=256)]

# `target_<feature>`, `min_<feature>`, `max_<feature>`: one per tunable feature, in its units.
FEATURE_CONTROL = re.compile(r"^(target|min|max)_([a-z][a-z0-9_]*)$")
_CONTROL_SCHEMA: dict[str, Any] = {
    "patternProperties": {FEATURE_CONTROL.pattern: {"type": "number"}}
}


class RequestControls(BaseModel):
    """How an answer is shaped: the fields a selection and `POST /v1/recommendations` share.

    All optional. `target_<feature>` pulls the seed toward a value; `min_<feature>` and
    `max_<feature>` are hard filters, in the feature's own units (kept in `feature_controls`).
    Other unknown fields are ignored, as in version 1.
    """

    model_config = ConfigDict(
        strict=True, extra="allow", frozen=True, json_schema_extra=_CONTROL_SCHEMA
    )

    seed_track_ids: list[NonEmpty] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_SEEDS,
        description="1..5 catalog ids blended into one seed (the weighted mean of their "
        "embeddings), instead of or beside track_id.",
    )
    seed_weights: list[Annotated[float, Field(gt=0)]] | None = Field(
        default=None, description="One positive weight per seed (track_id first); normalised."
    )
    exclude_track_ids: list[NonEmpty] | None = Field(
        default=None, max_length=MAX_EXCLUDED_TRACKS, description="Never recommend these."
    )
    exclude_artists: list[NonEmpty] | None = Field(
        default=None,
        max_length=MAX_EXCLUDED_ARTISTS,
        description="Never recommend these artists (case, accents and punctuation folded).",
    )
    max_per_artist: int = Field(
        default=DEFAULT_MAX_PER_ARTIST,
        ge=0,
        le=MAX_K,
        description="At most this many songs of one artist, the seeds' included (0: no cap).",
    )
    explicit: bool | None = Field(
        default=None, description="false drops explicit songs when the catalog knows them."
    )
    diversity: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="0..1: maximal marginal relevance over the candidate pool (0: similarity).",
    )
    pool: int | None = Field(
        default=None,
        ge=1,
        le=MAX_POOL,
        description="Candidates searched before the rules (default 10 x k).",
    )
    explain: bool = Field(
        default=False, description="Each item also gets `because`: its closest features."
    )
    # The listener controls: answered from the service's per-listener state (a direct HTTP
    # answer has no listener, so there they change nothing).
    exclude_heard: bool = Field(
        default=True,
        description="Never recommend a song in the listener's history or shown in their last "
        "answers (`fresh`); the answer says how many songs that withheld (`excluded_heard`).",
    )
    fresh: bool = Field(
        default=True,
        description="With exclude_heard: also withhold the songs of the last answers "
        "(false lets them back).",
    )
    seed_mode: Literal["track", "session"] = Field(
        default="track",
        description="track: the selected song is the seed; session: the seed blended with the "
        "listener's taste profile (`session_weight` of the profile).",
    )
    session_weight: float = Field(
        default=DEFAULT_SESSION_WEIGHT,
        ge=0.0,
        le=1.0,
        description="0..1: the taste profile's share of a session seed.",
    )

    @property
    def feature_controls(self) -> dict[str, float]:
        """The `target_*`, `min_*` and `max_*` fields, by their wire names."""
        return {
            key: float(value)
            for key, value in (self.model_extra or {}).items()
            if FEATURE_CONTROL.match(key)
        }

    @model_validator(mode="after")
    def _controls_are_numbers(self) -> Self:
        for key, value in (self.model_extra or {}).items():
            if FEATURE_CONTROL.match(key) and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise ValueError(f"{key} must be a number")
        return self

    def shaping(self) -> dict[str, Any]:
        """The controls this request set, by wire name (what the answer echoes)."""
        given = {
            name: getattr(self, name)
            for name in RequestControls.model_fields
            if name in self.model_fields_set
        }
        return {**given, **self.feature_controls}


class Selection(RequestControls):
    """What any request for recommendations names: the seed (`features`, or `track_id` and/or
    `seed_track_ids`), `k`, `model`, `with_features` and the request controls. `SongSelected`
    adds the envelope; the HTTP API's `POST /v1/recommendations` body is this."""

    track_id: NonEmpty | None = Field(default=None, description="A catalog track id.")
    features: dict[str, float] | None = Field(
        default=None,
        description="Audio features of a song that is not in the catalog (every catalog feature).",
    )
    k: int | None = Field(default=None, ge=1, le=MAX_K, description="How many songs to return.")
    model: NonEmpty | None = Field(default=None, description="A loaded model; default if absent.")
    with_features: bool = Field(default=False, description="Return each item's audio features.")

    @model_validator(mode="after")
    def _one_seed(self) -> Self:
        by_tracks = self.track_id is not None or self.seed_track_ids is not None
        if by_tracks == (self.features is not None):
            raise ValueError(
                "exactly one of features and a catalog seed (track_id, seed_track_ids) is required"
            )
        return self

    @property
    def seed_ids(self) -> list[str]:
        """The catalog seeds in order: track_id first, then seed_track_ids, duplicates once."""
        ids = ([self.track_id] if self.track_id is not None else []) + (self.seed_track_ids or [])
        return list(dict.fromkeys(ids))


class SongSelected(Selection):
    """A listener picked a song. Key: `user_id`. The seed: `features`, or `track_id` and/or
    `seed_track_ids`."""

    event_id: NonEmpty = Field(description="Unique id of this selection; echoed in the answer.")
    user_id: NonEmpty = Field(description="The listener; also the message key.")
    timestamp: datetime | int | None = Field(
        default=None, description="When the song was picked: RFC 3339, or epoch milliseconds."
    )
    schema_version: int = Field(default=1, ge=1, le=SCHEMA_VERSION)


class RecommendedItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    rank: int = Field(ge=1, le=MAX_K)
    track_id: str
    score: float = Field(
        description="Higher is more similar. Items come in rank order: descending score, except "
        "where `diversity` (MMR) or `supervised`'s artist spread chose a less similar song first."
    )
    track_name: str
    artist: str
    cluster: int | None = Field(
        default=None, description="The track's cluster, if the model has one."
    )
    features: dict[str, float] | None = None
    because: list[str] | None = Field(
        default=None,
        description="With explain: up to three features closest to the seed's, closest first.",
    )


class Recommendations(BaseModel):
    """The ranked answer to one `SongSelected`. Key: `user_id`."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    user_id: str | None = Field(description="The listener; null in a direct HTTP answer.")
    seed_track_id: str | None = Field(description="Null when the seed was given by features.")
    model: str
    model_version: str
    items: list[RecommendedItem]
    generated_at: datetime
    exhausted: bool | None = Field(
        default=None, description="True when the rules left fewer than k songs (version 2)."
    )
    imputed: list[str] | None = Field(
        default=None,
        description="Extras a feature seed lacked, filled with the catalog's median.",
    )
    constraints: dict[str, Any] | None = Field(
        default=None, description="The controls the request set, echoed (version 2)."
    )
    excluded_heard: int | None = Field(
        default=None,
        description="Songs withheld as heard or recently shown (listener state on).",
    )
    variant: str | None = Field(
        default=None, description="The listener's A/B variant (listener state or --variant on)."
    )
    schema_version: int = Field(default=1, description="The selection's schema_version.")


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
