"""The SSE stream over a real server (uvicorn on loopback), fed through the fan-out as the
output-topic reader feeds it; the fan-out's bounded queues."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from web_api import Api, make_api

from embedded.broker import free_port
from web.fanout import Listeners


@pytest.fixture
def served() -> Iterator[tuple[str, Api]]:
    client, api = make_api()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(client.app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", api
    server.should_exit = True
    thread.join(10)


def events(lines: Iterator[str], wanted: int, timeout_s: float = 10) -> list[tuple[str, str]]:
    """(event or 'comment', data) pairs until `wanted` events arrived."""
    found: list[tuple[str, str]] = []
    kind, deadline = "", time.monotonic() + timeout_s
    for line in lines:
        assert time.monotonic() < deadline, found
        if line.startswith(":"):
            found.append(("comment", line[1:].strip()))
        elif line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            found.append((kind, line.split(":", 1)[1].strip()))
        if sum(k == "recommendations" for k, _ in found) >= wanted:
            break
    return found


def test_a_listener_gets_its_answers_and_keep_alives(served: tuple[str, Api]) -> None:
    url, api = served
    answer = {"event_id": "e-1", "user_id": "u-1", "items": []}
    with httpx.stream("GET", f"{url}/v1/listeners/u-1/recommendations", timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == "retry: 3000"
        # Someone else's answer is not delivered; ours is, once, as one line.
        api.listeners.deliver([("u-2", b'{"event_id":"other"}')])
        api.listeners.deliver([("u-1", json.dumps(answer).encode())])
        found = events(lines, wanted=1)
        assert [json.loads(d) for k, d in found if k == "recommendations"] == [answer]
        # Keep-alive comments (every 0.2 s in these tests, 15 s by default).
        comments = []
        for line in lines:
            if line.startswith(": keep-alive"):
                comments.append(line)
                if len(comments) == 2:
                    break
        assert len(comments) == 2
    # The stream is closed when the client goes: no listener is left behind.
    deadline = time.monotonic() + 5
    while len(api.listeners):
        assert time.monotonic() < deadline, "stream not closed"
        time.sleep(0.02)


def test_the_stream_stays_open_while_kafka_is_down(served: tuple[str, Api]) -> None:
    url, api = served
    api.reader.reachable = False
    with httpx.stream("GET", f"{url}/v1/listeners/u-9/recommendations", timeout=10) as response:
        assert response.status_code == 200
        assert httpx.get(f"{url}/v1/status").json()["kafka"] is False


def test_a_slow_stream_loses_its_oldest_answers_and_they_are_counted() -> None:
    async def scenario() -> tuple[list[bytes], int]:
        dropped = []
        fanout = Listeners(queue_size=2, on_drop=lambda: dropped.append(1))
        fanout.bind(asyncio.get_running_loop())
        queue = fanout.open("u")
        other = fanout.open("u")  # a second tab of the same listener gets its own copy
        fanout.deliver([("u", b"1"), ("u", b"2"), ("u", b"3")])
        await asyncio.sleep(0.05)
        kept = [queue.get_nowait(), queue.get_nowait()]
        assert other.qsize() == 2
        fanout.close("u", queue)
        fanout.close("u", other)
        assert not fanout.listening("u")
        return kept, len(dropped)

    kept, dropped = asyncio.run(scenario())
    assert kept == [b"2", b"3"] and dropped == 2  # one per stream
