"""Listener state on the real broker: one listener's answers never repeat what they heard or
were just shown, across a SIGKILL and restart, and across a second instance taking half the
partitions (restored from the changelog, on another machine's empty state directory)."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from harness import (
    ServiceProcess,
    client_config,
    create_topics,
    metric_values,
    wait_until,
)

from consumer.state.changelog import CHANGELOG_CONFIG
from consumer.state.codec import ListenerState, encode_state
from producer.events import encode, selection
from recommender.catalog import BUNDLED_CATALOG
from recommender.ingest import read_catalog

CATALOG = read_catalog(BUNDLED_CATALOG)
SHOWN = 3


class Listener:
    """Sends selections one at a time and waits for each answer, as a person at the page."""

    def __init__(self, servers: str, topics: tuple[str, str, str], user: str) -> None:
        self.servers, self.topics, self.user = servers, topics, user
        self.producer = Producer(
            client_config(servers, **{"enable.idempotence": True, "linger.ms": 0})
        )
        # A short fetch wait: the broker may hold a fetch until it, and every answer waits.
        self.answers = Consumer(
            client_config(
                servers,
                **{
                    "group.id": f"reader-{user}",
                    "enable.auto.commit": False,
                    "isolation.level": "read_committed",
                    "fetch.wait.max.ms": 10,
                },
            )
        )
        partitions = self.answers.list_topics(topics[1], timeout=10).topics[topics[1]].partitions
        self.answers.assign([TopicPartition(topics[1], p, OFFSET_BEGINNING) for p in partitions])
        self.got: dict[str, list[list[str]]] = {}  # event id -> every answer's items
        self.sequence: list[tuple[str, str]] = []  # (event id, selected track)

    def select(self, track: str) -> str:
        event_id = f"{self.user}-{len(self.sequence)}-{uuid.uuid4().hex[:6]}"
        key, value = encode(selection(self.user, track_id=track, event_id=event_id))
        self.producer.produce(self.topics[0], value, key)
        self.producer.flush(10)
        self.sequence.append((event_id, track))
        return event_id

    def wait(self, event_id: str, timeout_s: float = 60) -> list[str]:
        wait_until(
            lambda: self._read() or event_id in self.got, timeout_s, f"answer {event_id}", 0.01
        )
        return self.got[event_id][0]

    def _read(self) -> bool:
        for message in self.answers.consume(100, 0.05):
            if message.error() or message.key() != self.user.encode():
                continue
            answer = json.loads(message.value())
            self.got.setdefault(answer["event_id"], []).append(
                [i["track_id"] for i in answer["items"]]
            )
        return False

    def check(self) -> None:
        """No answer (every copy of it) holds an earlier selection or a song of the previous
        `SHOWN` answers."""
        for i, (event_id, _) in enumerate(self.sequence):
            earlier = {track for _, track in self.sequence[:i]}
            recent = {t for e, _ in self.sequence[max(0, i - SHOWN) : i] for t in self.got[e][0]}
            for items in self.got[event_id]:
                assert len(items) == 10, (i, items)
                assert not set(items) & earlier, (i, set(items) & earlier)
                assert not set(items) & recent, (i, set(items) & recent)

    def close(self) -> None:
        self.answers.close()


@pytest.mark.parametrize("guarantee", ["at-least-once", "exactly-once"])
def test_thirty_selections_survive_a_sigkill(service_factory, topics, broker, guarantee):
    args = ("--processing-guarantee", guarantee, "--instance-id", "a")
    service = service_factory(*args).start()
    listener = Listener(broker.bootstrap_servers, topics, f"listener-{guarantee}")
    track = str(CATALOG.track_ids[17])
    try:
        for i in range(30):
            event_id = listener.select(track)
            if i == 15:  # killed with the selection in flight, then started again
                service.kill()
                service = service_factory(*args).start()
            track = listener.wait(event_id)[-1]  # the listener picks a song they were shown
        listener.check()
        # Everyone answered once under exactly-once; at-least-once may repeat one (the same).
        copies = [len(v) for v in listener.got.values()]
        if guarantee == "exactly-once":
            assert copies == [1] * 30
        for versions in listener.got.values():
            assert all(v == versions[0] for v in versions)
        metrics = service.metrics()
        assert metric_values(metrics, "encore_state_listeners")[""] == 1
    finally:
        listener.close()
        service.stop()


def test_a_second_instance_takes_half_the_partitions_with_their_history(broker, tmp_path):
    servers = broker.bootstrap_servers
    tag = uuid.uuid4().hex[:8]
    topics = (f"in-{tag}", f"out-{tag}", f"dlq-{tag}")
    create_topics(servers, topics, partitions=4)
    group = f"encore-{tag}"

    def instance(name: str) -> ServiceProcess:
        return ServiceProcess(
            servers, topics, group, ("--instance-id", name, "--state-dir", str(tmp_path / name)),
            log_dir=tmp_path,
        )  # fmt: skip

    first = instance("a").start()
    listeners = [Listener(servers, topics, f"user-{i}") for i in range(8)]
    second = None
    try:
        ids = CATALOG.track_ids
        for round_ in range(4):
            sent = [
                (lis, lis.select(str(ids[(37 * j + 11 * round_) % len(ids)])))
                for j, lis in enumerate(listeners)
            ]
            for lis, event_id in sent:
                lis.wait(event_id)
        second = instance("b").start()

        def split() -> bool:  # input partitions (their feedback twins go with them)
            counts = [
                metric_values(s.metrics(), "encore_assigned_partitions")[""]
                for s in (first, second)
            ]
            return counts == [2.0, 2.0]

        wait_until(split, 60, "the partitions split between the two instances")
        wait_until(first.ready, 30, "the first instance ready again")
        wait_until(second.ready, 30, "the second instance ready")
        for _ in range(3):
            sent = [(lis, lis.select(lis.got[lis.sequence[-1][0]][0][-1])) for lis in listeners]
            for lis, event_id in sent:
                lis.wait(event_id)
        for lis in listeners:
            lis.check()
        restored = metric_values(second.metrics(), "encore_state_restored_records_total")[""]
        published = metric_values(second.metrics(), "encore_recommendations_published_total")
        assert restored > 0  # the second instance's listeners came from the changelog
        assert sum(published.values()) > 0  # and it answered them
    finally:
        for lis in listeners:
            lis.close()
        if second is not None:
            second.stop()
        first.stop()


def test_a_changelog_not_co_partitioned_is_refused(broker, topics, tmp_path):
    servers = broker.bootstrap_servers
    changelog = f"{topics[0]}.listeners"
    create_topics(servers, [changelog], partitions=2)  # the input has 3
    service = ServiceProcess(servers, topics, f"encore-{uuid.uuid4().hex[:8]}", log_dir=tmp_path)
    service.start(wait_ready_s=None)
    assert service.process is not None
    assert service.process.wait(60) == 2
    assert f"{changelog} has 2 partitions and {topics[0]} 3" in service.log_tail()


def test_a_changelog_made_anew_empties_the_stores_of_the_old_one(service_factory, topics, broker):
    """The changelog deleted and made anew while the service is down, and written to meanwhile
    (one listener per partition): on restart the old stores, whose checkpoints point into the
    old changelog, are emptied and the new changelog is restored from its start."""
    servers = broker.bootstrap_servers
    service = service_factory("--instance-id", "a").start()
    listener = Listener(servers, topics, "listener-before")
    try:
        for i in range(4):
            listener.wait(listener.select(str(CATALOG.track_ids[5 + i])))
    finally:
        listener.close()
    service.stop()  # its store checkpointed

    changelog = f"{topics[0]}.listeners"
    admin = AdminClient(client_config(servers))
    for future in admin.delete_topics([changelog]).values():
        future.result(30)
    wait_until(lambda: changelog not in admin.list_topics(timeout=10).topics, 30, "deleted")
    for future in admin.create_topics([NewTopic(changelog, 3, config=CHANGELOG_CONFIG)]).values():
        future.result(30)
    producer = Producer(client_config(servers, **{"enable.idempotence": True}))
    for partition in range(3):
        state = ListenerState()
        state.record(f"e{partition}", str(CATALOG.track_ids[partition]), "select", 1, 50)
        state.last_seen_ms = int(time.time() * 1000)
        producer.produce(
            changelog, encode_state(state), f"other-{partition}".encode(), partition=partition
        )
    assert producer.flush(30) == 0

    service = service_factory("--instance-id", "a").start()
    try:
        metrics = service.metrics()
        assert metric_values(metrics, "encore_state_listeners")[""] == 3  # the new changelog's
        assert metric_values(metrics, "encore_state_errors_total")['kind="other_changelog"'] == 3
        assert "made since anew" in service.log_tail()
    finally:
        service.stop()
