"""Print recommendations readably as they arrive."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TextIO

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, TopicPartition

from kafkaio.config import KafkaConnection
from kafkaio.stop import Stop


def describe(
    answer: dict[str, Any],
    items: int = 3,
    labels: Mapping[str, str] | None = None,
    titles: Mapping[str, str] | None = None,
) -> str:
    """One line per answer; with `labels` (track id -> genre), each song shows its label, and
    with `titles` (track id -> "name - artist"), the seed shows its name rather than its id
    (an answer names its songs, not its seed)."""

    def tag(track_id: str | None) -> str:
        label = (labels or {}).get(track_id or "")
        return f" [{label}]" if label else ""

    seed_id = answer.get("seed_track_id")
    seed = f"{(titles or {}).get(seed_id, seed_id)}{tag(seed_id)}" if seed_id else "features"
    picks = "; ".join(
        f"{i['rank']}. {i['track_name']} - {i['artist']}{tag(i['track_id'])} ({i['score']:.2f})"
        for i in answer["items"][:items]
    )
    more = len(answer["items"]) - items
    suffix = f" (+{more} more)" if more > 0 else ""
    return f"[{answer['model']}] {answer['user_id']} picked {seed} -> {picks}{suffix}"


def tail(
    connection: KafkaConnection,
    topic: str,
    out: TextIO,
    from_beginning: bool = False,
    stop: Stop | None = None,
    labels: Mapping[str, str] | None = None,
    titles: Mapping[str, str] | None = None,
) -> int:
    """Print answers until `stop` is set; returns how many."""
    stop = stop or Stop()
    # A reader with no group: it assigns itself every partition, so it starts at once.
    consumer = Consumer(
        connection.client_config(
            **{
                "group.id": "encore-tail",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            }
        )
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    start = OFFSET_BEGINNING if from_beginning else OFFSET_END
    consumer.assign([TopicPartition(topic, p, start) for p in partitions])
    seen = 0
    try:
        while not stop.is_set():
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            seen += 1
            out.write(
                describe(json.loads(message.value() or b"{}"), labels=labels, titles=titles) + "\n"
            )
            out.flush()
    finally:
        consumer.close()
    return seen
