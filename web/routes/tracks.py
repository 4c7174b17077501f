"""`POST /v1/tracks` (add or replace a track) and `DELETE /v1/tracks/{track_id}` (remove it):
records on the catalog topic, answered 202 once the broker acknowledged them. Every
instance of the service and of the API applies them from the topic."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from web.context import Context, TrackPublisher, require_admin
from web.contract import TrackAccepted, TrackUpload
from web.problems import ProblemError
from web.routes import problems

router = APIRouter(tags=["catalog"])


def _publisher(ctx: Context) -> TrackPublisher:
    if ctx.catalog_publisher is None:
        raise ProblemError(503, "this API has no catalog topic (--catalog-topic is empty)")
    return ctx.catalog_publisher


@router.post(
    "/v1/tracks",
    status_code=202,
    response_model=TrackAccepted,
    responses=problems(401, 403, 413, 422, 503),
    dependencies=[Depends(require_admin)],
)
async def put_track(ctx: Context, track: TrackUpload) -> TrackAccepted:
    """Add the track, or replace the one with its `track_id`: recommendable within a second
    or so, once the service and the API applied it."""
    value = track.model_dump_json(exclude_none=True).encode()
    await _publisher(ctx).publish(track.track_id, value)
    return TrackAccepted(track_id=track.track_id, topic=ctx.settings.catalog_topic)


@router.delete(
    "/v1/tracks/{track_id}",
    status_code=202,
    response_model=TrackAccepted,
    responses=problems(401, 403, 422, 503),
    dependencies=[Depends(require_admin)],
)
async def delete_track(
    ctx: Context, track_id: Annotated[str, Path(min_length=1, max_length=256)]
) -> TrackAccepted:
    """Remove the track (a tombstone): no answer produced after it is applied holds it.
    Removing an id that is not in the catalog is accepted and changes nothing."""
    await _publisher(ctx).publish(track_id, None)
    return TrackAccepted(track_id=track_id, topic=ctx.settings.catalog_topic)
