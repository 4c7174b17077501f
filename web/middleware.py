"""ASGI middleware: a request-body limit (413) and per-route request metrics."""

from __future__ import annotations

import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.metrics import WebMetrics
from web.problems import problem_response

UNMATCHED = "<unmatched>"  # one label for every unknown path, so a scan cannot blow up the series


class BodyLimit:
    """413 when Content-Length says the body is too large, or when the streamed body grows past
    the limit (chunked uploads carry no Content-Length). `per_path` sets other limits for
    exact paths (an audio upload)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, per_path: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.default_bytes = max_bytes
        self.per_path = per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope.get("path", ""), self.default_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, limit)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Raised into whoever reads the body; FastAPI passes HTTP errors on to the
                    # problem handler (any other error would become its own 400).
                    raise HTTPException(413, _detail(limit))
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem_response(413, _detail(limit), {"Connection": "close"})
        await response(scope, receive, send)


def _detail(limit: int) -> str:
    return f"request body larger than {limit} bytes"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestMetrics:
    """Counts answers by route template, method and status; times them until the response
    started (for a stream: until it opened)."""

    def __init__(self, app: ASGIApp, metrics: WebMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the server answers if the app raises before responding

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                route, method = _route(scope), scope["method"]
                self.metrics.latency.labels(route, method).observe(time.perf_counter() - start)
                self.metrics.requests.labels(route, method, str(status)).inc()
            await send(message)

        await self.app(scope, receive, timed_send)


def _route(scope: Scope) -> str:
    """The matched route's template (`/v1/tracks/{track_id}`), the mount of a static file,
    or `<unmatched>`."""
    route = scope.get("route")  # set by FastAPI's routes
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    endpoint, app = scope.get("endpoint"), scope.get("app")
    if endpoint is not None and app is not None:  # plain Starlette routes: /openapi.json
        for candidate in getattr(app, "routes", ()):
            if getattr(candidate, "endpoint", None) is endpoint:
                return str(candidate.path)
    root, app_root = scope.get("root_path", ""), scope.get("app_root_path", "")
    mounted = root[len(app_root) :] if root.startswith(app_root) else ""
    return mounted or UNMATCHED
