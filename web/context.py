"""Everything an endpoint needs, built once by `create_app` and reached through the request."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from consumer.serving import ModelSet
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
    async def publish(self, topic: str, key: str, value: bytes | None) -> None: ...
    def close(self) -> None: ...


class TrackPublisher(Protocol):
    """Catalog records onto the catalog topic: a track's JSON, or None (a tombstone)."""

    async def publish(self, key: str, value: bytes | None) -> None: ...
    def close(self) -> None: ...


class Reader(Protocol):
    reachable: bool
    answers_seen: int
    window: RateWindow

    def start(self) -> None: ...
    def stop(self) -> None: ...


class Catalog(Protocol):
    """The catalog topic, followed (`web.catalog_live.CatalogFollower`)."""

    replayed: bool

    @property
    def holds_readiness(self) -> bool: ...

    def start(self, loop: asyncio.AbstractEventLoop) -> None: ...
    def stop(self) -> None: ...
    def latest(self, models: ModelSet, count: int = 10) -> list[int]: ...


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
    catalog_publisher: TrackPublisher | None = None  # POST/DELETE /v1/tracks go through it
    catalog: Catalog | None = None


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


def require_admin(
    ctx: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Catalog changes need `Authorization: Bearer <--admin-token>`: 401 without a token, 403
    with a wrong one, and 403 with any when the API has no admin token (off by default)."""
    expected = ctx.settings.admin_token
    if credentials is None:
        raise ProblemError(
            401, "missing `Authorization: Bearer <admin token>`", {"WWW-Authenticate": "Bearer"}
        )
    if expected is None:
        raise ProblemError(
            403,
            "catalog changes are disabled: start the API with --admin-token (ENCORE_ADMIN_TOKEN)",
        )
    given = credentials.credentials.encode()
    if not secrets.compare_digest(given, expected.get_secret_value().encode()):
        raise ProblemError(403, "wrong admin token")
