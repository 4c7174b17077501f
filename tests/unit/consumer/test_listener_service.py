"""The run loop with listener state, on the in-process Kafka fakes: the changelog travels with
the batch (in its transaction, or acknowledged before its offsets), the store follows it, a
failed batch's retry counts once, and a new owner restores from the changelog before its
first event."""

from __future__ import annotations

import json
from pathlib import Path

from cases import event
from confluent_kafka import KafkaError, Message, TopicPartition
from fakes.kafka import FakeClock, FakeConsumer, FakeProducer, Journal
from harness import metric_values
from prometheus_client import CollectorRegistry, generate_latest
from test_listener_state import CATALOG, TRACKS

from consumer.delivery import AtLeastOnce, ExactlyOnce
from consumer.http import Health
from consumer.metrics import Metrics
from consumer.service import Service
from consumer.serving import ModelSet
from consumer.settings import Settings
from consumer.state.changelog import Restorer
from consumer.state.codec import decode_state
from consumer.state.keeper import ListenerKeeper
from consumer.state.listeners import StatePolicy
from consumer.state.store import Stores
from consumer.state.variants import Variants
from kafkaio.stop import Stop
from recommender.recommender import knn

CHANGELOG = "encore.listeners"


class FakeChangelog:
    """The changelog as a restore consumer sees it: what the fake producer got acknowledged
    (committed, under a transaction) for the changelog topic, per partition."""

    def __init__(self, producer: FakeProducer, seen_ready: list[bool], health: Health) -> None:
        self.producer = producer
        self.positions: dict[int, int] = {}
        self.seen_ready = seen_ready
        self.health = health

    def log(self, partition: int) -> list:
        return [
            s
            for s in self.producer.acknowledged
            if s.topic == CHANGELOG and s.partition == partition
        ]

    def get_watermark_offsets(self, tp: TopicPartition, timeout: float = -1, cached: bool = False):
        return 0, len(self.log(tp.partition))

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.positions = {tp.partition: tp.offset for tp in partitions}

    def unassign(self) -> None:
        self.positions = {}

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Message]:
        self.seen_ready.append(self.health.ready)
        got = []
        for partition, at in list(self.positions.items()):
            records = self.log(partition)
            for offset in range(at, len(records)):
                sent = records[offset]
                got.append(
                    Message(
                        topic=CHANGELOG,
                        partition=partition,
                        offset=offset,
                        key=sent.key,
                        value=sent.value,
                    )
                )
            got.append(
                Message(
                    topic=CHANGELOG,
                    partition=partition,
                    error=KafkaError(KafkaError._PARTITION_EOF),
                )
            )
            del self.positions[partition]
        return got


class Rig:
    def __init__(
        self,
        root: Path,
        exactly_once: bool = False,
        changelog_of: Rig | None = None,
        batch_size: int = 100,
        topic_id: str | None = None,  # the changelog's, as the broker gives it
    ) -> None:
        self.journal = Journal()
        self.clock = FakeClock()
        self.settings = Settings(
            input_topic="in", output_topic="out", dlq_topic="dlq", batch_size=batch_size
        )
        self.consumer = FakeConsumer("in", 2, self.journal)
        self.producer = (
            changelog_of.producer if changelog_of else FakeProducer(self.journal, self.clock)
        )
        self.registry = CollectorRegistry()
        self.metrics = Metrics(self.registry)
        self.health = Health(30)
        self.health.topics_ready = self.health.model_loaded = True
        cls = ExactlyOnce if exactly_once else AtLeastOnce
        delivery = cls(self.consumer, self.producer, 5.0)
        self.stores = Stores(root)
        self.seen_ready: list[bool] = []
        restorer = Restorer(
            FakeChangelog(self.producer, self.seen_ready, self.health),
            CHANGELOG,
            self.stores,
            topic_id=lambda: topic_id,
        )
        variants = Variants([], ["knn"])
        self.keeper = ListenerKeeper(
            self.stores, restorer, StatePolicy(), "song-feedback", CHANGELOG, variants,
            self.metrics, self.health, clock=self.clock,
        )  # fmt: skip
        self.stop = Stop()
        self.service = Service(
            self.settings, self.consumer, delivery, self.metrics, self.health, self.stop,
            clock=self.clock, listeners=self.keeper,
        )  # fmt: skip
        self.service.subscribe()
        self.consumer.rebalance(assign=[0, 1])

    def add(self, n: int, user: str = "u1", prefix: str = "s", start: int = 0) -> None:
        for i in range(start, start + n):
            value = event(event_id=f"{prefix}{i}", user_id=user, track_id=TRACKS[i])
            self.consumer.add(0, value, key=user.encode())

    def run(self) -> None:
        def idle(got: list) -> None:
            if not got:
                self.stop.set()

        self.consumer.on_consume = idle
        self.service.run(ModelSet(CATALOG, [knn(CATALOG, version="v")]))

    def state(self, user: str = "u1"):
        store = self.stores.open(0)
        (value,) = store.get_many([user.encode()])
        return None if value is None else decode_state(value)

    def answers(self) -> list[dict]:
        return [json.loads(s.value) for s in self.producer.acknowledged if s.topic == "out"]

    def metric(self, name: str) -> dict[str, float]:
        return metric_values(generate_latest(self.registry).decode(), name)


def test_exactly_once_writes_the_changelog_in_the_batch_transaction(tmp_path):
    rig = Rig(tmp_path, exactly_once=True)
    rig.add(3)
    rig.run()
    calls = [
        (call, detail)
        for call, detail in rig.journal
        if call
        in ("begin_transaction", "produce", "send_offsets_to_transaction", "commit_transaction")
    ]
    begin = calls.index(("begin_transaction", None))
    commit = calls.index(("commit_transaction", None))
    assert ("produce", CHANGELOG) in calls[begin:commit]
    changelog = [s for s in rig.producer.acknowledged if s.topic == CHANGELOG]
    assert {s.partition for s in changelog} == {0}  # the input's partition, not the partitioner's
    assert list(rig.state().tracks) == TRACKS[:3]
    assert rig.metric("encore_recommendations_published_total") == {
        'model="knn",variant="default"': 3
    }


def test_at_least_once_acknowledges_the_changelog_before_committing(tmp_path):
    rig = Rig(tmp_path)
    rig.add(3)
    rig.run()
    calls = rig.journal.calls("produce", "acknowledged", "commit")
    assert calls.index("acknowledged") < calls.index("commit")
    assert [s.topic for s in rig.producer.acknowledged].count(CHANGELOG) == 1  # one listener


def test_a_failed_batch_leaves_the_store_alone_and_its_retry_counts_once(tmp_path):
    rig = Rig(tmp_path, exactly_once=True)
    rig.add(4)
    rig.producer.refuse(1)  # the first transaction fails, is aborted and retried
    rig.run()
    assert "abort_transaction" in rig.journal.calls()
    state = rig.state()
    assert list(state.tracks) == TRACKS[:4] and len(state.event_ids) == 4
    assert len(rig.answers()) == 4


def test_at_least_once_pipelined_a_failed_batch_rewinds_the_one_processed_after_it(tmp_path):
    """Batch 2 is processed from batch 1's states while batch 1 is in flight; batch 1 fails
    when confirmed: both are rewound, and the retry counts every event once and still never
    shows a listener an earlier selection."""
    rig = Rig(tmp_path, batch_size=2)
    rig.add(6)
    rig.producer.refuse(1)
    rig.run()
    seeks = rig.journal.calls("seek")
    assert seeks and rig.journal.details("seek")[0] == (0, 0)  # back to batch 1's first event
    state = rig.state()
    assert list(state.tracks) == TRACKS[:6] and len(state.event_ids) == 6
    last = {a["event_id"]: a for a in rig.answers()}  # a rewound batch may be answered twice
    assert sorted(last) == [f"s{i}" for i in range(6)]
    for i in range(6):
        shown = {item["track_id"] for item in last[f"s{i}"]["items"]}
        assert not shown & set(TRACKS[:i]), i
    assert rig.consumer.committed == {0: 6}


def test_a_new_owner_restores_before_its_first_event_and_a_warm_store_reads_only_the_tail(tmp_path):
    first = Rig(tmp_path / "a")
    first.add(5)
    first.run()
    shown = {t for a in first.answers() for item in a["items"] for t in [item["track_id"]]}
    first.stores.close_all()

    cold = Rig(tmp_path / "b", changelog_of=first)  # another machine: no local store
    cold.add(1, start=20)
    cold.run()
    assert cold.seen_ready and not any(cold.seen_ready)  # /readyz 503 while restoring
    assert cold.metric("encore_state_restored_records_total") == {"": 1}
    assert list(cold.state().tracks) == [*TRACKS[:5], TRACKS[20]]
    (answer,) = [a for a in cold.answers() if a["event_id"] == "s20"]
    assert not {item["track_id"] for item in answer["items"]} & set(TRACKS[:5])
    assert answer["excluded_heard"] >= 5
    assert shown  # the earlier answers were shown
    cold.keeper.close()

    warm = Rig(tmp_path / "b", changelog_of=first)  # the same machine again: its checkpoint
    warm.run()
    assert warm.metric("encore_state_restored_records_total") == {"": 0}
    assert list(warm.state().tracks) == [*TRACKS[:5], TRACKS[20]]


def test_a_store_past_its_changelogs_end_is_emptied_and_restored_from_the_changelog(tmp_path):
    """A --state-dir kept across a fresh in-memory broker: the local store holds the
    last run's listeners and a checkpoint past the new, empty changelog. The changelog is the
    truth: the old listener is forgotten and the store restarts from offset 0."""
    first = Rig(tmp_path / "a")
    first.add(5)
    first.run()
    assert first.state() is not None
    first.keeper.close()

    again = Rig(tmp_path / "a")  # the same stores; a new broker: a new, empty changelog
    again.add(1, user="u2", start=20)
    again.run()
    assert again.state("u1") is None  # the old run's listener is gone
    assert list(again.state("u2").tracks) == [TRACKS[20]]
    assert again.stores.open(0).listeners == 1


def test_a_store_of_a_changelog_since_made_anew_is_emptied_though_the_new_one_holds_records(
    tmp_path,
):
    """The changelog deleted and made anew, and written to by another instance before this
    one restarts on its old store: the store's checkpoint (5) is past the new changelog's end
    (1), so continuing it would keep a listener the changelog no longer has and miss the one
    it has. The topic id tells the two changelogs apart."""
    first = Rig(tmp_path / "a", batch_size=1, topic_id="one")
    first.add(5)
    first.run()
    first.keeper.close()

    other = Rig(tmp_path / "b", topic_id="two")  # another instance, on the new changelog
    other.add(1, user="u2", start=20)
    other.run()
    other.keeper.close()

    again = Rig(tmp_path / "a", changelog_of=other, topic_id="two")
    again.run()
    assert again.state("u1") is None
    assert list(again.state("u2").tracks) == [TRACKS[20]]
    assert again.stores.open(0).listeners == 1
    assert again.stores.open(0).changelog_id == "two"
    emptied = again.metric("encore_state_errors_total")
    assert emptied == {'kind="other_changelog"': 2}  # both partitions' stores
    again.keeper.close()

    same = Rig(tmp_path / "a", changelog_of=other, topic_id="two")  # its own changelog: kept
    same.run()
    assert same.metric("encore_state_restored_records_total") == {"": 0}
    assert list(same.state("u2").tracks) == [TRACKS[20]]


def test_a_store_that_kept_no_topic_id_adopts_its_changelogs(tmp_path):
    """A store written before topic ids were kept (or on a broker without them) is continued,
    and keeps the id from then on."""
    first = Rig(tmp_path / "a")
    first.add(3)
    first.run()
    assert first.stores.open(0).changelog_id is None
    first.keeper.close()

    later = Rig(tmp_path / "a", changelog_of=first, topic_id="one")
    later.run()
    assert list(later.state().tracks) == TRACKS[:3]
    assert later.stores.open(0).changelog_id == "one"
    assert later.metric("encore_state_restored_records_total") == {"": 0}
