"""The API follows the catalog topic too, so a direct answer and the page never show a removed
song, and `POST`/`DELETE /v1/tracks` publish to it.

A thread reads the topic (every partition, no group: `consumer.catalog_topic`); the records
are decoded and applied on the event loop (`consumer.catalog_feed`), where the direct answers
run, so a search never meets an index being changed. The API is ready once the topic is
replayed to the end it had at start.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from consumer.catalog_feed import CatalogFeed, TimedMessage
from consumer.catalog_topic import CatalogTopic
from consumer.metrics import CatalogMetrics
from consumer.serving import ModelSet
from web.live import KafkaPublisher
from web.metrics import WebMetrics
from web.settings import WebSettings
from web.state import ModelState

__all__ = ["CatalogFollower", "CatalogPublisher", "kafka_catalog"]

log = logging.getLogger(__name__)


class CatalogPublisher:
    """Tracks (`CatalogTrack` JSON) and tombstones onto the catalog topic, acknowledged (the
    API's publisher, its metrics labelled by the catalog topic)."""

    def __init__(self, settings: WebSettings, metrics: WebMetrics) -> None:
        self.topic = settings.catalog_topic
        self._kafka = KafkaPublisher(settings, metrics)

    async def publish(self, key: str, value: bytes | None) -> None:
        await self._kafka.publish(self.topic, key, value)

    def close(self) -> None:
        self._kafka.close()


class CatalogFollower:
    """Applies the catalog topic to `state`; `replayed` once it has caught up at start."""

    def __init__(
        self,
        state: ModelState,
        feed: CatalogFeed,
        topic: CatalogTopic | None,
        partitions: int = 6,
        replication_factor: int = 1,
    ) -> None:
        self.state, self.feed, self.topic = state, feed, topic
        self._created_with = (partitions, replication_factor)
        self.replayed = topic is None
        self.reachable: bool | None = None  # None until the first try to read the topic
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="encore-web-catalog", daemon=True)
        state.on_reloaded = self._reloaded

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        if self.topic is not None:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        if self.topic is not None:
            self.topic.close()

    @property
    def holds_readiness(self) -> bool:
        """Whether /readyz must wait: the topic is readable but not replayed yet. With Kafka
        down the API serves the file's catalog (as it answers directly without Kafka) and
        replays once it can read the topic."""
        return not self.replayed and self.reachable is not False

    def latest(self, models: ModelSet, count: int = 10) -> list[int]:
        return self.feed.latest(models, count)

    def _run(self) -> None:
        assert self.topic is not None
        consumer = self.topic.consumer
        while not self._stop.is_set():
            try:
                self.topic.ensure(*self._created_with)
                self.topic.assign()
                self.reachable = True
                break
            except Exception as exc:  # the broker not up yet: the file's catalog meanwhile
                log.warning("catalog topic %s not readable yet: %s", self.topic.topic, exc)
                self.reachable = False
                self._stop.wait(1.0)
        caught_up = False
        while not self._stop.is_set():
            messages = [m for m in consumer.consume(10_000, 0.2) if self.topic.usable(m)]
            # Every record up to the end offsets was read before `caught_up` turns True.
            caught_up = caught_up or self.topic.caught_up()
            if messages or not self.replayed:
                self._call(self._step, messages, caught_up)

    def _call(self, function: Any, *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(function, *args)

    def _step(self, messages: list[TimedMessage], caught_up: bool) -> None:
        """On the event loop: decode, and apply once the models are there."""
        self.feed.add(messages)
        if self.state.ready:
            models = self.state.current().models
            fresh = self.feed.apply(models)
            if fresh is None and caught_up and not self.replayed:
                fresh = self.feed.prepare(models)  # the O(n) first apply, before ready
            if fresh is not None:
                self.state.swap(fresh, catalog_update=True)
            if caught_up and not self.replayed:
                self.replayed = True
                self.feed.metrics.tracks.set(self.state.current().models.track_count)
                log.info("catalog topic replayed")
        if self.topic is not None:
            self.topic.send_dead_letters(self.feed)

    def _reloaded(self, models: ModelSet) -> None:
        """From the reload thread: new model files; the topic's records go on top of them."""
        self._call(lambda: self.state.swap(self.feed.rebase(models)))


def kafka_catalog(
    settings: WebSettings, metrics: WebMetrics, state: ModelState
) -> tuple[CatalogPublisher | None, CatalogFollower]:
    """The catalog edges of `python -m web`: none but the file's when the topic is empty."""
    catalog_metrics = CatalogMetrics(metrics.registry)
    feed = CatalogFeed(catalog_metrics)
    if not settings.catalog_topic:
        return None, CatalogFollower(state, feed, None)
    topic = CatalogTopic(
        settings.kafka,
        settings.catalog_topic,
        settings.catalog_dlq_topic,
        f"encore-web-catalog-{settings.instance_id}",
        catalog_metrics,
    )
    follower = CatalogFollower(state, feed, topic, settings.partitions, settings.replication_factor)
    return CatalogPublisher(settings, metrics), follower
