"""`POST /v1/feedback`: a listener's play, skip, like or dislike, to the feedback topic."""

from __future__ import annotations

import time
import uuid

from fastapi import APIRouter, Depends

from web.context import Context, require_token
from web.contract import FeedbackAccepted, FeedbackRequest
from web.problems import ProblemError
from web.routes import problems

router = APIRouter(tags=["feedback"])


@router.post(
    "/v1/feedback",
    status_code=202,
    response_model=FeedbackAccepted,
    responses=problems(401, 404, 413, 422, 503),
    dependencies=[Depends(require_token)],
)
async def feedback(ctx: Context, request: FeedbackRequest) -> FeedbackAccepted:
    """Publish a `SongFeedback` (key: user_id) to `--feedback-topic`; 202 once the broker has
    acknowledged it. The service updates the listener's state from it and answers nothing.

    A track the served catalog lacks is 404 here rather than a dead letter there.
    """
    if request.track_id not in ctx.models.current().models.catalog.index:
        raise ProblemError(404, f"no track {request.track_id!r} in the catalog")
    event = request.event(uuid.uuid4().hex, time.time_ns() // 1_000_000)
    value = event.model_dump_json(exclude_none=True).encode()
    await ctx.publisher.publish(ctx.settings.feedback_topic, event.user_id, value)
    return FeedbackAccepted(event_id=event.event_id)
