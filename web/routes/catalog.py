"""`GET /v1/tracks?q=` (search) and `GET /v1/tracks/{track_id}`."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Path, Query

from web.context import Context
from web.contract import TrackDetail, TrackSearchAnswer, TrackSummary
from web.problems import ProblemError
from web.routes import problems

router = APIRouter(tags=["catalog"])


@router.get("/v1/tracks", response_model=TrackSearchAnswer, responses=problems(422, 503))
def search_tracks(
    ctx: Context,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Name or artist")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> TrackSearchAnswer:
    """Songs by name or artist: case, accents and punctuation folded; prefixes first."""
    loaded = ctx.models.current()
    c = loaded.models.catalog
    if loaded.search_catalog is c:
        rows = loaded.search.search(q, limit)
    else:  # an index of an earlier catalog, until rebuilt: its ids, still in the catalog
        searched = loaded.search_catalog.track_ids
        found = (c.index.get(searched[r], -1) for r in loaded.search.search(q, 2 * limit))
        rows = [r for r in found if r >= 0][:limit]
    items = [
        TrackSummary(track_id=c.track_ids[r], track_name=c.names[r], artist=c.artists[r])
        for r in rows
    ]
    return TrackSearchAnswer(query=q, items=items)


@router.get("/v1/tracks/{track_id}", response_model=TrackDetail, responses=problems(404, 422, 503))
def track(
    ctx: Context,
    track_id: Annotated[str, Path(min_length=1, max_length=256)],
) -> TrackDetail:
    """One track: its features, its cluster in each loaded model, its labels."""
    models = ctx.models.current().models
    c = models.catalog
    row = c.index.get(track_id, -1)
    if row < 0:
        raise ProblemError(404, f"no track {track_id!r} in the catalog")
    clusters: dict[str, int | None] = {}
    for name in models.versions():
        served = models.get(name)
        assert served is not None
        ids = served.recommender.clusters
        clusters[name] = None if ids is None else int(ids[row])
    return TrackDetail(
        track_id=c.track_ids[row],
        track_name=c.names[row],
        artist=c.artists[row],
        features={n: float(v) for n, v in zip(c.feature_names, c.features[row], strict=True)},
        clusters=clusters,
        labels={column: _label(c.extra[column].iloc[row]) for column in c.extra.columns},
    )


def _label(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)
