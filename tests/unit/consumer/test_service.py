"""The run loop in-process, on in-memory Kafka clients: what it commits, when, and what not."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from cases import event
from confluent_kafka import KafkaError, KafkaException
from fakes.kafka import FakeClock, FakeConsumer, FakeProducer, Journal
from harness import metric_values
from model_catalogs import grouped_catalog
from prometheus_client import CollectorRegistry, generate_latest

from consumer.batch import BatchProcessor
from consumer.delivery import AtLeastOnce
from consumer.http import Health
from consumer.metrics import Metrics
from consumer.service import Service, backoff_s
from consumer.serving import ModelSet
from consumer.settings import Settings
from kafkaio.stop import Stop
from recommender.recommender import knn

CATALOG = grouped_catalog()
TRACKS = [str(t) for t in CATALOG.track_ids]


def model_set(version: str) -> ModelSet:
    return ModelSet(CATALOG, [knn(CATALOG, version=version)])


@dataclass
class Rig:
    """A service on fake clients, subscribed and assigned partitions 0..2."""

    batch_size: int = 100
    reload: Callable[[ModelSet], ModelSet | None] | None = None
    queue_limit: int | None = None
    journal: Journal = field(default_factory=Journal)
    clock: FakeClock = field(default_factory=FakeClock)
    stop: Stop = field(default_factory=Stop)

    def __post_init__(self) -> None:
        self.settings = Settings(
            input_topic="in", output_topic="out", dlq_topic="dlq", batch_size=self.batch_size
        )
        self.consumer = FakeConsumer("in", 3, self.journal)
        self.producer = FakeProducer(self.journal, self.clock, self.queue_limit)
        self.registry = CollectorRegistry()
        self.metrics = Metrics(self.registry)
        self.health = Health(30)
        self.health.topics_ready = self.health.model_loaded = True
        delivery = AtLeastOnce(
            self.consumer, self.producer, 5.0, self.metrics.producer_queue_full.inc
        )
        self.service = Service(
            self.settings,
            self.consumer,
            delivery,
            self.metrics,
            self.health,
            self.stop,
            self.reload,
            clock=self.clock,
        )
        self.consumer.stats_cb = self.service.lag.on_stats
        self.service.subscribe()
        self.consumer.rebalance(assign=[0, 1, 2])

    def add(self, n: int, partitions: int = 3, prefix: str = "e") -> None:
        for i in range(n):
            value = event(event_id=f"{prefix}{i}", track_id=TRACKS[i % len(TRACKS)])
            self.consumer.add(i % partitions, value)

    def run(self, *when_idle: Callable[[], None], models: ModelSet | None = None) -> None:
        """Run until the input is drained: each time a consume finds nothing, do the next of
        `when_idle` (it takes effect at the next consume), then stop."""
        pending = list(when_idle)

        def idle(got: list) -> None:
            if not got:
                pending.pop(0)() if pending else self.stop.set()

        self.consumer.on_consume = idle
        self.service.run(models or model_set("knn-a"))

    def metric(self, name: str) -> dict[str, float]:
        return metric_values(generate_latest(self.registry).decode(), name)

    def answers(self) -> list[dict]:
        return [json.loads(v) for topic, _, v in self.producer.outputs if topic == "out"]


def test_outputs_are_acknowledged_before_the_offsets_are_committed():
    rig = Rig()
    rig.add(7)
    rig.run()
    calls = rig.journal.calls("produce", "acknowledged", "store_offsets", "commit")
    assert calls == ["produce"] * 7 + ["acknowledged", "store_offsets", "commit"]
    assert rig.consumer.committed == {0: 3, 1: 2, 2: 2}
    assert sorted(a["event_id"] for a in rig.answers()) == [f"e{i}" for i in range(7)]
    # Labelled by variant since issue 13 (everyone is in "default" without --variant).
    assert rig.metric("encore_recommendations_published_total") == {
        'model="knn",variant="default"': 7
    }
    assert rig.metric("encore_commits_total") == {"": 1}


def test_a_refused_batch_is_rewound_and_retried_after_a_backoff_committing_nothing_first():
    rig = Rig()
    rig.add(6)
    rig.producer.refuse(1)
    started = rig.clock()
    # The refusal shows when the batch is confirmed, at the first idle consume; the rig
    # stops at the second.
    rig.run(lambda: None)
    calls = rig.journal.calls("refused", "seek", "store_offsets", "commit", "acknowledged")
    # Nothing stored or committed between the refusal and the rewind to the first offsets.
    assert calls == ["refused", "seek", "seek", "seek", "acknowledged", "store_offsets", "commit"]
    assert sorted(rig.journal.details("seek")) == [(0, 0), (1, 0), (2, 0)]
    assert backoff_s(1) == pytest.approx(0.4)
    assert rig.clock() - started == pytest.approx(0.4)  # waited serving delivery reports
    assert rig.consumer.committed == {0: 2, 1: 2, 2: 2}
    assert sorted(a["event_id"] for a in rig.answers()) == [f"e{i}" for i in range(6)]
    assert rig.metric("encore_delivery_failures_total") == {"": 1}


def test_backoff_grows_with_consecutive_failures_and_is_capped():
    waits = [backoff_s(n) for n in range(1, 9)]
    assert waits == sorted(waits) and waits[0] == pytest.approx(0.4) and waits[-1] == 10.0


def test_a_stop_during_the_backoff_ends_the_wait_and_commits_nothing():
    rig = Rig()
    rig.add(3)
    rig.producer.refuse(100)

    def stop_after_first_batch(got: list) -> None:
        if got:
            rig.stop.set()

    rig.consumer.on_consume = stop_after_first_batch
    rig.service.run(model_set("knn-a"))
    assert rig.consumer.committed == {}
    assert rig.producer.polled_s < 0.1
    assert rig.journal.calls("commit_sync") == ["commit_sync"]  # tried at stop: nothing stored


def test_stop_finishes_the_batch_in_hand_then_commits():
    rig = Rig()
    rig.add(5)

    def sigterm_during_consume(got: list) -> None:
        rig.stop.set()

    rig.consumer.on_consume = sigterm_during_consume
    rig.service.run(model_set("knn-a"))
    assert len(rig.answers()) == 5
    assert rig.consumer.committed == {0: 2, 1: 2, 2: 1}
    assert rig.journal.calls("consume", "acknowledged", "commit", "commit_sync") == [
        "consume", "acknowledged", "commit", "commit_sync",
    ]  # fmt: skip
    assert rig.health.stopping and not rig.health.ready


def test_partitions_revoked_are_committed_synchronously_first():
    rig = Rig()
    rig.add(6)
    rig.run(lambda: rig.consumer.rebalance(revoke=[0]))
    calls = rig.journal.calls("commit", "revoke", "commit_sync")
    assert calls[:3] == ["commit", "revoke", "commit_sync"]
    assert rig.health.assigned == 2
    assert rig.metric("encore_assigned_partitions") == {"": 2}


def test_lost_partitions_are_handled_like_revoked_ones():
    rig = Rig()
    rig.run(lambda: rig.consumer.rebalance(revoke=[1, 2], lost=True))
    assert rig.journal.calls("lost", "commit_sync")[:2] == ["lost", "commit_sync"]
    assert rig.health.assigned == 1


def test_a_new_model_set_takes_effect_before_the_next_batch_never_within_one():
    swaps = iter([None, model_set("knn-b")])
    calls: list[int] = []

    def reload(current: ModelSet) -> ModelSet | None:
        sent = rig.producer.queued + rig.producer.acknowledged
        calls.append(len(sent))  # how many answers were sent by then
        return next(swaps, None)

    rig = Rig(batch_size=4, reload=reload)
    for i in range(8):
        rig.consumer.add(0, event(event_id=f"e{i}", track_id=TRACKS[i]))
    rig.run()
    versions = [a["model_version"] for a in sorted(rig.answers(), key=lambda a: a["event_id"])]
    assert versions == ["knn-a"] * 4 + ["knn-b"] * 4
    # Asked before each batch, never while one is being answered (the batch before may still
    # be in flight: at-least-once confirms it while the next one is processed).
    assert calls[:2] == [0, 4]
    assert rig.metric("encore_model_reloads_total") == {"": 1}
    assert rig.metric("encore_model_info") == {'default="true",model="knn",version="knn-b"': 1}


def test_consumer_errors_are_counted_and_the_loop_goes_on():
    rig = Rig()
    rig.consumer.add_error(KafkaError(KafkaError._TRANSPORT, "broker went away"))
    rig.consumer.add_error(KafkaError(KafkaError._PARTITION_EOF))
    rig.add(3)
    rig.run()
    assert rig.metric("encore_consume_errors_total") == {
        'code="_TRANSPORT"': 1,
        'code="_PARTITION_EOF"': 1,
    }
    assert len(rig.answers()) == 3 and rig.consumer.committed == {0: 1, 1: 1, 2: 1}


def test_a_fatal_consumer_error_raises_after_committing_what_was_delivered():
    rig = Rig()
    rig.add(3)
    rig.run()  # a delivered batch
    rig.stop = Stop()
    rig.service.stop = rig.stop
    rig.consumer.add_error(KafkaError(KafkaError._FATAL, "fenced", fatal=True))
    with pytest.raises(KafkaException):
        rig.run()
    assert rig.journal.calls()[-1] == "commit_sync"
    assert rig.metric("encore_consume_errors_total") == {'code="_FATAL"': 1}


def test_a_full_producer_queue_waits_for_room_and_loses_nothing():
    rig = Rig(queue_limit=2)
    rig.add(7)
    rig.run()
    assert len(rig.answers()) == 7
    assert rig.metric("encore_producer_queue_full_total")[""] >= 3
    assert rig.metric("encore_delivery_failures_total") == {"": 0}


def test_last_answer_time_is_set_only_when_answers_are_acknowledged():
    refused = Rig()
    refused.add(2)
    refused.producer.refuse(100)
    refused.consumer.on_consume = lambda got: got and refused.stop.set()
    refused.service.run(model_set("knn-a"))
    assert refused.metric("encore_last_answer_timestamp_seconds") == {"": 0}

    dead_letters_only = Rig()
    dead_letters_only.consumer.add(0, b"not json")
    dead_letters_only.run()
    assert dead_letters_only.metric("encore_dead_letters_total")['reason="invalid_json"'] == 1
    assert dead_letters_only.metric("encore_last_answer_timestamp_seconds") == {"": 0}

    answered = Rig()
    answered.add(2)
    answered.run()
    assert answered.metric("encore_last_answer_timestamp_seconds")[""] > 1.7e9


def test_consumer_lag_per_assigned_partition_and_gone_when_revoked():
    rig = Rig()
    rig.add(5, partitions=2)  # partition 2 never gets a message, so nothing is committed there
    rig.run(
        rig.consumer.emit_stats,
        lambda: rig.consumer.rebalance(revoke=[0]),
        rig.consumer.emit_stats,
    )
    lag = rig.metric("encore_consumer_lag")
    assert lag == {'partition="1",topic="in"': 0}  # 0 revoked; 2 has no committed offset (-1)


def test_consumer_lag_shows_what_is_behind_the_committed_offsets():
    rig = Rig()
    rig.add(4)
    rig.run()
    for i in range(5):  # arrive after the last commit
        rig.consumer.add(0, event(event_id=f"late{i}", track_id=TRACKS[i]))
    rig.service.lag.on_stats(rig.consumer.statistics())
    assert rig.metric("encore_consumer_lag") == {
        'partition="0",topic="in"': 5,
        'partition="1",topic="in"': 0,
        'partition="2",topic="in"': 0,
    }
    rig.service.lag.on_stats("not json")  # ignored, values kept
    assert rig.metric("encore_consumer_lag")['partition="0",topic="in"'] == 5


def test_the_cyclic_collector_is_paused_while_a_batch_is_handled_and_on_between_batches():
    rig = Rig()
    rig.add(5)
    during: list[bool] = []
    processor_process = BatchProcessor.process

    def process(self: BatchProcessor, messages, into=None):  # type: ignore[no-untyped-def]
        during.append(gc.isenabled())
        return processor_process(self, messages, into)

    assert gc.isenabled()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BatchProcessor, "process", process)
        rig.run()
    assert during == [False]
    assert gc.isenabled()
    assert len(rig.answers()) == 5
