"""What the run loop needs of Kafka, as two small protocols.

`Input` is the part of `confluent_kafka.Consumer` the loop calls; `Delivery` is how a batch's
outputs reach the broker and its offsets get committed (`consumer.delivery`). The real clients
satisfy them; the unit tests pass in-memory fakes (`tests/fakes/kafka.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from confluent_kafka import Message, TopicPartition

from kafkaio.produce import Outgoing

__all__ = ["Delivery", "Input", "RebalanceCallback"]

# (the consumer, the partitions): confluent-kafka calls these from inside `consume`.
RebalanceCallback = Callable[[Any, list[TopicPartition]], None]


class Input(Protocol):
    def subscribe(
        self,
        topics: list[str],
        on_assign: RebalanceCallback | None = None,
        on_revoke: RebalanceCallback | None = None,
        on_lost: RebalanceCallback | None = None,
    ) -> None: ...

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Message]: ...

    def seek(self, partition: TopicPartition) -> None: ...


class Delivery(Protocol):
    # True: it is a `PipelinedDelivery` (at-least-once); False: only `deliver` (exactly-once).
    pipelined: bool

    def deliver(
        self,
        messages: Sequence[Message],
        outputs: list[Outgoing],
        changelog: Sequence[tuple[str, int, bytes, bytes | None]] = (),
    ) -> None:
        """Every output (and changelog record, to its partition) acknowledged, then the input
        offsets committed; or `DeliveryFailed` and nothing of the batch committed."""

    def commit_now(self) -> None:
        """Synchronously commit what was delivered (at revoke and at shutdown)."""

    def poll(self, timeout: float) -> None:
        """Serve the producer's delivery reports for up to `timeout` seconds."""


class PipelinedDelivery(Delivery, Protocol):
    """`deliver` in two halves, so a batch can be in flight while the next is processed."""

    def send(
        self,
        outputs: list[Outgoing],
        changelog: Sequence[tuple[str, int, bytes, bytes | None]] = (),
    ) -> None:
        """Produce a batch's outputs (the batch sent before is confirmed first)."""

    def confirm(self, messages: Sequence[Message]) -> None:
        """Everything sent acknowledged, then the batch's offsets committed; or
        `DeliveryFailed` and nothing of it committed."""
