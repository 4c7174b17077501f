"""`POST /v1/recommendations` (answered here, no Kafka) and `POST /v1/selections` (to Kafka)."""

from __future__ import annotations

import json
import time
import uuid

from fastapi import APIRouter, Depends, Response

from web.context import Context, require_token
from web.contract import (
    RecommendationRequest,
    RecommendationsAnswer,
    SelectionAccepted,
    SelectionRequest,
)
from web.recommend import check_seed
from web.routes import problems

router = APIRouter(tags=["recommendations"])


@router.post(
    "/v1/recommendations",
    response_model=RecommendationsAnswer,
    responses=problems(401, 404, 413, 422, 503),
    dependencies=[Depends(require_token)],
)
async def recommend(ctx: Context, request: RecommendationRequest) -> Response:
    """The answer the service would publish for this seed: the same items for the same model.

    Runs on the event loop, through the service's batch path: a search is a fraction of a
    millisecond (HNSW above 10,000 songs), cheaper than a hop to the thread pool.
    """
    body = ctx.direct.answer(ctx.models.current().models, request)
    return Response(body, media_type="application/json")


@router.post(
    "/v1/selections",
    status_code=202,
    response_model=SelectionAccepted,
    responses=problems(401, 404, 413, 422, 503),
    dependencies=[Depends(require_token)],
)
async def select(
    ctx: Context,
    request: SelectionRequest,
) -> SelectionAccepted:
    """Publish a `SongSelected` (key: user_id); its answer arrives on the listener's stream.

    The seed, model and rules are checked first, so a typo is a 4xx here rather than a dead
    letter.
    """
    check_seed(ctx.models.current().models, request, ctx.settings.k)
    event_id = uuid.uuid4().hex
    event = {**request.event(event_id, request.user_id), "timestamp": _now_ms()}
    await ctx.publisher.publish(
        ctx.settings.input_topic, request.user_id, json.dumps(event).encode()
    )
    return SelectionAccepted(event_id=event_id)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
