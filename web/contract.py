"""The HTTP API's bodies (docs/api.md), as pydantic models: validated in, documented out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from schemas import (
    MAX_K,
    SCHEMA_VERSION,
    CatalogTrack,
    FeedbackAction,
    Recommendations,
    Selection,
    SongFeedback,
)

NonEmpty = Annotated[str, Field(min_length=1, max_length=256)]
_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)


class TrackSummary(BaseModel):
    track_id: str
    track_name: str
    artist: str


class TrackSearchAnswer(BaseModel):
    query: str
    items: list[TrackSummary]


class TrackDetail(TrackSummary):
    features: dict[str, float]
    clusters: dict[str, int | None] = Field(
        description="Per loaded model: the track's cluster, null if the model has none"
    )
    labels: dict[str, str | None] = Field(description="The catalog's label columns")


class RecommendationRequest(Selection):
    """A `SongSelected` without `event_id` and `user_id`: the seed (`features`, or `track_id`
    and/or `seed_track_ids`), `k`, `model`, `with_features` and the request controls."""

    def event(self, event_id: str, user_id: str) -> dict[str, Any]:
        """The `SongSelected` this request stands for, as JSON-ready values."""
        given = self.model_dump(mode="json", exclude_unset=True, exclude={"user_id"})
        return {"event_id": event_id, "user_id": user_id, **given, "schema_version": SCHEMA_VERSION}


class SelectionRequest(RecommendationRequest):
    """Published as a `SongSelected` with a generated `event_id`, keyed by `user_id`."""

    user_id: NonEmpty = Field(description="The listener; also the message key")


class SelectionAccepted(BaseModel):
    event_id: str


class FeedbackRequest(SongFeedback):
    """A `SongFeedback`; `event_id` (generated when absent) and `timestamp` (now when absent)
    are optional. A client that sends its own `event_id` may retry: the service counts it once.

    Validated as JSON is (an action or a date given as a string), not strictly as the
    Python objects FastAPI hands over; unknown fields are refused (a typo is a 422).
    """

    # strict=False: SongFeedback's strictness is for JSON; FastAPI validates Python objects.
    model_config = ConfigDict(strict=False, extra="forbid", frozen=True)

    event_id: NonEmpty | None = Field(  # type: ignore[assignment]
        default=None, description="Unique id of this feedback; generated when absent."
    )
    user_id: NonEmpty = Field(description="The listener; also the message key.")
    track_id: NonEmpty = Field(description="A track of the served catalog (else 404).")
    action: FeedbackAction = Field(description="play, skip, like or dislike.")
    timestamp: datetime | StrictInt | None = Field(
        default=None,
        description="When it happened: RFC 3339, or epoch milliseconds; now if absent.",
    )

    def event(self, event_id: str, now_ms: int) -> SongFeedback:
        """The `SongFeedback` published for this request."""
        return SongFeedback(
            event_id=self.event_id or event_id,
            user_id=self.user_id,
            track_id=self.track_id,
            action=self.action,
            timestamp=now_ms if self.timestamp is None else self.timestamp,
            recommendation_event_id=self.recommendation_event_id,
        )


class FeedbackAccepted(BaseModel):
    event_id: str = Field(description="The feedback's event_id (the one given, or generated)")


class RecommendationsAnswer(Recommendations):
    """The `Recommendations` the output topic carries; `user_id` is null for a direct answer."""

    user_id: str | None


class ModelInfo(BaseModel):
    name: str
    version: str
    metric: str
    dimensions: int = Field(description="Dimensions of the embedding searched")
    has_clusters: bool = Field(description="Trained with clusters (else /v1/clusters fits some)")
    n_tracks: int


class ModelsAnswer(BaseModel):
    default: str
    models: list[ModelInfo]


class LabelShare(BaseModel):
    label: str
    share: float = Field(ge=0, le=1)


class ClusterInfo(BaseModel):
    cluster: int
    name: str = Field(description="Generated: its most distinctive features and top label")
    size: int
    share: float = Field(ge=0, le=1)
    features: dict[str, float] = Field(description="Mean raw feature values")
    top_labels: list[LabelShare]


class ClustersAnswer(BaseModel):
    model: str
    version: str
    clusters: list[ClusterInfo]


class MapPoint(BaseModel):
    track_id: str
    track_name: str
    artist: str
    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    cluster: int | None


class MapAnswer(BaseModel):
    model: str
    version: str
    points: list[MapPoint]


class EvaluationRequest(BaseModel):
    model_config = _STRICT

    label_column: NonEmpty = Field(description="A label column of the catalog, e.g. genre")
    models: list[NonEmpty] | None = Field(
        None, min_length=1, max_length=10, description="Default: the loaded models"
    )
    k: int = Field(10, ge=1, le=MAX_K)
    queries: int = Field(500, ge=1, le=20_000, description="Query songs drawn")


State = Literal["queued", "running", "done", "failed"]


class EvaluationAccepted(BaseModel):
    id: str
    state: State


class Evaluation(BaseModel):
    id: str
    state: State
    progress: float = Field(ge=0, le=1)
    report: dict[str, Any] | None = Field(
        description='`{"protocol": {...}, "models": {name: {"precision_at_k": [...], ...}}}`'
    )
    error: str | None
    label_column: str
    models: list[str]
    k: int
    queries: int
    created_at: datetime
    finished_at: datetime | None


class EvaluationList(BaseModel):
    items: list[Evaluation]


class TrackUpload(CatalogTrack):
    """The body of `POST /v1/tracks`: a `CatalogTrack`, published to the catalog topic as is.

    Validated as JSON is (FastAPI hands a parsed object over, which the strict wire model
    would refuse for an RFC 3339 `updated_at`); what is published is the canonical JSON."""

    model_config = ConfigDict(strict=False, extra="ignore", frozen=True)


class TrackAccepted(BaseModel):
    track_id: str
    topic: str = Field(description="The catalog topic the record was acknowledged on")


class Status(BaseModel):
    kafka: bool = Field(description="False when the output topic cannot be read")
    answers_per_second: float = Field(ge=0, description="Over the output topic, last 10 s")
    answers_seen: int = Field(ge=0)
    catalog_size: int = Field(ge=0, description="Tracks in the catalog, live")
    latest_tracks: list[TrackSummary] = Field(
        default_factory=list,
        description="The tracks added most recently through the catalog topic, newest first",
    )
    models: list[str] = Field(description="The loaded models' names, the default first")
    label_columns: list[str] = Field(description="What an evaluation can score against")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
