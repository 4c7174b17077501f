"""Wiring: settings -> catalog and models -> topics -> clients -> the run loop, and back down."""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient
from prometheus_client import CollectorRegistry

from consumer import collector
from consumer.catalog_feed import CatalogFeed
from consumer.catalog_topic import COMPACTED, CatalogTopic, LiveCatalog
from consumer.delivery import AtLeastOnce, ExactlyOnce
from consumer.http import Health, serve_http
from consumer.kafka_config import admin_config, consumer_config, producer_config
from consumer.lag import PartitionLag
from consumer.metrics import Metrics
from consumer.reload import ModelLoader
from consumer.service import Service
from consumer.serving import ModelSet
from consumer.settings import Guarantee, Settings
from consumer.state.changelog import Restorer, ensure_co_partitioned
from consumer.state.keeper import ListenerKeeper
from consumer.state.listeners import StatePolicy
from consumer.state.store import Stores
from consumer.state.variants import Variants
from kafkaio.config import redacted
from kafkaio.stop import Stop
from kafkaio.topics import ensure_topics, topic_id

log = logging.getLogger("encore")

FLUSH_TIMEOUT_S = 60.0


def _failed(future: Future[ModelSet]) -> bool:
    return future.done() and future.exception() is not None


def create_topics_when_reachable(
    admin: AdminClient,
    settings: Settings,
    health: Health,
    keep_trying: Callable[[], bool],
    first_delay_s: float = 0.5,
) -> bool:
    """Create the topics, retrying with backoff while the broker is unreachable; False if
    `keep_trying` said stop first.

    Waiting for the broker counts as progress for /healthz: the loop is not stuck, and a pod
    restarted for a Kafka outage would only wait again, forever.
    """
    # One attempt must end well within the stall timeout, so liveness never lapses.
    attempt_s = min(10.0, settings.stall_timeout_s / 3)
    topics = [settings.input_topic, settings.output_topic, settings.dlq_topic]
    if settings.catalog_topic:
        topics.append(settings.catalog_dlq_topic)
    delay = first_delay_s
    while keep_trying():
        health.progressed()
        try:
            ensure_topics(
                admin, topics, settings.partitions, settings.replication_factor, attempt_s
            )
            if settings.catalog_topic:
                ensure_topics(
                    admin,
                    [settings.catalog_topic],
                    settings.partitions,
                    settings.replication_factor,
                    attempt_s,
                    config=COMPACTED,
                )
            health.topics_ready = True
            return True
        except (KafkaException, TimeoutError) as exc:
            log.warning("broker not ready (%s); retrying in %.1fs", exc, delay)
            deadline = time.monotonic() + delay
            while keep_trying() and (left := deadline - time.monotonic()) > 0:
                time.sleep(min(0.1, left))
                health.progressed()
            delay = min(delay * 2, 10.0)
    return False


def wait_for_models(loading: Future[ModelSet], health: Health, stop: Stop) -> ModelSet | None:
    """The loaded models (raising why they failed), or None if stopped first. Loading, even
    training with --train-missing, is progress."""
    while not loading.done():
        if stop.wait(0.1):
            return None
        health.progressed()
    return loading.result()


def delivery_class(settings: Settings) -> type[AtLeastOnce | ExactlyOnce]:
    if settings.processing_guarantee is Guarantee.EXACTLY_ONCE:
        return ExactlyOnce
    return AtLeastOnce


@contextlib.contextmanager
def clients(
    settings: Settings, stats_cb: Callable[[str], None] | None = None
) -> Iterator[tuple[Consumer, Producer]]:
    consumer_conf, producer_conf = consumer_config(settings, stats_cb), producer_config(settings)
    consumer = Consumer(consumer_conf)
    producer = Producer(producer_conf)
    log.info("consumer config %s", redacted(consumer_conf))
    log.info("producer config %s", redacted(producer_conf))
    try:
        yield consumer, producer
    finally:
        producer.flush(FLUSH_TIMEOUT_S)
        consumer.close()


@contextlib.contextmanager
def live_catalog(settings: Settings, metrics: Metrics) -> Iterator[LiveCatalog | None]:
    """The catalog topic's reader, assigned; None when `--catalog-topic` is empty."""
    if not settings.catalog_topic:
        yield None
        return
    topic = CatalogTopic(
        settings.kafka,
        settings.catalog_topic,
        settings.catalog_dlq_topic,
        f"encore-catalog-{settings.instance_id}",
        metrics.catalog,
    )
    try:
        topic.assign()
        yield LiveCatalog(topic, CatalogFeed(metrics.catalog))
    finally:
        topic.close()


def replayed(
    catalog: LiveCatalog | None, loading: Future[ModelSet], health: Health, stop: Stop
) -> ModelSet | None:
    """The loaded models with the whole catalog topic applied (read while they load), or
    None if stopped first."""
    if catalog is not None:
        health.catalog_replayed = False
        if not catalog.topic.replay(catalog.feed, stop, health.progressed):
            return None
    models = wait_for_models(loading, health, stop)
    if models is None or catalog is None:
        return models
    models = catalog.refresh(models) or catalog.feed.prepare(models)
    metrics = catalog.feed.metrics
    metrics.tracks.set(models.track_count)
    health.catalog_replayed = True
    return models


def restore_consumer_config(settings: Settings) -> dict[str, object]:
    """A consumer that is only ever assigned changelog partitions: no group membership, no
    commits; read_committed, so an aborted transaction's states are never restored."""
    config: dict[str, object] = {
        "group.id": f"{settings.group_id}-restore",
        "client.id": f"encore-{settings.instance_id}-restore",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": 10,
    }
    return settings.kafka.client_config(**config)


def listener_keeper(
    settings: Settings,
    admin: AdminClient,
    metrics: Metrics,
    health: Health,
    stack: contextlib.ExitStack,
    variants: Variants,
) -> ListenerKeeper:
    """The feedback and changelog topics checked (co-partitioned) or created, the stores'
    directory, the restore consumer."""
    partitions = ensure_co_partitioned(
        admin,
        settings.input_topic,
        settings.feedback_topic,
        settings.state_topic,
        settings.replication_factor,
    )
    root = settings.state_dir / settings.group_id / settings.input_topic
    log.info(
        "listener state in %s, changelog %s (%d partitions), feedback from %s",
        root,
        settings.state_topic,
        partitions,
        settings.feedback_topic,
    )
    restore = Consumer(restore_consumer_config(settings))
    stack.callback(restore.close)
    stores = Stores(root)
    policy = StatePolicy(
        settings.history, settings.shown, settings.profile_half_life, settings.state_ttl
    )
    restorer = Restorer(
        restore,
        settings.state_topic,
        stores,
        progressed=health.progressed,
        topic_id=lambda: topic_id(admin, settings.state_topic),
    )
    return ListenerKeeper(
        stores,
        restorer,
        policy,
        settings.feedback_topic,
        settings.state_topic,
        variants,
        metrics,
        health,
        cached=settings.state_cache,
    )


def run(settings: Settings, registry: CollectorRegistry | None = None) -> int:
    registry = registry or CollectorRegistry()
    metrics = Metrics(registry)
    health = Health(settings.stall_timeout_s)
    stop = Stop()
    loader = ModelLoader(settings)
    variants = Variants(settings.variant, settings.models)  # a bad --variant: exit 2 at once

    with contextlib.ExitStack() as stack:
        server = serve_http(settings.metrics_host, settings.metrics_port, registry, health)
        stack.callback(server.server_close)
        stack.callback(server.shutdown)
        stack.enter_context(stop.on_signals(signal.SIGTERM, signal.SIGINT))
        previous = signal.signal(signal.SIGHUP, lambda *_: loader.request_reload())
        stack.callback(signal.signal, signal.SIGHUP, previous)

        stack.callback(loader.close)
        # Models load on a thread while the topics are checked and the group is joined.
        loader.check()
        loading = loader.load_in_background()
        admin = AdminClient(admin_config(settings))
        if not create_topics_when_reachable(
            admin, settings, health, lambda: not stop.is_set() and not _failed(loading)
        ):
            if _failed(loading):
                loading.result()  # raises why
            return 0
        listeners = None
        if settings.state:
            listeners = listener_keeper(settings, admin, metrics, health, stack, variants)
        lag = PartitionLag(metrics.consumer_lag)
        consumer, producer = stack.enter_context(clients(settings, lag.on_stats))
        delivery = delivery_class(settings)(
            consumer, producer, FLUSH_TIMEOUT_S, metrics.producer_queue_full.inc
        )
        catalog = stack.enter_context(live_catalog(settings, metrics))
        service = Service(
            settings,
            consumer,
            delivery,
            metrics,
            health,
            stop,
            loader.reload,
            lag,
            catalog=catalog,
            listeners=listeners,
            variants=variants,
        )
        service.subscribe()
        models = replayed(catalog, loading, health, stop)
        if models is None:
            return 0
        health.model_loaded = True
        collector.tune()
        log.info("models %s on %d tracks", models.versions(), models.track_count)
        log.info(
            "consuming %s -> %s (%s)",
            settings.input_topic,
            settings.output_topic,
            settings.processing_guarantee.value,
        )
        service.run(models)
    log.info("stopped cleanly")
    return 0
