"""`POST /v1/evaluations`, `GET /v1/evaluations/{id}`, `GET /v1/evaluations`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from web.context import Context, require_token
from web.contract import Evaluation, EvaluationAccepted, EvaluationList, EvaluationRequest
from web.routes import problems

router = APIRouter(tags=["evaluation"])


@router.post(
    "/v1/evaluations",
    status_code=202,
    response_model=EvaluationAccepted,
    responses=problems(401, 413, 422, 429, 503),
    dependencies=[Depends(require_token)],
)
def start(
    ctx: Context,
    request: EvaluationRequest,
) -> EvaluationAccepted:
    """Queue the offline evaluation of models on the loaded catalog (one runs at a time)."""
    job = ctx.evaluations.submit(request, ctx.models.current().models.catalog)
    return EvaluationAccepted(id=job.id, state=job.state)


@router.get(
    "/v1/evaluations/{evaluation_id}", response_model=Evaluation, responses=problems(404, 422)
)
def one(
    ctx: Context,
    evaluation_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> Evaluation:
    """Its state, progress (0..1) and, once done, the report."""
    return ctx.evaluations.get(evaluation_id).view()


@router.get("/v1/evaluations", response_model=EvaluationList)
def every(ctx: Context) -> EvaluationList:
    """The evaluations kept, newest first."""
    return EvaluationList(items=[job.view() for job in ctx.evaluations.newest_first()])
