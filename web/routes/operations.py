"""`GET /v1/status`, `/healthz`, `/readyz` and `/metrics`."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from web.context import Context
from web.contract import Health, Status, TrackSummary
from web.problems import ProblemError
from web.routes import problems

router = APIRouter(tags=["operations"])


@router.get("/v1/status", response_model=Status)
def status(ctx: Context) -> Status:
    """Kafka reachability and answers per second over the output topic; the catalog's size
    and the models once they are loaded (0 and [] before)."""
    catalog_size, versions, columns, latest = 0, [], [], []
    if ctx.models.ready:
        models = ctx.models.current().models
        catalog_size, columns = models.track_count, list(models.catalog.extra.columns)
        versions = list(models.versions())
        c = models.catalog
        rows = ctx.catalog.latest(models, 5) if ctx.catalog is not None else []
        latest = [
            TrackSummary(track_id=c.track_ids[r], track_name=c.names[r], artist=c.artists[r])
            for r in rows
        ]
    return Status(
        kafka=ctx.reader.reachable,
        answers_per_second=ctx.reader.window.rate(),
        answers_seen=ctx.reader.answers_seen,
        catalog_size=catalog_size,
        latest_tracks=latest,
        models=versions,
        label_columns=[str(c) for c in columns],
    )


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """200 while the process answers."""
    return Health()


@router.get("/readyz", response_model=Health, responses=problems(503))
def readyz(ctx: Context) -> Health:
    """200 once the catalog and models are loaded and the catalog topic replayed (unless
    Kafka is unreachable: then the file's catalog is served), 503 before."""
    ctx.models.current()  # a 503 problem until they are
    if ctx.catalog is not None and ctx.catalog.holds_readiness:
        raise ProblemError(503, "the catalog topic is still being replayed", {"Retry-After": "2"})
    return Health()


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
def metrics(ctx: Context) -> Response:
    """Prometheus text: requests by route, method and status; latency; streams; answers."""
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)
