"""`GET /v1/models`, `GET /v1/clusters?model=`, `GET /v1/map?model=&limit=`."""

from __future__ import annotations

import json
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query, Response

from consumer.serving import Served
from web.context import ApiContext, Context
from web.contract import ClustersAnswer, MapAnswer, ModelInfo, ModelsAnswer
from web.recommend import resolve_model
from web.routes import problems

router = APIRouter(tags=["models"])

ModelName = Annotated[
    str | None, Query(min_length=1, max_length=256, description="Default: the first")
]


@router.get("/v1/models", response_model=ModelsAnswer, responses=problems(503))
def models(ctx: Context) -> ModelsAnswer:
    """The loaded models; `default` answers when a request names none."""
    loaded = ctx.models.current().models
    infos = []
    for name in loaded.versions():
        served = loaded.get(name)
        assert served is not None
        r = served.recommender
        infos.append(
            ModelInfo(
                name=r.name,
                version=r.version,
                metric=r.metric,
                dimensions=int(r.catalog_embedding.shape[1]),
                has_clusters=r.clusters is not None,
                n_tracks=len(r.catalog),
            )
        )
    return ModelsAnswer(default=loaded.default, models=infos)


def _served(ctx: ApiContext, model: str | None) -> Served:
    return resolve_model(ctx.models.current().models, model)


@router.get("/v1/clusters", response_model=ClustersAnswer, responses=problems(404, 422, 503))
def clusters(
    ctx: Context,
    model: ModelName = None,
) -> ClustersAnswer:
    """Each cluster's size, mean features, top labels and a generated short name. A model
    trained without clusters is clustered here once (k-means over its embedding)."""
    r = _served(ctx, model).recommender
    return ClustersAnswer(model=r.name, version=r.version, clusters=ctx.derived.clusters.get(r))


@router.get("/v1/map", response_model=MapAnswer, responses=problems(404, 422, 503))
def catalog_map(
    ctx: Context,
    model: ModelName = None,
    limit: Annotated[int, Query(ge=1, le=20_000)] = 3000,
    include: Annotated[
        str | None,
        Query(max_length=20_000, description="Comma list of track ids always among the points"),
    ] = None,
) -> Response:
    """A 2-D PCA projection of the model's catalog embedding: a seeded subsample of `limit`
    songs, plus the `include` ids (unknown ones are skipped); x and y in [0, 1], clipped at
    the 0.5th/99.5th percentiles; computed once per model version, and kept on its axes as a
    live catalog grows (`web.maps.extended`)."""
    r = _served(ctx, model).recommender
    projection = ctx.derived.maps.get(r)
    ids = ctx.derived.cluster_ids.get(r)
    rows = projection.rows[:limit]
    xy = projection.xy[:limit]
    alive = r.catalog.alive[rows]  # a living catalog keeps the rows of removed tracks
    if not alive.all():
        rows, xy = rows[alive], xy[alive]
    wanted = [t for t in (include or "").split(",") if t]
    extra = _extra_rows(r.catalog.index, wanted[:MAX_INCLUDE], set(rows.tolist()))
    if extra:
        rows = np.concatenate([rows, extra])
        xy = np.vstack([xy, projection.place(r.catalog_embedding[extra])])
    c = r.catalog
    points = [
        {"track_id": t, "track_name": n, "artist": a, "x": x, "y": y, "cluster": k}
        for t, n, a, (x, y), k in zip(
            c.track_ids[rows].tolist(),
            c.names[rows].tolist(),
            c.artists[rows].tolist(),
            xy.round(5).tolist(),
            ids[rows].tolist(),
            strict=True,
        )
    ]
    body = {"model": r.name, "version": r.version, "points": points}
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")


MAX_INCLUDE = 500


def _extra_rows(index: dict[str, int], track_ids: list[str], present: set[int]) -> list[int]:
    rows = [index[t] for t in dict.fromkeys(track_ids) if t in index]
    return [row for row in rows if row not in present]
