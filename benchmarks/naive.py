"""The baseline: a consumer written the way the seed projects work, one message at a time.

json parse, dict lookup, scikit-learn brute-force `kneighbors` on one vector, json dump,
produce, auto-commit. Same catalog, same topics and the same answer content as Encore.
Run: python -m benchmarks.naive --bootstrap-servers H:P --catalog PATH --input-topic T ...
"""

from __future__ import annotations

import argparse
import json
import signal
from datetime import UTC, datetime

from confluent_kafka import Consumer, Producer
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from kafkaio.produce import produce
from recommender.ingest import read_catalog


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--input-topic", required=True)
    parser.add_argument("--output-topic", required=True)
    parser.add_argument("--group-id", default="naive")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()

    catalog = read_catalog(args.catalog)
    scaled = StandardScaler().fit_transform(catalog.features)
    nn = NearestNeighbors(n_neighbors=args.k + 1, algorithm="brute").fit(scaled)
    lookup = {str(t): i for i, t in enumerate(catalog.track_ids)}

    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap_servers,
            "group.id": args.group_id,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500,
        }
    )
    producer = Producer({"bootstrap.servers": args.bootstrap_servers})
    consumer.subscribe([args.input_topic])
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    while running[0]:
        msg = consumer.poll(0.5)
        if msg is None or msg.error():
            continue
        event = json.loads(msg.value())
        row = lookup[event["track_id"]]
        distances, indices = nn.kneighbors(scaled[row : row + 1])
        items = []
        for distance, j in zip(distances[0], indices[0], strict=True):
            if j == row or len(items) == args.k:
                continue
            items.append(
                {
                    "rank": len(items) + 1,
                    "track_id": str(catalog.track_ids[j]),
                    "score": float(1 / (1 + distance)),
                    "track_name": str(catalog.names[j]),
                    "artist": str(catalog.artists[j]),
                }
            )
        answer = {
            "event_id": event["event_id"],
            "user_id": event["user_id"],
            "seed_track_id": event["track_id"],
            "model": "naive-knn",
            "model_version": "0",
            "items": items,
            "generated_at": datetime.now(UTC).isoformat(),
            "schema_version": 1,
        }
        produce(producer, args.output_topic, json.dumps(answer).encode(), msg.key())
        producer.poll(0)
    producer.flush(30)
    consumer.close()


if __name__ == "__main__":
    main()
