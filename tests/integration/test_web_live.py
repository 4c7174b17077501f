"""The HTTP API against the real broker and the real service: a selection POSTed to the API is
answered by the service, and the answer reaches the listener's SSE stream with its event_id."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx

from recommender.catalog import BUNDLED_CATALOG
from recommender.ingest import read_catalog


def sse_answers(response: httpx.Response, deadline: float) -> Iterator[dict[str, object]]:
    kind = ""
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            return
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and kind == "recommendations":
            yield json.loads(line.split(":", 1)[1])


def test_a_selection_is_answered_on_the_listeners_stream(service_factory, web: str) -> None:
    track_id = str(read_catalog(BUNDLED_CATALOG).track_ids[7])
    with service_factory():
        with httpx.stream(
            "GET", f"{web}/v1/listeners/u-live/recommendations", timeout=httpx.Timeout(30)
        ) as stream:
            assert stream.status_code == 200
            accepted = httpx.post(
                f"{web}/v1/selections", json={"user_id": "u-live", "track_id": track_id, "k": 4}
            )
            assert accepted.status_code == 202, accepted.text
            event_id = accepted.json()["event_id"]
            answers = sse_answers(stream, time.monotonic() + 30)
            answer = next((a for a in answers if a["event_id"] == event_id), None)
        assert answer is not None, "no answer on the stream within 30 s"
        assert answer["user_id"] == "u-live" and answer["seed_track_id"] == track_id
        # The direct answer has the same items: same catalog, same model, same batch path.
        direct = httpx.post(f"{web}/v1/recommendations", json={"track_id": track_id, "k": 4})
        assert direct.json()["items"] == answer["items"]
        status = httpx.get(f"{web}/v1/status").json()
        assert status["kafka"] is True and status["answers_seen"] >= 1
