"""Everything an endpoint needs, built once by `create_app` and reached through the request."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from web.derived import Derived
from web.evaluations import Evaluations
from web.fanout import Listeners
from web.live import RateWindow
from web.metrics import WebMetrics
from web.problems import ProblemError
from web.recommend import DirectAnswers
from web.settings import WebSettings
from web.state import ModelState


class Publisher(Protocol):
    async def publish(self, topic: str, key: str, value: bytes) -> None: ...
    def close(self) -> None: ...


class Reader(Protocol):
    reachable: bool
    answers_seen: int
    window: RateWindow

    def start(self) -> None: ...
    def stop(self) -> None: ...


@dataclass
class ApiContext:
    settings: WebSettings
    metrics: WebMetrics
    models: ModelState
    derived: Derived
    direct: DirectAnswers
    evaluations: Evaluations
    listeners: Listeners
    publisher: Publisher
    reader: Reader
    keepalive_s: float = 15.0


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.encore
    return ctx


Context = Annotated[ApiContext, Depends(context)]

_bearer = HTTPBearer(auto_error=False, description="Needed by POST endpoints with --api-token")


def require_token(
    ctx: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """When `--api-token` is set, the request must carry `Authorization: Bearer <token>`."""
    expected = ctx.settings.api_token
    if expected is None:
        return
    if credentials is None:
        raise ProblemError(
            401, "missing `Authorization: Bearer <token>`", {"WWW-Authenticate": "Bearer"}
        )
    given = credentials.credentials.encode()
    if not secrets.compare_digest(given, expected.get_secret_value().encode()):
        raise ProblemError(
            401, "wrong API token", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
