"""Client settings shared by the producer-side commands."""

from __future__ import annotations

import argparse
import os
from typing import Any


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
