"""Answers read from the output topic, handed to the SSE streams of their listener.

The reader thread calls `deliver()` with one batch; the event loop puts each answer on the
bounded queue of every stream open for its user. A full queue (a slow client) loses its
oldest answer, counted, so one slow stream never holds up the reader or the other streams.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Listeners:
    def __init__(self, queue_size: int, on_drop: Callable[[], None] = lambda: None) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue_size = queue_size
        self._on_drop = on_drop
        self._streams: dict[str, set[asyncio.Queue[bytes]]] = {}

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The event loop the streams run on (known once the app starts)."""
        self._loop = loop

    def __len__(self) -> int:
        return sum(len(queues) for queues in self._streams.values())

    def listening(self, user_id: str) -> bool:
        """Safe from the reader thread: a dict lookup."""
        return user_id in self._streams

    def open(self, user_id: str) -> asyncio.Queue[bytes]:
        """On the event loop: a new stream's queue."""
        queue: asyncio.Queue[bytes] = asyncio.Queue(self._queue_size)
        self._streams.setdefault(user_id, set()).add(queue)
        return queue

    def close(self, user_id: str, queue: asyncio.Queue[bytes]) -> None:
        queues = self._streams.get(user_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._streams[user_id]

    def deliver(self, answers: list[tuple[str, bytes]]) -> None:
        """From any thread: hand (user_id, answer JSON) pairs to the event loop, one call."""
        if answers and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._put, answers)

    def _put(self, answers: list[tuple[str, bytes]]) -> None:
        for user_id, answer in answers:
            for queue in self._streams.get(user_id, ()):
                if queue.full():
                    queue.get_nowait()
                    self._on_drop()
                queue.put_nowait(answer)
