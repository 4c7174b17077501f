"""`GET /v1/listeners/{user_id}/recommendations`: a listener's answers as Server-Sent Events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse

from web.context import ApiContext, Context
from web.routes import problems

router = APIRouter(tags=["recommendations"])

# Sent first: opens the stream at once through buffering proxies, and tells the browser to
# reconnect after 3 s.
_HELLO = b"retry: 3000\n: connected\n\n"
_KEEPALIVE = b": keep-alive\n\n"


class EventStream(StreamingResponse):
    media_type = "text/event-stream"


@router.get(
    "/v1/listeners/{user_id}/recommendations",
    response_class=EventStream,
    responses={
        200: {
            "description": "`event: recommendations`, `data:` one Recommendations JSON per line",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **problems(422),
    },
)
async def listen(
    ctx: Context,
    user_id: Annotated[str, Path(min_length=1, max_length=256)],
) -> EventStream:
    """Every answer for `user_id` read from the output topic from now on; a keep-alive comment
    every 15 s. No token (EventSource cannot send headers). While Kafka is down the stream
    stays open and `/v1/status` says `"kafka": false`; answers flow again when it is back."""
    queue = ctx.listeners.open(user_id)
    ctx.metrics.streams.inc()
    return EventStream(
        _events(ctx, user_id, queue),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    ctx: ApiContext, user_id: str, queue: asyncio.Queue[bytes]
) -> AsyncIterator[bytes]:
    try:
        yield _HELLO
        while True:
            try:
                answer = await asyncio.wait_for(queue.get(), ctx.keepalive_s)
            except TimeoutError:
                yield _KEEPALIVE
                continue
            yield b"event: recommendations\ndata: %s\n\n" % answer
    finally:  # the client went away, or the server is stopping
        ctx.listeners.close(user_id, queue)
        ctx.metrics.streams.dec()
