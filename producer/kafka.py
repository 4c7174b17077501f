"""Client settings shared by the producer-side commands."""

from __future__ import annotations

import argparse
import os
import signal
import time
from typing import Any

from confluent_kafka import Producer


class StopFlag:
    """SIGINT/SIGTERM set a flag the command's loop checks, instead of raising mid-call."""

    def __init__(self) -> None:
        self.stopped = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)

    def _stop(self, _signum: int, _frame: object) -> None:
        self.stopped = True

    def running(self) -> bool:
        return not self.stopped


def poll_until(producer: Producer, due: float, longest_s: float = 0.05) -> None:
    """Serve delivery reports until `due` (a `time.monotonic()` instant).

    poll() takes whole milliseconds, so sub-millisecond waits sleep instead: a poll(0) spin
    would steal a core from the broker and the service on a small machine.
    """
    while (ahead := due - time.monotonic()) > 0:
        if ahead >= 0.002:
            producer.poll(min(ahead, longest_s))
        else:
            time.sleep(ahead)


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("ENCORE_BOOTSTRAP_SERVERS", "localhost:9092"),
    )
    parser.add_argument(
        "--kafka-option", action="append", default=[], metavar="KEY=VALUE", help="repeatable"
    )


def client_config(args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"bootstrap.servers": args.bootstrap_servers}
    for pair in args.kafka_option:
        key, _, value = pair.partition("=")
        config[key] = value
    config.update(extra)
    return config
