"""Wiring: settings -> catalog and models -> topics -> clients -> the run loop, and back down."""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from types import FrameType

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient
from prometheus_client import CollectorRegistry

from consumer.delivery import AtLeastOnce, ExactlyOnce
from consumer.http import Health, serve_http
from consumer.kafka_config import admin_config, consumer_config, producer_config, redacted
from consumer.metrics import Metrics
from consumer.reload import ModelLoader
from consumer.service import Service
from consumer.serving import ModelSet
from consumer.settings import Guarantee, Settings
from consumer.topics import ensure_topics

log = logging.getLogger("encore")

FLUSH_TIMEOUT_S = 60.0


def _failed(future: Future[ModelSet]) -> bool:
    return future.done() and future.exception() is not None


def create_topics_when_reachable(
    settings: Settings, health: Health, keep_trying: Callable[[], bool]
) -> None:
    """Create the topics, retrying with backoff while the broker is unreachable."""
    admin = AdminClient(admin_config(settings))
    delay = 0.5
    while keep_trying():
        try:
            ensure_topics(
                admin,
                [settings.input_topic, settings.output_topic, settings.dlq_topic],
                settings.partitions,
                settings.replication_factor,
                timeout_s=10.0,
            )
            health.topics_ready = True
            return
        except (KafkaException, TimeoutError) as exc:
            log.warning("broker not ready (%s); retrying in %.1fs", exc, delay)
            deadline = time.monotonic() + delay
            while keep_trying() and time.monotonic() < deadline:
                time.sleep(0.1)
            delay = min(delay * 2, 10.0)


def delivery_class(settings: Settings) -> type[AtLeastOnce | ExactlyOnce]:
    if settings.processing_guarantee is Guarantee.EXACTLY_ONCE:
        return ExactlyOnce
    return AtLeastOnce


@contextlib.contextmanager
def clients(settings: Settings) -> Iterator[tuple[Consumer, Producer]]:
    delivery_cls = delivery_class(settings)
    config = consumer_config(settings)
    consumer = Consumer(config)
    producer = Producer({**producer_config(settings), **delivery_cls.producer_settings()})
    log.info("consumer config %s", redacted(config))
    try:
        yield consumer, producer
    finally:
        producer.flush(FLUSH_TIMEOUT_S)
        consumer.close()


def run(settings: Settings, registry: CollectorRegistry | None = None) -> int:
    registry = registry or CollectorRegistry()
    metrics = Metrics(registry)
    health = Health(settings.stall_timeout_s)
    should_run = [True]
    service: list[Service] = []
    loader = ModelLoader(settings)

    def on_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current batch", signum)
        should_run[0] = False
        for s in service:
            s.stop()

    with contextlib.ExitStack() as stack:
        server = serve_http(settings.metrics_host, settings.metrics_port, registry, health)
        stack.callback(server.server_close)
        stack.callback(server.shutdown)
        previous = {sig: signal.signal(sig, on_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda *_: loader.request_reload())
        for sig, handler in previous.items():
            stack.callback(signal.signal, sig, handler)

        stack.callback(loader.close)
        # Models load on a thread while the topics are checked and the group is joined.
        loader.check()
        loading = loader.load_in_background()
        create_topics_when_reachable(
            settings, health, lambda: should_run[0] and not _failed(loading)
        )
        if not should_run[0]:
            return 0
        if _failed(loading):
            loading.result()  # raises why
        consumer, producer = stack.enter_context(clients(settings))
        queue_full = metrics.producer_queue_full.inc
        delivery = delivery_class(settings)(consumer, producer, FLUSH_TIMEOUT_S, queue_full)
        service.append(Service(settings, consumer, delivery, metrics, health, loader.reload))
        service[0].subscribe()
        models = loading.result()
        health.model_loaded = True
        log.info("models %s on %d tracks", models.versions(), len(models.catalog))
        if not should_run[0]:
            return 0
        log.info(
            "consuming %s -> %s (%s)",
            settings.input_topic,
            settings.output_topic,
            settings.processing_guarantee.value,
        )
        service[0].run(models)
    log.info("stopped cleanly")
    return 0
