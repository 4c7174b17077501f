"""The kafkaio plumbing under the service and the producer tools: produce with backpressure,
the clock-paced wait, and `Stop`."""

from __future__ import annotations

import os
import signal
import threading
import time

from fakes.kafka import FakeProducer

from kafkaio.produce import poll_until, produce, produce_all
from kafkaio.stop import Stop


def test_produce_waits_for_room_instead_of_dropping():
    producer = FakeProducer(queue_limit=1)
    waits = []
    for i in range(3):
        produce(producer, "t", f"v{i}".encode(), b"k", on_queue_full=lambda: waits.append(1))
    producer.flush()
    assert [v for _, _, v in producer.outputs] == [b"v0", b"v1", b"v2"]
    assert len(waits) == 2
    assert producer.journal.calls("buffer_full", "poll") == ["buffer_full", "poll"] * 2


def test_produce_all_keeps_the_order_and_passes_headers_and_the_callback():
    producer = FakeProducer(queue_limit=2)
    reports = []
    messages = [("a", b"k", b"1", None), ("b", None, b"2", [("h", b"x")]), ("a", b"k", b"3", None)]
    assert produce_all(producer, messages, on_delivery=lambda *r: reports.append(r)) == 3
    producer.refuse(1)
    producer.flush()  # the last one was still queued: refused, reported through the callback
    assert producer.outputs == [("a", b"k", b"1"), ("b", None, b"2")]
    assert producer.acknowledged[1].headers == [("h", b"x")]
    assert len(reports) == 1 and reports[0][0] is producer.error


def test_poll_until_serves_reports_until_the_deadline():
    producer = FakeProducer()
    due = time.monotonic() + 0.03
    poll_until(producer, due)
    assert time.monotonic() >= due
    assert all(0 < t <= 0.05 for t in producer.journal.details("poll"))


def test_stop_is_set_once_and_wait_returns_early():
    stop = Stop()
    assert not stop.is_set() and not stop.wait(0.001)
    threading.Timer(0.01, stop.set).start()
    started = time.monotonic()
    assert stop.wait(5.0)
    assert time.monotonic() - started < 1.0 and stop.is_set()


def test_signals_set_the_stop_and_the_old_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with Stop().on_signals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(1.0)
    assert signal.getsignal(signal.SIGTERM) is before
