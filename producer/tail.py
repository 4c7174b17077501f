"""Print recommendations readably as they arrive."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TextIO

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, TopicPartition


def describe(answer: dict[str, Any], items: int = 3) -> str:
    seed = answer.get("seed_track_id") or "features"
    picks = "; ".join(
        f"{i['rank']}. {i['track_name']} - {i['artist']} ({i['score']:.2f})"
        for i in answer["items"][:items]
    )
    more = len(answer["items"]) - items
    suffix = f" (+{more} more)" if more > 0 else ""
    return f"[{answer['model']}] {answer['user_id']} picked {seed} -> {picks}{suffix}"


def tail(
    config: dict[str, Any],
    topic: str,
    out: TextIO,
    from_beginning: bool = False,
    keep_going: Callable[[], bool] = lambda: True,
) -> int:
    # A reader with no group: it assigns itself every partition, so it starts at once.
    consumer = Consumer(
        {
            **config,
            "group.id": "encore-tail",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    start = OFFSET_BEGINNING if from_beginning else OFFSET_END
    consumer.assign([TopicPartition(topic, p, start) for p in partitions])
    seen = 0
    try:
        while keep_going():
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            seen += 1
            out.write(describe(json.loads(message.value() or b"{}")) + "\n")
            out.flush()
    finally:
        consumer.close()
    return seen
