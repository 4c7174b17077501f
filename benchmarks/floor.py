"""The latency floor: what the broker and the Kafka clients alone cost an answer.

    python -m benchmarks.floor --bootstrap-servers HOST:PORT --input IN --output OUT

An echo: every input message is produced again to the output topic, unread and unchanged,
by a consumer and a producer with the service's own librdkafka settings
(`consumer.kafka_config`) and its loop (whatever is fetched, else wake on the first arrival;
offsets stored and committed after the batch is handed to the producer), until SIGTERM. Paced
selections through it measure, on the same broker and machine as a service run, the part of
an answer's latency that no work in Encore can remove; `Bench.floor` does that.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from confluent_kafka import Consumer, Producer

from consumer.kafka_config import consumer_config, producer_config
from consumer.settings import Guarantee, Settings

READY = "assigned"  # printed once the group gave the echo its partitions


def echo(settings: Settings, stop: threading.Event) -> None:
    consumer = Consumer(consumer_config(settings))
    producer = Producer(producer_config(settings))

    def assigned(_consumer: Any, partitions: list[Any]) -> None:
        if partitions:
            print(READY, flush=True)

    consumer.subscribe([settings.input_topic], on_assign=assigned)
    try:
        while not stop.is_set():
            messages = consumer.consume(settings.batch_size, 0) or consumer.consume(
                1, settings.batch_timeout_s
            )
            data = [m for m in messages if not m.error()]
            for message in data:
                producer.produce(settings.output_topic, message.value(), message.key())
            producer.poll(0)
            for message in data:
                consumer.store_offsets(message)
            if data:
                consumer.commit(asynchronous=True)
        producer.flush(30)
    finally:
        consumer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--group", default="encore-floor")
    args = parser.parse_args(argv)
    settings = Settings(
        bootstrap_servers=args.bootstrap_servers,
        input_topic=args.input,
        output_topic=args.output,
        group_id=args.group,
        processing_guarantee=Guarantee.AT_LEAST_ONCE,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    echo(settings, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
