"""The start-up waits of `consumer.app`: they retry, they stop when asked, and while they wait
the service stays live (/healthz 200), so a Kafka outage at start never restarts the pod."""

from __future__ import annotations

from concurrent.futures import Future
from types import SimpleNamespace

import pytest
from confluent_kafka import KafkaError, KafkaException

from consumer.app import create_topics_when_reachable, wait_for_models
from consumer.http import Health
from consumer.settings import Settings
from kafkaio.stop import Stop


class FakeAdmin:
    """Unreachable for the first `failures` calls, then a broker that creates what is asked."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.topics: dict[str, SimpleNamespace] = {}
        self.created: list[str] = []
        self.configs: dict[str, dict[str, str]] = {}

    def list_topics(self, timeout: float = -1) -> SimpleNamespace:
        if self.failures:
            self.failures -= 1
            raise KafkaException(KafkaError(KafkaError._TRANSPORT, "all brokers down"))
        return SimpleNamespace(topics=dict(self.topics))

    def create_topics(self, new_topics, operation_timeout: float = 0) -> dict[str, Future]:
        futures = {}
        for topic in new_topics:
            self.topics[topic.topic] = SimpleNamespace(error=None)
            self.created.append(topic.topic)
            self.configs[topic.topic] = dict(topic.config)
            futures[topic.topic] = done = Future()
            done.set_result(None)
        return futures


class CountingHealth(Health):
    def __init__(self) -> None:
        super().__init__(stall_timeout_s=30)
        self.progress_calls = 0

    def progressed(self) -> None:
        self.progress_calls += 1
        super().progressed()


SETTINGS = Settings(input_topic="in", output_topic="out", dlq_topic="dlq")


def test_topics_are_created_once_the_broker_answers_and_liveness_holds_meanwhile():
    admin, health = FakeAdmin(failures=3), CountingHealth()
    assert create_topics_when_reachable(admin, SETTINGS, health, lambda: True, 0.001)
    catalog, dead_letters = "encore.catalog", "encore.catalog.dead-letters"
    assert admin.created == ["in", "out", "dlq", dead_letters, catalog] and health.topics_ready
    assert admin.configs[catalog]["cleanup.policy"] == "compact"  # a table, not a log
    assert admin.configs["in"] == {}
    assert health.progress_calls >= 4  # every attempt and every wait between them
    assert health.live()[0]


def test_an_empty_catalog_topic_creates_no_catalog_topics():
    admin = FakeAdmin()
    settings = SETTINGS.model_copy(update={"catalog_topic": ""})
    assert create_topics_when_reachable(admin, settings, CountingHealth(), lambda: True, 0.001)
    assert admin.created == ["in", "out", "dlq"]


def test_topic_creation_gives_up_when_asked_to_stop():
    stop = Stop()
    admin, health = FakeAdmin(failures=1_000), CountingHealth()
    attempts = iter(range(3))
    keep_trying = lambda: next(attempts, None) is not None and not stop.is_set()  # noqa: E731
    assert not create_topics_when_reachable(admin, SETTINGS, health, keep_trying, 0.001)
    assert not health.topics_ready


def test_an_attempt_ends_well_within_the_stall_timeout():
    seen = []

    class TimedAdmin(FakeAdmin):
        def list_topics(self, timeout: float = -1) -> SimpleNamespace:
            seen.append(timeout)
            return super().list_topics(timeout)

    short = Settings(input_topic="in", output_topic="out", dlq_topic="dlq", stall_timeout_s=6)
    create_topics_when_reachable(TimedAdmin(), short, CountingHealth(), lambda: True)
    assert max(seen) <= 2.0


def test_waiting_for_models_is_progress_and_ends_on_stop():
    loading: Future = Future()
    health, stop = CountingHealth(), Stop()
    stop.set()
    assert wait_for_models(loading, health, stop) is None
    loading.set_result("models")
    assert wait_for_models(loading, health, Stop()) == "models"
    failed: Future = Future()
    failed.set_exception(RuntimeError("cannot load"))
    with pytest.raises(RuntimeError, match="cannot load"):
        wait_for_models(failed, health, Stop())
