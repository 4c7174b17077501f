"""`python -m producer`: publish selections (`select`, `simulate`), read answers (`tail`), and
add, change and remove catalog tracks at runtime (`catalog publish|put|delete`)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

from confluent_kafka import Producer

from kafkaio.config import add_connection_args, connection_from_args
from kafkaio.produce import poll_until, produce
from kafkaio.stop import Stop
from producer.catalog import add_catalog_commands
from producer.events import encode, listeners, selection
from producer.tail import tail
from recommender.catalog import BUNDLED_CATALOG
from recommender.errors import run_command
from recommender.ingest import read_catalog


def _select(args: argparse.Namespace) -> int:
    features = json.loads(args.features) if args.features else None
    event = selection(args.user_id, args.track_id, features, args.k, args.model, args.event_id)
    producer = Producer(connection_from_args(args).client_config())
    key, value = encode(event)
    produce(producer, args.topic, value, key)
    if producer.flush(10) > 0:
        print("not delivered within 10s", file=sys.stderr)
        return 1
    print(value.decode())
    return 0


def _simulate(args: argparse.Namespace) -> int:
    """Send `--count` selections (0: until interrupted) at `--rate` per second."""
    connection = connection_from_args(args)
    catalog = read_catalog(args.catalog)
    producer = Producer(connection.client_config(**{"linger.ms": 5}))
    events = listeners(
        catalog, args.users, args.seed, args.models.split(",") if args.models else None
    )
    start, sent = time.monotonic(), 0
    with Stop().on_signals() as stop:
        while not stop.is_set() and (args.count == 0 or sent < args.count):
            # Pace against the clock, not with fixed sleeps, so the rate holds under load.
            due = start + sent / args.rate
            if due > time.monotonic():  # wait in slices, so a stop signal is seen within 0.5 s
                poll_until(producer, min(due, time.monotonic() + 0.5))
                continue
            key, value = encode(next(events))
            produce(producer, args.topic, value, key)
            sent += 1
            producer.poll(0)
        producer.flush(10)
    print(f"sent {sent} selections", file=sys.stderr)
    return 0


def _tail(args: argparse.Namespace) -> int:
    connection = connection_from_args(args)
    labels = titles = None
    if args.catalog is not None:  # show each song's genre, so a reader can judge the answers
        catalog = read_catalog(args.catalog)
        titles = {
            t: f"{name} - {artist}"
            for t, name, artist in zip(
                catalog.track_ids, catalog.names, catalog.artists, strict=True
            )
        }
        column = next((c for c in catalog.extra.columns if "genre" in c.lower()), None)
        if column is not None:
            labels = dict(zip(catalog.track_ids, catalog.labels(column).astype(str), strict=True))
    # A reader that goes away (piped into head) is not an error.
    with contextlib.suppress(BrokenPipeError), Stop().on_signals() as stop:
        tail(connection, args.topic, sys.stdout, args.from_beginning, stop, labels, titles)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m producer", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    select = commands.add_parser("select", help="publish one selection")
    select.add_argument("--track-id")
    select.add_argument("--features", help="JSON object, e.g. '{\"energy\": 0.8, ...}'")
    select.add_argument("--user-id", required=True)
    select.add_argument("--k", type=int)
    select.add_argument("--model")
    select.add_argument("--event-id")
    select.add_argument("--topic", default="song-selected")
    select.set_defaults(handler=_select)

    simulate = commands.add_parser("simulate", help="simulated listeners picking catalog songs")
    simulate.add_argument("--rate", type=float, default=5.0, help="selections per second")
    simulate.add_argument("--count", type=int, default=0, help="0: until interrupted")
    simulate.add_argument("--users", type=int, default=50)
    simulate.add_argument("--models", help="comma list to rotate through (default: the service's)")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument("--catalog", type=Path, default=BUNDLED_CATALOG)
    simulate.add_argument("--topic", default="song-selected")
    simulate.set_defaults(handler=_simulate)

    tail_cmd = commands.add_parser("tail", help="print recommendations as they arrive")
    tail_cmd.add_argument("--topic", default="recommendations")
    tail_cmd.add_argument("--from-beginning", action="store_true")
    tail_cmd.add_argument(
        "--catalog", type=Path, help="name each seed and show each song's genre from this catalog"
    )
    tail_cmd.set_defaults(handler=_tail)

    for sub in (select, simulate, tail_cmd):
        add_connection_args(sub)
    add_catalog_commands(commands)
    args = parser.parse_args(argv)
    if args.command == "select" and (args.track_id is None) == (args.features is None):
        parser.error("select takes exactly one of --track-id and --features")
    return run_command(lambda: int(args.handler(args)), parser.prog)


if __name__ == "__main__":
    sys.exit(main())
