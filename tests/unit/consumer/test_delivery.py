"""Both delivery guarantees against fake clients: the order of the calls, and what a failure
leaves committed (nothing)."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaException
from fakes.kafka import FakeConsumer, FakeProducer, Journal

from consumer.delivery import AtLeastOnce, ExactlyOnce, first_offsets, next_offsets
from recommender.errors import DeliveryFailed, EncoreError


def clients(queue_limit=None):
    journal = Journal()
    consumer = FakeConsumer("in", 2, journal)
    consumer.rebalance(assign=[0, 1])
    consumer.consume(0)  # serves the assignment
    return journal, consumer, FakeProducer(journal, queue_limit=queue_limit)


def batch(consumer, n=4):
    for i in range(n):
        consumer.add(i % 2, b"{}")
    return consumer.consume(n)


OUTPUTS = [("out", b"u", b"answer-1", None), ("dlq", b"u", b"bad", [("error.reason", b"x")])]


def test_offsets_after_the_last_and_from_the_first_message_per_partition():
    consumer = FakeConsumer("in", 2)
    messages = [consumer.add(p, b"{}") for p in (0, 1, 0, 0)]
    assert {(tp.partition, tp.offset) for tp in next_offsets(messages)} == {(0, 3), (1, 1)}
    assert {(tp.partition, tp.offset) for tp in first_offsets(messages[2:])} == {(0, 1)}


def test_at_least_once_produces_waits_for_every_ack_then_stores_and_commits():
    journal, consumer, producer = clients()
    delivery = AtLeastOnce(consumer, producer, 5.0)
    delivery.deliver(batch(consumer), OUTPUTS)
    assert journal.calls("produce", "flush", "acknowledged", "store_offsets", "commit") == [
        "produce", "produce", "flush", "acknowledged", "store_offsets", "commit",
    ]  # fmt: skip
    assert journal.details("store_offsets") == [{0: 2, 1: 2}]
    assert producer.outputs == [("out", b"u", b"answer-1"), ("dlq", b"u", b"bad")]
    assert producer.acknowledged[1].headers == [("error.reason", b"x")]


def test_at_least_once_commits_nothing_when_the_broker_refuses_an_output():
    journal, consumer, producer = clients()
    producer.refuse(1)
    delivery = AtLeastOnce(consumer, producer, 5.0)
    with pytest.raises(DeliveryFailed, match="2 outputs failed"):
        delivery.deliver(batch(consumer), OUTPUTS)
    assert "store_offsets" not in journal.calls() and consumer.committed == {}
    delivery.deliver(batch(consumer), OUTPUTS)  # the next batch starts clean
    assert consumer.committed == {0: 4, 1: 4}


def test_at_least_once_commits_nothing_when_an_output_is_refused_locally():
    journal, consumer, producer = clients()
    producer.refuse_locally(1)
    delivery = AtLeastOnce(consumer, producer, 5.0)
    with pytest.raises(DeliveryFailed, match="refused") as failure:
        delivery.deliver(batch(consumer), OUTPUTS)
    assert isinstance(failure.value, EncoreError)
    assert "store_offsets" not in journal.calls() and consumer.committed == {}


def test_a_full_local_queue_is_waited_out_and_counted():
    journal, consumer, producer = clients(queue_limit=1)
    waits = []
    delivery = AtLeastOnce(consumer, producer, 5.0, lambda: waits.append(1))
    outputs = [("out", b"u", f"a{i}".encode(), None) for i in range(4)]
    delivery.deliver(batch(consumer), outputs)
    assert [v for _, _, v in producer.outputs] == [b"a0", b"a1", b"a2", b"a3"]  # in order
    assert len(waits) == 3 == journal.calls().count("buffer_full")
    assert journal.calls("buffer_full", "poll")[:2] == ["buffer_full", "poll"]


def test_at_least_once_commit_now_is_synchronous_and_quiet_when_nothing_is_stored():
    journal, consumer, producer = clients()
    delivery = AtLeastOnce(consumer, producer, 5.0)
    delivery.commit_now()  # _NO_OFFSET: nothing to do
    assert journal.calls("commit_sync") == ["commit_sync"]


def test_exactly_once_puts_outputs_and_offsets_in_one_transaction():
    journal, consumer, producer = clients()
    delivery = ExactlyOnce(consumer, producer, 5.0)
    delivery.deliver(batch(consumer), OUTPUTS)
    assert journal.calls(
        "init_transactions",
        "begin_transaction",
        "produce",
        "send_offsets_to_transaction",
        "acknowledged",
        "commit_transaction",
        "store_offsets",
        "commit",
    ) == [
        "init_transactions", "begin_transaction", "produce", "produce",
        "send_offsets_to_transaction", "acknowledged", "commit_transaction",
    ]  # fmt: skip
    assert producer.sent_offsets == [{0: 2, 1: 2}]
    delivery.commit_now()  # offsets went with the transaction: nothing else to commit
    assert "commit_sync" not in journal.calls()


def test_exactly_once_aborts_when_an_output_is_refused_locally():
    journal, consumer, producer = clients()
    producer.refuse_locally(1)
    delivery = ExactlyOnce(consumer, producer, 5.0)
    with pytest.raises(DeliveryFailed):
        delivery.deliver(batch(consumer), OUTPUTS)
    assert journal.calls("begin_transaction", "abort_transaction", "commit_transaction") == [
        "begin_transaction",
        "abort_transaction",
    ]
    assert "send_offsets_to_transaction" not in journal.calls() and producer.outputs == []


def test_exactly_once_aborts_when_the_commit_fails_and_retries_cleanly():
    journal, consumer, producer = clients()
    producer.refuse(1)
    delivery = ExactlyOnce(consumer, producer, 5.0)
    with pytest.raises(DeliveryFailed, match="transaction failed"):
        delivery.deliver(batch(consumer), OUTPUTS)
    assert journal.calls()[-2:] == ["commit_transaction_failed", "abort_transaction"]
    assert producer.outputs == [] and producer.sent_offsets == []
    delivery.deliver(batch(consumer), OUTPUTS)
    assert len(producer.outputs) == 2 and producer.sent_offsets == [{0: 4, 1: 4}]


def test_exactly_once_raises_a_fatal_error_as_is_without_aborting():
    journal, consumer, producer = clients()
    producer.refuse(1, fatal=True)
    delivery = ExactlyOnce(consumer, producer, 5.0)
    with pytest.raises(KafkaException) as failure:
        delivery.deliver(batch(consumer), OUTPUTS)
    assert failure.value.args[0].fatal()
    assert "abort_transaction" not in journal.calls()
