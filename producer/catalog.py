"""`python -m producer catalog publish|put|delete`: tracks onto the compacted catalog topic.

Key: the track id; value: a `schemas.CatalogTrack` JSON object, or null (a tombstone) to
remove the track. Every record is waited for until the broker acknowledged it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from confluent_kafka import KafkaError, Message, Producer
from pydantic import ValidationError

from kafkaio.config import KafkaConnection, add_connection_args, connection_from_args
from kafkaio.produce import poll_until, produce
from kafkaio.stop import Stop
from recommender.catalog import Catalog
from recommender.errors import ConfigurationError
from recommender.features import DEFAULT_FEATURE_SET
from recommender.snapshot import load_catalog_cached
from schemas import CatalogTrack

__all__ = ["add_catalog_commands", "catalog_records", "track_record"]

DEFAULT_TOPIC = "encore.catalog"
ACK_TIMEOUT_S = 60.0


def track_record(track: dict[str, Any]) -> tuple[bytes, bytes]:
    """(key, value) of one track: validated against `CatalogTrack`, or a ConfigurationError."""
    try:
        model = CatalogTrack.model_validate_json(json.dumps(track))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'track'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"not a CatalogTrack: {problems}") from None
    return model.track_id.encode(), model.model_dump_json(exclude_none=True).encode()


def catalog_records(catalog: Catalog) -> Iterator[tuple[bytes, bytes]]:
    """One `CatalogTrack` per row: its features by name (extras too), its label columns."""
    now = int(time.time() * 1000)
    names = list(catalog.feature_names)
    labels = [str(c) for c in catalog.extra.columns]
    extra = [catalog.extra[c].tolist() for c in catalog.extra.columns]
    for row, values in enumerate(catalog.features.tolist()):
        track: dict[str, Any] = {
            "track_id": str(catalog.track_ids[row]),
            "track_name": str(catalog.names[row]),
            "artist": str(catalog.artists[row]),
            "features": {n: round(v, 6) for n, v in zip(names, values, strict=True)},
            "updated_at": now,
        }
        given = {c: str(col[row]) for c, col in zip(labels, extra, strict=True) if _set(col[row])}
        if given:
            track["labels"] = given
        yield track["track_id"].encode(), json.dumps(track, separators=(",", ":")).encode()


def _set(value: object) -> bool:
    if isinstance(value, float):
        return not math.isnan(value)
    return value is not None and value != ""


class _Acks:
    """Counts acknowledgements and failures from delivery reports."""

    def __init__(self) -> None:
        self.acked = 0
        self.failed: list[KafkaError] = []

    def __call__(self, error: KafkaError | None, _message: Message) -> None:
        if error is None:
            self.acked += 1
        else:
            self.failed.append(error)


class Progress:
    """`published 12,000/28,355 (42 %), 1,000/s` on one line of stderr, at most twice a second."""

    def __init__(self, total: int, out: TextIO = sys.stderr) -> None:
        self.total, self.out = total, out
        self.started = self._last = time.monotonic()

    def show(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.5:
            return
        self._last = now
        rate = done / max(now - self.started, 1e-9)
        width = 30
        filled = int(width * done / self.total) if self.total else width
        bar = "#" * filled + "." * (width - filled)
        share = 100 * done / self.total if self.total else 100.0
        self.out.write(f"\r[{bar}] {done:,}/{self.total:,} ({share:.0f} %), {rate:,.0f}/s")
        self.out.flush()


def _producer(connection: KafkaConnection) -> Producer:
    return Producer(
        connection.client_config(**{"enable.idempotence": True, "acks": "all", "linger.ms": 5})
    )


def _finish(producer: Producer, acks: _Acks, sent: int) -> int:
    if producer.flush(ACK_TIMEOUT_S) > 0 or acks.failed:
        first = acks.failed[0].str() if acks.failed else "timed out"
        print(f"{sent - acks.acked} of {sent} records not acknowledged: {first}", file=sys.stderr)
        return 1
    return 0


def _publish(args: argparse.Namespace) -> int:
    """Every track of an export (loaded and cleaned as the service loads it), rate-limited."""
    connection = connection_from_args(args)
    features = [f.strip() for f in args.features.split(",") if f.strip()]
    catalog = load_catalog_cached(args.path, None, tuple(features))
    producer, acks = _producer(connection), _Acks()
    progress = Progress(len(catalog))
    start, sent = time.monotonic(), 0
    with Stop().on_signals() as stop:
        for key, value in catalog_records(catalog):
            if stop.is_set():
                break
            if args.rate > 0:
                poll_until(producer, start + sent / args.rate)
            produce(producer, args.topic, value, key, on_delivery=acks)
            sent += 1
            producer.poll(0)
            progress.show(sent)
        status = _finish(producer, acks, sent)
    progress.show(sent, force=True)
    print(f"\npublished {acks.acked:,} tracks to {args.topic}", file=sys.stderr)
    return status


def _put(args: argparse.Namespace) -> int:
    try:
        track = json.loads(args.json)
    except ValueError as exc:
        raise ConfigurationError(f"--json is not JSON: {exc}") from None
    if not isinstance(track, dict):
        raise ConfigurationError("--json must be a JSON object (a CatalogTrack)")
    track.setdefault("updated_at", datetime.now(UTC).isoformat(timespec="milliseconds"))
    key, value = track_record(track)
    return _send(args, key, value, f"put {key.decode()}")


def _delete(args: argparse.Namespace) -> int:
    if not args.track_id:
        raise ConfigurationError("TRACK_ID must not be empty")
    return _send(args, args.track_id.encode(), None, f"deleted {args.track_id}")


def _send(args: argparse.Namespace, key: bytes, value: bytes | None, done: str) -> int:
    producer, acks = _producer(connection_from_args(args)), _Acks()
    produce(producer, args.topic, value, key, on_delivery=acks)
    status = _finish(producer, acks, 1)
    if status == 0:
        print(f"{done} on {args.topic}", file=sys.stderr)
    return status


def add_catalog_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    catalog = commands.add_parser("catalog", help="add, change and remove tracks at runtime")
    actions = catalog.add_subparsers(dest="action", required=True)

    publish = actions.add_parser("publish", help="publish every track of a catalog file")
    publish.add_argument("path", type=Path, metavar="PATH", help="any export the service reads")
    publish.add_argument("--rate", type=float, default=0.0, help="records per second (0: no limit)")
    publish.add_argument(
        "--features",
        default=DEFAULT_FEATURE_SET,
        help="auto, audio or a comma list, as the service's --features (default: auto)",
    )
    publish.set_defaults(handler=_publish)

    put = actions.add_parser("put", help="add or replace one track")
    put.add_argument("--json", required=True, help="a CatalogTrack object")
    put.set_defaults(handler=_put)

    delete = actions.add_parser("delete", help="remove one track (a tombstone)")
    delete.add_argument("track_id", metavar="TRACK_ID")
    delete.set_defaults(handler=_delete)

    for sub in (publish, put, delete):
        sub.add_argument("--topic", default=DEFAULT_TOPIC, help=f"default: {DEFAULT_TOPIC}")
        add_connection_args(sub)
