"""Catalog tracks to the catalog topic (compacted, key: `track_id`), acknowledged or a 503.

The topic is created compacted on first use when it is missing (a compacted topic keeps the
latest value of every track, which is what an instance starting later must read).
"""

from __future__ import annotations

import asyncio
import threading

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from kafkaio.produce import produce
from kafkaio.topics import wait_for_topics
from schemas import CatalogTrack
from web.problems import ProblemError
from web.settings import WebSettings

COMPACTED = {"cleanup.policy": "compact"}


class CatalogPublisher:
    """An idempotent producer polled on its own thread; `publish` returns once the broker
    acknowledged the track (`acks=all`), so 202 means it is on the topic."""

    def __init__(self, settings: WebSettings) -> None:
        self.topic = settings.catalog_topic
        self._settings = settings
        self._timeout_s = settings.publish_timeout_s
        self._producer = Producer(
            settings.kafka.client_config(
                **{
                    "client.id": f"encore-web-catalog-{settings.instance_id}",
                    "enable.idempotence": True,
                    "acks": "all",
                    "linger.ms": 1,
                    "message.timeout.ms": int(settings.publish_timeout_s * 1000),
                }
            )
        )
        self._topic_ready = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="encore-web-catalog", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.1)

    async def publish(self, track: CatalogTrack) -> None:
        if not self._topic_ready:
            await asyncio.to_thread(self._ensure_topic)
        loop = asyncio.get_running_loop()
        acked: asyncio.Future[KafkaError | None] = loop.create_future()

        def on_delivery(error: KafkaError | None, _message: object) -> None:
            loop.call_soon_threadsafe(_settle, acked, error)

        value, key = track.model_dump_json().encode(), track.track_id.encode()
        try:
            await asyncio.to_thread(
                produce, self._producer, self.topic, value, key, on_delivery=on_delivery
            )
            error = await asyncio.wait_for(acked, self._timeout_s + 1.0)
        except KafkaException as exc:
            raise _unavailable(f"Kafka refused the track: {exc}") from None
        except TimeoutError:
            raise _unavailable(f"Kafka did not acknowledge within {self._timeout_s:g} s") from None
        if error is not None:
            raise _unavailable(f"Kafka did not take the track: {error.str()}")

    def _ensure_topic(self) -> None:
        """Create the topic, compacted, if it is missing (another instance may race us)."""
        admin = AdminClient(self._settings.kafka.client_config())
        timeout = self._timeout_s
        try:
            if self.topic not in admin.list_topics(timeout=timeout).topics:
                new = NewTopic(
                    self.topic,
                    num_partitions=self._settings.partitions,
                    replication_factor=self._settings.replication_factor,
                    config=COMPACTED,
                )
                future = admin.create_topics([new], operation_timeout=timeout)[self.topic]
                try:
                    future.result(timeout=timeout)
                except KafkaException as exc:
                    if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                        raise
            wait_for_topics(admin, [self.topic], timeout)
        except (KafkaException, TimeoutError) as exc:
            raise _unavailable(f"the catalog topic {self.topic} is not available: {exc}") from None
        self._topic_ready = True

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._producer.flush(1)


def _settle(future: asyncio.Future[KafkaError | None], error: KafkaError | None) -> None:
    if not future.done():
        future.set_result(error)


def _unavailable(detail: str) -> ProblemError:
    return ProblemError(503, detail, {"Retry-After": "5"})
