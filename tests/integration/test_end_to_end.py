"""Selections in, recommendations and dead letters out, through a real broker and service."""

from __future__ import annotations

import json
from collections import Counter

from cases import bad_cases
from confluent_kafka import Message
from harness import committed_offsets, metric_values, produce, read_topic, wait_until

from producer.events import encode, selection
from recommender.catalog import BUNDLED_CATALOG
from recommender.ingest import read_catalog
from schemas import Recommendations

CATALOG = read_catalog(BUNDLED_CATALOG)


def valid_events(n: int, prefix: str) -> list[tuple[bytes, bytes]]:
    ids = CATALOG.track_ids
    return [
        encode(
            selection(
                f"user-{i % 37}", track_id=str(ids[(i * 7919) % len(ids)]), event_id=f"{prefix}-{i}"
            )
        )
        for i in range(n)
    ]


def headers(message: Message) -> dict[str, bytes]:
    return dict(message.headers() or [])


def test_valid_and_invalid_events_are_all_answered(service_factory, topics, broker):
    servers = broker.bootstrap_servers
    n_valid, n_invalid = 1000, 100
    cases = bad_cases(known_track=str(CATALOG.track_ids[0]))
    invalid = [cases[i % len(cases)] for i in range(n_invalid)]
    events = valid_events(n_valid, "ok")
    # Interleave: every tenth message is bad, with good ones before and after it.
    stream: list[tuple[bytes | None, bytes | None]] = []
    for i, good in enumerate(events):
        stream.append(good)
        if i % 10 == 9:
            _, key, value, _ = invalid[i // 10]
            stream.append((key, value))

    with service_factory() as service:
        produce(servers, topics[0], stream)
        answers = read_topic(servers, topics[1], n_valid, timeout_s=60, settle_s=1.0)
        dead = read_topic(servers, topics[2], n_invalid, timeout_s=30, settle_s=0.5)
        wait_until(
            lambda: (
                sum(committed_offsets(servers, service.group, topics[0]).values()) == len(stream)
            ),
            30,
            "input offsets committed",
        )
        metrics = service.metrics()

    event_ids = sorted(json.loads(m.value())["event_id"] for m in answers)
    assert event_ids == sorted(f"ok-{i}" for i in range(n_valid))
    for message in answers[:50]:
        answer = Recommendations.model_validate_json(message.value())
        assert message.key() == answer.user_id.encode()
        assert [item.rank for item in answer.items] == list(range(1, 11))
        scores = [item.score for item in answer.items]
        assert scores == sorted(scores, reverse=True)
        assert answer.seed_track_id not in {item.track_id for item in answer.items}

    # Each dead letter carries the original key and value byte for byte, and the right reason.
    expected = Counter((key, value or b"", reason) for _, key, value, reason in invalid)
    got = Counter((m.key(), m.value() or b"", headers(m)["error.reason"].decode()) for m in dead)
    assert got == expected
    # source.partition/offset point at the very message that was dead-lettered.
    inputs = read_topic(servers, topics[0], len(stream), timeout_s=30)
    by_position = {(m.partition(), m.offset()): (m.key(), m.value() or b"") for m in inputs}
    for message in dead:
        h = headers(message)
        assert h["source.topic"].decode() == topics[0]
        position = (int(h["source.partition"]), int(h["source.offset"]))
        assert by_position[position] == (message.key(), message.value() or b"")
        assert h["error.message"]

    assert metric_values(metrics, "encore_selections_consumed_total") == {"": len(stream)}
    # Labelled by variant since listener state (issue 13): everyone is in "default".
    assert metric_values(metrics, "encore_recommendations_published_total") == {
        'model="knn",variant="default"': n_valid
    }
    dead_by_reason = metric_values(metrics, "encore_dead_letters_total")
    assert sum(dead_by_reason.values()) == n_invalid
    for reason in {case[3] for case in invalid}:
        expected = sum(1 for case in invalid if case[3] == reason)
        assert dead_by_reason[f'reason="{reason}"'] == expected


def test_restart_in_the_same_group_reprocesses_nothing(service_factory, topics, broker):
    servers = broker.bootstrap_servers
    first, second = valid_events(300, "first"), valid_events(300, "second")
    service = service_factory().start()
    produce(servers, topics[0], first)
    read_topic(servers, topics[1], 300, timeout_s=60)
    assert service.stop() == 0
    assert sum(committed_offsets(servers, service.group, topics[0]).values()) == 300

    produce(servers, topics[0], second)
    with service_factory():
        answers = read_topic(servers, topics[1], 600, timeout_s=60, settle_s=2.0)
    ids = [json.loads(m.value())["event_id"] for m in answers]
    assert len(ids) == 600 and len(set(ids)) == 600


def test_the_same_event_id_twice_is_answered_twice(service_factory, topics, broker):
    servers = broker.bootstrap_servers
    twice = encode(selection("user-1", track_id=str(CATALOG.track_ids[5]), event_id="same"))
    with service_factory():
        produce(servers, topics[0], [twice, *valid_events(10, "between"), twice])
        answers = read_topic(servers, topics[1], 12, timeout_s=60, settle_s=1.0)
    ids = Counter(json.loads(m.value())["event_id"] for m in answers)
    assert ids["same"] == 2 and len(answers) == 12
    same = [
        json.loads(m.value())["items"]
        for m in answers
        if json.loads(m.value())["event_id"] == "same"
    ]
    assert same[0] == same[1]  # and the same answer both times


def test_a_full_producer_queue_slows_the_service_down_without_losing_anything(
    service_factory, topics, broker
):
    servers = broker.bootstrap_servers
    events = valid_events(3000, "pressure")
    # A local queue of 50 messages for batches of up to 1,000 answers: BufferError all along.
    with service_factory("--kafka-option", "queue.buffering.max.messages=50") as service:
        produce(servers, topics[0], events)
        answers = read_topic(servers, topics[1], len(events), timeout_s=90, settle_s=1.0)
        metrics = service.metrics()
    failures = metric_values(metrics, "encore_delivery_failures_total")[""]
    assert metric_values(metrics, "encore_producer_queue_full_total")[""] > 0
    assert sorted(json.loads(m.value())["event_id"] for m in answers) == sorted(
        f"pressure-{i}" for i in range(3000)
    )
    assert failures == 0
