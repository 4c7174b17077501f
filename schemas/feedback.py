"""What a listener did with a song: the `song-feedback` topic's messages (key: `user_id`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.events import NonEmpty


class FeedbackAction(StrEnum):
    """`play` and `like` pull a listener's taste profile toward the song; `skip` and `dislike`
    push it away, and a disliked song (or a near-copy of it) is never recommended to them."""

    PLAY = "play"
    SKIP = "skip"
    LIKE = "like"
    DISLIKE = "dislike"


class SongFeedback(BaseModel):
    """A listener played, skipped, liked or disliked a song. Updates their state; no answer."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    event_id: NonEmpty = Field(description="Unique id of this feedback; replays count once.")
    user_id: NonEmpty = Field(description="The listener; also the message key.")
    track_id: NonEmpty = Field(description="A catalog track id.")
    action: FeedbackAction = Field(description="play, skip, like or dislike.")
    timestamp: datetime | int | None = Field(
        default=None, description="When it happened: RFC 3339, or epoch milliseconds."
    )
    recommendation_event_id: NonEmpty | None = Field(
        default=None, description="The answer (its event_id) the song was shown in, if any."
    )
