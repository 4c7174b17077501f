"""Break things on purpose; every selection must still be answered.

Each test prints a row (sent / answered / dead-lettered / lost / duplicated) into the table at
the end of the session. Lost must be 0 everywhere; duplicates are allowed only with
at-least-once, and a read_committed reader must see none with exactly-once.
"""

from __future__ import annotations

import re
import time

import pytest
from faults import ROWS, FaultRow
from harness import (
    PacedProducer,
    answered,
    committed_offsets,
    http_get,
    metric_values,
    produce,
    wait_until,
)
from proxy import TcpProxy
from test_end_to_end import valid_events

GUARANTEES = ["at-least-once", "exactly-once"]


def consumed(service) -> float:
    return metric_values(service.metrics(), "encore_selections_consumed_total").get("", 0.0)


def record(name, guarantee, events, counts, started, dead=0) -> FaultRow:
    ids = {value_id(v) for _, v in events}
    row = FaultRow.from_counts(name, guarantee, ids, counts, dead, time.monotonic() - started)
    ROWS.append(row)
    return row


def value_id(value: bytes) -> str:
    return re.search(rb'"event_id": "([^"]+)"', value).group(1).decode()


def check(row: FaultRow, guarantee: str) -> None:
    assert row.lost == 0, row
    if guarantee == "exactly-once":
        assert row.duplicated == 0, row


@pytest.mark.parametrize("guarantee", GUARANTEES)
def test_sigkill_mid_stream_then_restart(guarantee, service_factory, topics, broker):
    servers, started = broker.bootstrap_servers, time.monotonic()
    events = valid_events(20_000, f"kill-{guarantee}")
    produce(servers, topics[0], events)
    first = service_factory("--processing-guarantee", guarantee).start()
    wait_until(lambda: consumed(first) >= 5_000, 60, "a quarter of the events consumed")
    first.kill()  # SIGKILL: no flush, no commit, an open transaction left behind
    second = service_factory("--processing-guarantee", guarantee).start()
    counts = answered(servers, topics[1], {value_id(v) for _, v in events}, 120, settle_s=2)
    second.stop()
    check(record("SIGKILL mid-stream, restart", guarantee, events, counts, started), guarantee)


@pytest.mark.parametrize("guarantee", GUARANTEES)
def test_broker_frozen_for_ten_seconds_under_load(guarantee, service_factory, topics, broker):
    servers, started = broker.bootstrap_servers, time.monotonic()
    events = valid_events(12_000, f"freeze-{guarantee}")
    service = service_factory("--processing-guarantee", guarantee).start()
    load = PacedProducer(servers, topics[0], events, rate=1_000)
    load.start()
    wait_until(lambda: consumed(service) >= 2_000, 60, "load flowing")
    broker.pause()
    try:
        time.sleep(10)  # the fault itself is ten seconds of a frozen broker
    finally:
        broker.resume()
    load.finish()
    counts = answered(servers, topics[1], {value_id(v) for _, v in events}, 120, settle_s=2)
    assert service.process.poll() is None, "the service must recover by itself"
    service.stop()
    check(record("broker SIGSTOP 10 s under load", guarantee, events, counts, started), guarantee)


@pytest.mark.parametrize("guarantee", GUARANTEES)
def test_second_instance_joins_and_leaves_under_load(guarantee, service_factory, topics, broker):
    servers, started = broker.bootstrap_servers, time.monotonic()
    events = valid_events(15_000, f"scale-{guarantee}")
    args = ("--processing-guarantee", guarantee)
    first = service_factory(*args, "--instance-id", "a").start()
    load = PacedProducer(servers, topics[0], events, rate=1_000)
    load.start()
    wait_until(lambda: consumed(first) >= 1_000, 60, "load flowing")
    second = service_factory(*args, "--instance-id", "b").start()
    wait_until(lambda: consumed(second) >= 500, 60, "the second instance working")
    assignment = metric_values(second.metrics(), "encore_assigned_partitions")[""]
    assert 0 < assignment < 3, "the partitions are split between the two instances"
    assert second.stop() == 0  # leaves: its partitions move back to the first
    load.finish()
    counts = answered(servers, topics[1], {value_id(v) for _, v in events}, 120, settle_s=2)
    assert metric_values(first.metrics(), "encore_assigned_partitions")[""] == 3
    first.stop()
    check(record("2nd instance joins, then leaves", guarantee, events, counts, started), guarantee)


@pytest.mark.parametrize("guarantee", GUARANTEES)
def test_broker_unreachable_at_start(guarantee, service_factory, topics, broker):
    servers, started = broker.bootstrap_servers, time.monotonic()
    host, port = servers.split(":")
    proxy = TcpProxy((host, int(port)))  # not started: nothing listens at its address yet
    service = service_factory(
        "--processing-guarantee", guarantee, "--bootstrap-servers", proxy.address
    )
    service.start(wait_ready_s=None)
    wait_until(lambda: "broker not ready" in service.log_tail(), 30, "a retry logged")
    assert http_get(service.url + "/readyz")[0] == 503
    assert http_get(service.url + "/healthz")[0] == 200  # alive, just waiting
    events = valid_events(500, f"late-{guarantee}")
    with proxy:  # the broker appears
        service.wait_ready(60)
        produce(servers, topics[0], events)
        counts = answered(servers, topics[1], {value_id(v) for _, v in events}, 60)
        service.stop()
    check(record("broker unreachable at start", guarantee, events, counts, started), guarantee)


@pytest.mark.parametrize("guarantee", GUARANTEES)
def test_failing_produce_never_commits_its_input(guarantee, service_factory, topics, broker):
    """Every answer is refused (larger than the producer may send): nothing is committed, the
    failure shows in metrics and logs, and a fixed instance then answers everything."""
    servers, started = broker.bootstrap_servers, time.monotonic()
    args = ("--processing-guarantee", guarantee)
    broken = service_factory(*args, "--kafka-option", "message.max.bytes=1000").start()
    events = valid_events(200, f"refused-{guarantee}")
    produce(servers, topics[0], events)
    wait_until(
        lambda: metric_values(broken.metrics(), "encore_delivery_failures_total")[""] >= 3,
        60,
        "delivery failures counted",
    )
    assert metric_values(broken.metrics(), "encore_recommendations_published_total") == {}
    assert all(o < 0 for o in committed_offsets(servers, broken.group, topics[0]).values())
    assert "delivery failed" in broken.log_tail(200)
    assert broken.stop() == 0  # stops cleanly, still without committing
    assert all(o < 0 for o in committed_offsets(servers, broken.group, topics[0]).values())

    with service_factory(*args):
        counts = answered(servers, topics[1], {value_id(v) for _, v in events}, 60)
    check(
        record("every produce refused, then fixed", guarantee, events, counts, started), guarantee
    )
