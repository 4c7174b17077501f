"""In-memory Kafka clients: the seam where unit tests replace the broker, as httpx's
`MockTransport` replaces the network.

`FakeConsumer` and `FakeProducer` stand where `confluent_kafka.Consumer` and `Producer` stand,
so the real `AtLeastOnce`/`ExactlyOnce` and the real `Service` run on them unchanged. Both write
every call that matters into one shared `Journal`, so a test can assert the order of things
(outputs acknowledged, then offsets committed). They hand out real `confluent_kafka.Message`
objects. Rebalance callbacks and statistics are served from inside `consume`, as librdkafka
does; acknowledgements happen at `flush`/`poll`/`commit_transaction`, or are refused on demand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition


def consumed(value: bytes, key: bytes | None = b"u1", topic: str = "song-selected") -> Message:
    """One message as a batch reads it from the consumer (partition 0, offset 0)."""
    return Message(topic=topic, partition=0, offset=0, key=key, value=value)


class Journal(list):
    """(call, detail) tuples in the order the clients saw them."""

    def calls(self, *names: str) -> list[str]:
        """The names of the calls, only those among `names` when given."""
        return [call for call, *_ in self if not names or call in names]

    def details(self, name: str) -> list[Any]:
        return [detail for call, detail in self if call == name]


class FakeClock:
    """A monotonic clock that moves only when told (or when `FakeProducer.poll` waits)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class _Rebalance:
    kind: str  # "assign", "revoke" or "lost"
    partitions: list[int]


class FakeConsumer:
    """One input topic of `partitions` partitions, with a group assignment and offsets."""

    def __init__(
        self,
        topic: str = "in",
        partitions: int = 3,
        journal: Journal | None = None,
        stats_cb: Callable[[str], None] | None = None,
    ) -> None:
        self.topic = topic
        self.journal = journal if journal is not None else Journal()
        self.stats_cb = stats_cb
        self.log: dict[int, list[Message]] = {p: [] for p in range(partitions)}
        self.assigned: list[int] = []
        self.position: dict[int, int] = {}
        self.stored: dict[int, int] = {}
        self.committed: dict[int, int] = {}
        self.callbacks: dict[str, Callable[..., None] | None] = {}
        self._rebalances: list[_Rebalance] = []
        self._errors: list[KafkaError] = []
        self._stats_due = False
        # Called with what each consume() returns: a test's hook to stop the loop, say.
        self.on_consume: Callable[[list[Message]], None] | None = None

    # What a test sets up.

    def add(self, partition: int, value: bytes | None, key: bytes | None = b"u") -> Message:
        offset = len(self.log[partition])
        message = Message(
            topic=self.topic,
            partition=partition,
            offset=offset,
            key=key,
            value=value,
            timestamp=(1, 1_700_000_000_000),
        )
        self.log[partition].append(message)
        return message

    def add_error(self, error: KafkaError) -> None:
        """The next consume() returns an error message first (as librdkafka reports them)."""
        self._errors.append(error)

    def rebalance(
        self, assign: list[int] | None = None, revoke: list[int] | None = None, lost: bool = False
    ) -> None:
        """A rebalance the next consume() serves: revoke (or lose) first, then assign."""
        if revoke:
            self._rebalances.append(_Rebalance("lost" if lost else "revoke", revoke))
        if assign:
            self._rebalances.append(_Rebalance("assign", assign))

    def emit_stats(self) -> None:
        """The next consume() calls `stats_cb` with librdkafka-shaped statistics."""
        self._stats_due = True

    def statistics(self) -> str:
        """Per partition: consumer_lag = high watermark - committed, -1 before any commit."""
        partitions = {
            str(p): {
                "partition": p,
                "hi_offset": len(messages),
                "committed_offset": self.committed.get(p, -1001),
                "consumer_lag": len(messages) - self.committed[p] if p in self.committed else -1,
            }
            for p, messages in self.log.items()
        }
        partitions["-1"] = {"partition": -1, "consumer_lag": -1}  # librdkafka's internal one
        return json.dumps({"type": "consumer", "topics": {self.topic: {"partitions": partitions}}})

    # The confluent_kafka.Consumer surface.

    def subscribe(self, topics, on_assign=None, on_revoke=None, on_lost=None) -> None:
        self.journal.append(("subscribe", list(topics)))
        self.callbacks = {"assign": on_assign, "revoke": on_revoke, "lost": on_lost or on_revoke}

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Message]:
        self._serve_callbacks()
        got: list[Message] = []
        while self._errors and len(got) < num_messages:
            got.append(Message(error=self._errors.pop(0)))
        progress = True
        while len(got) < num_messages and progress:  # round robin over the assignment
            progress = False
            for p in self.assigned:
                at = self.position.setdefault(p, self.committed.get(p, 0))
                if at < len(self.log[p]) and len(got) < num_messages:
                    got.append(self.log[p][at])
                    self.position[p] = at + 1
                    progress = True
        if got:
            self.journal.append(("consume", len(got)))
        if self.on_consume is not None:
            self.on_consume(got)
        return got

    def _serve_callbacks(self) -> None:
        while self._rebalances:
            change = self._rebalances.pop(0)
            tps = [TopicPartition(self.topic, p) for p in change.partitions]
            self.journal.append((change.kind, list(change.partitions)))
            callback = self.callbacks.get(change.kind)
            if callback is not None:
                callback(self, tps)
            if change.kind == "assign":
                self.assigned.extend(change.partitions)
            else:
                for p in change.partitions:
                    self.assigned.remove(p)
                    self.position.pop(p, None)
        if self._stats_due and self.stats_cb is not None:
            self._stats_due = False
            self.stats_cb(self.statistics())

    def seek(self, partition: TopicPartition) -> None:
        if partition.partition not in self.assigned:
            raise KafkaException(KafkaError(KafkaError._STATE, "partition not assigned"))
        self.journal.append(("seek", (partition.partition, partition.offset)))
        self.position[partition.partition] = partition.offset

    def store_offsets(self, message=None, offsets=None) -> None:
        stored = {tp.partition: tp.offset for tp in offsets or []}
        self.journal.append(("store_offsets", stored))
        self.stored.update(stored)

    def commit(self, message=None, offsets=None, asynchronous: bool = True):
        committed, self.stored = self.stored, {}
        if committed or not asynchronous:
            self.journal.append(("commit" if asynchronous else "commit_sync", committed))
        if not committed and not asynchronous:
            raise KafkaException(KafkaError(KafkaError._NO_OFFSET, "no offset to commit"))
        self.committed.update(committed)
        return (
            None
            if asynchronous
            else [TopicPartition(self.topic, p, o) for p, o in committed.items()]
        )

    def consumer_group_metadata(self) -> str:
        return "group-metadata"

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(self.topic, p) for p in self.assigned]

    def close(self) -> None:
        self.journal.append(("close", None))


@dataclass
class Sent:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list | None = None
    on_delivery: Callable[..., None] | None = field(default=None, repr=False)
    partition: int = -1


class FakeProducer:
    """Outputs queue locally until `flush`/`poll` (or a transaction's commit) acknowledges them.

    `refuse(n)`: the next n deliveries (flushes or transaction commits) fail: every queued
    output is reported through its `on_delivery` with `error` and dropped, as the broker
    refusing or a message timing out would. `refuse_locally(n)`: the next n produce() calls
    raise KafkaException, as a message over `message.max.bytes` does. `queue_limit`: produce()
    raises BufferError while that many outputs are waiting, until a poll acknowledges them.
    Only failures are reported, as with `delivery.report.only.error`.
    """

    def __init__(
        self,
        journal: Journal | None = None,
        clock: FakeClock | None = None,
        queue_limit: int | None = None,
    ) -> None:
        self.journal = journal if journal is not None else Journal()
        self.clock = clock
        self.queue_limit = queue_limit
        self.queued: list[Sent] = []
        self.acknowledged: list[Sent] = []
        self.polled_s = 0.0
        self._refusals = 0
        self._fatal = False
        self._local_refusals = 0
        self._pending_offsets: dict[int, int] = {}
        self.error = KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, "refused by the fake broker")
        self.transactional = False
        self.in_transaction = False
        self.sent_offsets: list[dict[int, int]] = []

    def refuse(self, deliveries: int = 1, fatal: bool = False) -> None:
        self._refusals += deliveries
        self._fatal = fatal

    def refuse_locally(self, produces: int = 1) -> None:
        self._local_refusals += produces

    @property
    def outputs(self) -> list[tuple[str, bytes | None, bytes | None]]:
        """Acknowledged (and, in a transaction, committed) outputs: what a reader would see."""
        return [(s.topic, s.key, s.value) for s in self.acknowledged]

    # The confluent_kafka.Producer surface.

    def produce(
        self, topic, value=None, key=None, headers=None, on_delivery=None, partition=-1, **_
    ) -> None:
        if self._local_refusals:
            self._local_refusals -= 1
            raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE, "too large"))
        if self.queue_limit is not None and len(self.queued) >= self.queue_limit:
            self.journal.append(("buffer_full", topic))
            raise BufferError("Local: Queue full")
        self.journal.append(("produce", topic))
        self.queued.append(Sent(topic, key, value, headers, on_delivery, partition))

    def poll(self, timeout: float = -1) -> int:
        self.journal.append(("poll", timeout))
        if timeout > 0:
            self.polled_s += timeout
            if self.clock is not None:
                self.clock.advance(timeout)
        if self.in_transaction:
            return 0
        return self._deliver()

    def flush(self, timeout: float = -1) -> int:
        self.journal.append(("flush", timeout))
        if not self.in_transaction:
            self._deliver()
        return 0

    def _deliver(self) -> int:
        queued, self.queued = self.queued, []
        if queued and self._refusals:
            self._refusals -= 1
            for sent in queued:
                if sent.on_delivery is not None:
                    sent.on_delivery(self.error, Message(topic=sent.topic, value=sent.value))
            self.journal.append(("refused", len(queued)))
            return len(queued)
        if queued:
            self.journal.append(("acknowledged", len(queued)))
        self.acknowledged.extend(queued)
        return len(queued)

    def init_transactions(self, timeout: float = -1) -> None:
        self.journal.append(("init_transactions", None))
        self.transactional = True

    def begin_transaction(self) -> None:
        self.journal.append(("begin_transaction", None))
        self.in_transaction = True

    def send_offsets_to_transaction(self, positions, group_metadata, timeout: float = -1) -> None:
        offsets = {tp.partition: tp.offset for tp in positions}
        self.journal.append(("send_offsets_to_transaction", offsets))
        self._pending_offsets = offsets

    def commit_transaction(self, timeout: float = -1) -> None:
        if self._refusals:
            self._refusals -= 1
            self.journal.append(("commit_transaction_failed", len(self.queued)))
            raise KafkaException(
                KafkaError(KafkaError._STATE, "transaction failed (fake)", fatal=self._fatal)
            )
        self.in_transaction = False
        self._deliver()
        self.sent_offsets.append(self._pending_offsets)
        self.journal.append(("commit_transaction", None))

    def abort_transaction(self, timeout: float = -1) -> None:
        self.journal.append(("abort_transaction", len(self.queued)))
        self.queued.clear()
        self.in_transaction = False
