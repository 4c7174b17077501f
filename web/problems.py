"""Errors as `application/problem+json` (RFC 9457): one shape for every 4xx and 5xx."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"


class Problem(BaseModel):
    """What every error answers: `detail` says what was wrong in a sentence."""

    type: str = "about:blank"
    title: str = Field(description="The HTTP status phrase")
    status: int
    detail: str


class ProblemError(Exception):
    """Raised by an endpoint to answer a problem; `headers` such as WWW-Authenticate go along."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


def problem_response(
    status: int, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail)
    return JSONResponse(
        body.model_dump(), status_code=status, headers=headers, media_type=PROBLEM_TYPE
    )


def validation_detail(errors: list[Any]) -> str:
    """Pydantic's errors as one readable line: `k: Input should be less than or equal to 100`."""
    parts = []
    for error in errors[:5]:
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "")
            return f"malformed JSON body{': ' + reason if reason else ''}"
        loc = [str(p) for p in error.get("loc", ()) if p != "body"]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{'.'.join(loc)}: {message}" if loc else message)
    return "; ".join(parts) or "invalid request"


_FASTAPI_UNREADABLE = "There was an error parsing the body"


def _allowed(app: FastAPI, request: Request) -> list[str]:
    """Every method some route answers on this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Answer problems for raised `ProblemError`s, HTTP errors, validation and bugs."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.detail, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status, headers = exc.status_code, dict(exc.headers or {})
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
        if status == 404 and detail == "Not Found":
            detail = f"no such path: {request.url.path}"
        elif status == 400 and detail == _FASTAPI_UNREADABLE:  # e.g. a body that is not UTF-8
            status, detail = 422, "malformed JSON body: not UTF-8 JSON"
        elif status == 405:
            headers["Allow"] = ", ".join(_allowed(app, request))
            detail = f"{request.method} is not allowed on {request.url.path}"
        return problem_response(status, detail, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(422, validation_detail(list(exc.errors())))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, f"internal error ({type(exc).__name__}); see the API's log")
