"""The living catalog on the real broker: tracks published to the catalog topic (by the tools
and by the API) are recommended within a second under load, a tombstone removes a track for
good, a restart replays to the same catalog, and two instances converge on one catalog."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest
from harness import (
    PacedProducer,
    create_topics,
    metric_values,
    produce,
    read_topic,
    reader,
    wait_until,
    web_process,
)

from kafkaio.config import KafkaConnection
from producer.events import encode, selection
from recommender.catalog import BUNDLED_CATALOG
from recommender.ingest import read_catalog

CATALOG = read_catalog(BUNDLED_CATALOG, "auto")  # the service's view of it (--features auto)
IDS = [str(t) for t in CATALOG.track_ids]
ADMIN = "catalog-admin"


def like(row: int, track_id: str, name: str = "Twin") -> dict[str, object]:
    """A track whose features are catalog row `row`'s: its nearest neighbour, at distance 0."""
    features = dict(zip(CATALOG.feature_names, CATALOG.features[row].tolist(), strict=True))
    return {"track_id": track_id, "track_name": name, "artist": "Newcomer", "features": features}


def put(servers: str, topic: str, *tracks: dict[str, object]) -> float:
    """Publish tracks (None values: tombstones given as ("id", None)); when they were sent."""
    sent = time.time()
    produce(servers, topic, [(str(t["track_id"]).encode(), json.dumps(t).encode()) for t in tracks])
    return sent


def tombstone(servers: str, topic: str, *track_ids: str) -> float:
    sent = time.time()
    produce(servers, topic, [(t.encode(), None) for t in track_ids])
    return sent


class Answers(threading.Thread):
    """Every answer on the output topic as (generated_at, seed, item ids), read as it comes."""

    def __init__(self, servers: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.consumer = reader(servers, topic)
        self.seen: list[tuple[float, str, list[str]]] = []
        self.done = threading.Event()
        self.start()

    def run(self) -> None:
        while not self.done.is_set():
            for message in self.consumer.consume(1000, 0.1):
                if message.error():
                    continue
                answer = json.loads(message.value() or b"{}")
                generated = datetime.fromisoformat(answer["generated_at"]).timestamp()
                items = [i["track_id"] for i in answer["items"]]
                self.seen.append((generated, answer["seed_track_id"], items))
        self.consumer.close()

    def for_seed(self, seed: str, after: float = 0.0) -> list[tuple[float, list[str]]]:
        return [(t, items) for t, s, items in list(self.seen) if s == seed and t >= after]

    def close(self) -> None:
        self.done.set()
        self.join(5)


def flat(lists: list[list[str]]) -> list[str]:
    return [item for items in lists for item in items]


def selections(seeds: list[str], count: int, tag: str) -> list[tuple[bytes, bytes]]:
    return [
        encode(selection(f"u{i % 40}", seeds[i % len(seeds)], event_id=f"{tag}-{i}"))
        for i in range(count)
    ]


@pytest.fixture
def catalog_topics(broker) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    names = (f"catalog-{tag}", f"catalog-dlq-{tag}")
    create_topics(broker.bootstrap_servers, names, partitions=3)
    return names


def catalog_args(catalog_topics: tuple[str, str]) -> list[str]:
    topic, dlq = catalog_topics
    return ["--catalog-topic", topic, "--catalog-dlq-topic", dlq]


def tracks_metric(service) -> float:  # type: ignore[no-untyped-def]
    return metric_values(service.metrics(), "encore_catalog_tracks").get("", -1)


@pytest.fixture
def web_api(broker, topics, catalog_topics, tmp_path: Path) -> Iterator[str]:
    """`python -m web` following this test's catalog topic, with an admin token; ready
    once the topic is replayed."""
    args = [
        "--bootstrap-servers", broker.bootstrap_servers, "--input-topic", topics[0],
        "--output-topic", topics[1], "--admin-token", ADMIN, *catalog_args(catalog_topics),
    ]  # fmt: skip
    with web_process(args, tmp_path / "web.log") as url:
        yield url


def test_a_new_track_is_recommended_within_a_second_under_load_and_a_tombstone_is_final(
    broker, topics, catalog_topics, service_factory, web_api
) -> None:
    servers, (topic, dlq) = broker.bootstrap_servers, catalog_topics
    x, other = IDS[7], IDS[8]
    answers = Answers(servers, topics[1])
    # --no-state: listener state would withhold songs already shown; this is about the catalog.
    with service_factory(*catalog_args(catalog_topics), "--no-state") as service:
        load = PacedProducer(servers, topics[0], selections([x, other], 4000, "load"), rate=400)
        load.start()
        wait_until(lambda: len(answers.for_seed(x)) > 50, 20, "answers under load")
        # Through the API: POST /v1/tracks publishes and waits for the broker's ack.
        auth = {"Authorization": f"Bearer {ADMIN}"}
        published = time.time()
        posted = httpx.post(f"{web_api}/v1/tracks", json=like(7, "twin-of-x"), headers=auth)
        assert posted.status_code == 202, posted.text

        def twin_in_answers() -> bool:
            return any("twin-of-x" in items for _, items in answers.for_seed(x, published))

        wait_until(twin_in_answers, 5, "the new track in an answer for X")
        first = min(t for t, items in answers.for_seed(x, published) if "twin-of-x" in items)
        assert first - published <= 1.0, f"recommendable {first - published:.2f}s after publish"
        # From then on, every answer for X has it first (distance 0).
        wait_until(lambda: len(answers.for_seed(x, first + 0.2)) > 10, 10, "more answers")
        later = answers.for_seed(x, first + 0.2)
        assert all(items[0] == "twin-of-x" for _, items in later)

        def direct_first() -> str:
            answer = httpx.post(f"{web_api}/v1/recommendations", json={"track_id": x}).json()
            return str(answer["items"][0]["track_id"])

        wait_until(lambda: direct_first() == "twin-of-x", 5, "the API applying the new track")

        deleted = httpx.delete(f"{web_api}/v1/tracks/twin-of-x", headers=auth)
        assert deleted.status_code == 202
        removed_at = time.time()
        put(servers, topic, {"track_id": "junk"} | {"features": "no"})  # a bad record
        wait_until(
            lambda: (
                metric_values(service.metrics(), "encore_catalog_updates_applied_total").get(
                    'kind="removed"', 0
                )
                >= 1
            ),
            5,
            "the tombstone applied",
        )
        applied_by = time.time()
        load.finish(60)
        after = answers.for_seed(x, applied_by)
        assert after and all("twin-of-x" not in items for _, items in after)
        assert all("twin-of-x" not in items for _, items in answers.for_seed(x, removed_at + 1))
        direct = httpx.post(f"{web_api}/v1/recommendations", json={"track_id": x, "k": 20})
        assert "twin-of-x" not in [i["track_id"] for i in direct.json()["items"]]
        gone = httpx.post(f"{web_api}/v1/recommendations", json={"track_id": "twin-of-x"})
        assert gone.status_code == 404
        produce(servers, topics[0], [encode(selection("u1", "twin-of-x", event_id="gone"))])
        letters = read_topic(servers, topics[2], 1, 15)
        assert dict(letters[0].headers())["error.reason"] == b"unknown_track"
        bad = read_topic(servers, dlq, 1, 15)
        assert dict(bad[0].headers())["error.reason"] == b"invalid_schema"
        assert bad[0].key() == b"junk"
        text = service.metrics()
        assert metric_values(text, "encore_catalog_dead_letters_total")['reason="invalid_schema"']
        assert metric_values(text, "encore_catalog_apply_latency_seconds_count")[""] >= 2
        status = httpx.get(f"{web_api}/v1/status").json()
        assert status["catalog_size"] == len(CATALOG) == tracks_metric(service)
    answers.close()


def test_a_restart_replays_and_two_instances_converge(
    broker, topics, catalog_topics, service_factory, tmp_path: Path
) -> None:
    """The first instance applies the tools' records as they come; a second one started
    afterwards (what a restart is: a new process replaying the topic) must reach the same
    catalog before it is ready, and both then apply later records alike."""
    servers, (topic, _) = broker.bootstrap_servers, catalog_topics
    args = [*catalog_args(catalog_topics), "--no-state"]  # answers compared across instances
    first = service_factory(*args).start(wait_ready_s=None)  # starts while the tools run
    # A small export published with the tool, like any catalog file: 40 bundled rows renamed
    # (twins of rows the probes below do not touch).
    frame = pd.read_csv(BUNDLED_CATALOG).iloc[100:140]
    frame["track_id"] = [f"file-{i}" for i in range(40)]
    frame["track_name"] = [f"File Song {i}" for i in range(40)]
    export = tmp_path / "more.csv"
    frame.to_csv(export, index=False)
    env = {**os.environ, **KafkaConnection(bootstrap_servers=servers).environment()}
    tool = [sys.executable, "-m", "producer", "catalog"]
    commands = [
        ["publish", str(export), "--rate", "400"],
        ["put", "--json", json.dumps(like(9, "n9"))],
        ["delete", IDS[0]],
    ]  # different keys: run together (each pays Python's start-up)
    running = [
        subprocess.Popen(
            [*tool, *argv, "--topic", topic], env=env, stderr=subprocess.PIPE, text=True
        )
        for argv in commands
    ]
    errors = [process.communicate(timeout=60)[1] for process in running]
    assert [p.returncode for p in running] == [0, 0, 0], errors
    assert "40/40" in errors[0]  # the progress bar
    tombstone(servers, topic, "file-3")  # after its track: topic order decides
    expected = len(CATALOG) + 40 - 2 + 1
    probes = [IDS[9], IDS[12], IDS[1]]

    def answers_of(tag: str, so_far: int) -> dict[str, list[list[str]]]:
        produce(servers, topics[0], selections(probes, 30, tag))
        found = read_topic(servers, topics[1], so_far + 30, 30)
        by_seed: dict[str, list[list[str]]] = {}
        for message in found:
            answer = json.loads(message.value())
            if answer["event_id"].startswith(tag):
                by_seed.setdefault(answer["seed_track_id"], []).append(
                    [i["track_id"] for i in answer["items"]]
                )
        return by_seed

    second = service_factory(*args)
    try:
        first.wait_ready()
        wait_until(lambda: tracks_metric(first) == expected, 10, "the records applied")
        before = answers_of("a", 0)
        assert before[IDS[9]][0][0] == "n9" and IDS[0] not in flat(before[IDS[1]])
        second.start()
        assert tracks_metric(second) == expected  # replayed before ready
        put(servers, topic, like(12, "late"))
        tombstone(servers, topic, "n9")
        wait_until(
            lambda: tracks_metric(first) == tracks_metric(second) == expected,
            10,
            "both instances applying the late records",
        )
        wait_until(
            lambda: all(
                metric_values(s.metrics(), "encore_catalog_updates_applied_total")['kind="removed"']
                >= 2  # IDS[0] at the replay, n9 now
                for s in (first, second)
            ),
            10,
            "both applying the tombstone",
        )
        after = answers_of("b", 30)
    finally:
        first.stop(), second.stop()
    for seed, lists in after.items():
        assert all(items == lists[0] for items in lists), f"instances disagree on {seed}"
    assert after[IDS[12]][0][0] == "late" and "n9" not in flat(after[IDS[9]])
    assert before[IDS[1]][0] == after[IDS[1]][0]  # untouched neighbourhoods unchanged
