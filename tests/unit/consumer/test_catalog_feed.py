"""The catalog feed without a broker: records decoded, coalesced, applied between batches, and
what the next batch answers (new songs in, removed ones out, renamed ones renamed)."""

from __future__ import annotations

import json
import time

import pytest
from confluent_kafka import Message
from prometheus_client import CollectorRegistry

from consumer.batch import BatchProcessor
from consumer.catalog_feed import CatalogFeed
from consumer.catalog_records import decode_record
from consumer.decode import Rejected
from consumer.metrics import CatalogMetrics
from consumer.serving import ModelSet
from recommender.catalog import Catalog
from recommender.recommender import knn
from recommender.training.synthetic import generate_catalog
from schemas import DeadLetterReason, Recommendations

CATALOG = Catalog.from_frame(generate_catalog(300, seed=5))
IDS = [str(t) for t in CATALOG.track_ids]
_offset = iter(range(1_000_000))


def track(track_id: str, like: int, name: str = "New Song", artist: str = "New Artist") -> dict:
    """A track whose features are those of catalog row `like`."""
    features = dict(zip(CATALOG.feature_names, CATALOG.features[like].tolist(), strict=True))
    return {"track_id": track_id, "track_name": name, "artist": artist, "features": features}


def record(key: str | bytes | None, value: dict | bytes | None) -> Message:
    raw = json.dumps(value).encode() if isinstance(value, dict) else value
    return Message(
        topic="encore.catalog",
        partition=0,
        offset=next(_offset),
        key=key.encode() if isinstance(key, str) else key,
        value=raw,
        timestamp=(1, int(time.time() * 1000)),
    )


def selection(track_id: str, i: int = 0) -> Message:
    body = {"event_id": f"e{i}", "user_id": "u", "track_id": track_id, "k": 5}
    return Message(topic="in", partition=0, offset=i, key=b"u", value=json.dumps(body).encode())


@pytest.fixture
def setup() -> tuple[CatalogFeed, ModelSet, CatalogMetrics]:
    metrics = CatalogMetrics(CollectorRegistry())
    return CatalogFeed(metrics), ModelSet(CATALOG, [knn(CATALOG)], answer_cache=100), metrics


def answer_ids(models: ModelSet, track_id: str) -> list[str]:
    result = BatchProcessor(models, 10, 64 * 1024).process([selection(track_id)])
    (_, value), *_ = result.recommendations
    return [item.track_id for item in Recommendations.model_validate_json(value).items]


def test_decode_record_accepts_tracks_and_tombstones_and_classifies_the_rest() -> None:
    good = json.dumps(track("n1", 0)).encode()
    assert decode_record(b"n1", None) == ("n1", None)
    assert decode_record(b'"n1"', None) == ("n1", None)  # Debezium MongoDB's key
    assert decode_record(b'"n1"', good)[0] == "n1"
    decoded = decode_record(b"n1", good)
    assert not isinstance(decoded, Rejected) and decoded[1] is not None
    assert decoded[1].track_name == "New Song"
    cases = {
        (None, good): DeadLetterReason.INVALID_SCHEMA,
        (b"\xff", good): DeadLetterReason.INVALID_SCHEMA,
        (b"other", good): DeadLetterReason.INVALID_SCHEMA,  # key is not the track_id
        (b"n1", b""): DeadLetterReason.INVALID_JSON,
        (b"n1", b"{not json"): DeadLetterReason.INVALID_JSON,
        (b"n1", b'{"track_id": "n1"}'): DeadLetterReason.INVALID_SCHEMA,
        (b"n1", b"[1, 2]"): DeadLetterReason.INVALID_SCHEMA,
    }
    for (key, value), reason in cases.items():
        rejected = decode_record(key, value)
        assert isinstance(rejected, Rejected) and rejected.reason is reason, (key, value)


def test_a_new_track_like_x_is_recommended_for_x_and_a_tombstone_removes_it(setup) -> None:
    feed, models, metrics = setup
    x = IDS[7]
    before = answer_ids(models, x)
    assert feed.apply(models) is None  # nothing pending
    feed.add([record("twin", track("twin", 7, name="Twin of X"))])
    grown = feed.apply(models)
    assert grown is not None and grown.track_count == len(CATALOG) + 1
    assert answer_ids(grown, x)[0] == "twin"  # the same features: the nearest
    assert answer_ids(models, x) == before  # the set in hand is unchanged
    feed.add([record("twin", None)])
    shrunk = feed.apply(grown)
    assert shrunk is not None and "twin" not in shrunk.catalog.index
    assert "twin" not in answer_ids(shrunk, x)
    result = BatchProcessor(shrunk, 10, 64 * 1024).process([selection("twin")])
    assert result.reasons == [DeadLetterReason.UNKNOWN_TRACK]
    applied = {k: metrics.applied.labels(k)._value.get() for k in ("added", "removed")}
    assert applied == {"added": 1, "removed": 1}
    assert metrics.tracks._value.get() == len(CATALOG)


def test_a_renamed_neighbour_is_never_served_from_the_answer_cache(setup) -> None:
    feed, models, _ = setup
    x = IDS[3]
    processor = BatchProcessor(models, 10, 64 * 1024)
    processor.process([selection(x)])  # cached now
    first = answer_ids(models, x)[0]
    row = CATALOG.index[first]
    renamed = track(first, row, name="Renamed", artist=str(CATALOG.artists[row]))
    feed.add([record(first, renamed)])
    updated = feed.apply(models)
    assert updated is not None
    result = BatchProcessor(updated, 10, 64 * 1024).process([selection(x)])
    items = Recommendations.model_validate_json(result.recommendations[0][1]).items
    assert any(i.track_id == first and i.track_name == "Renamed" for i in items)


def test_records_coalesce_in_topic_order_and_bad_ones_are_dead_letters(setup) -> None:
    feed, models, metrics = setup
    bad_features = track("bad", 1)
    bad_features["features"]["energy"] = 7.0  # out of range
    feed.add(
        [
            record("a", track("a", 1)),
            record("a", None),  # removed again: the last record wins
            record("b", track("b", 2, name="first")),
            record("b", track("b", 2, name="second")),
            record("bad", bad_features),
            record("junk", b"{oops"),
        ]
    )
    assert [reason for _, reason in feed.dead_letters] == [DeadLetterReason.INVALID_JSON]
    updated = feed.apply(models)
    assert updated is not None
    assert "a" not in updated.catalog.index and "bad" not in updated.catalog.index
    assert updated.catalog.names[updated.catalog.index["b"]] == "second"
    reasons = [reason for _, reason in feed.dead_letters]
    assert reasons == [DeadLetterReason.INVALID_JSON, DeadLetterReason.INVALID_FEATURES]
    (key, value, headers), _ = feed.dead_letters[1]
    assert key == b"bad" and json.loads(value)["track_id"] == "bad"  # the original bytes
    header = dict(headers)
    assert header["error.reason"] == b"invalid_features" and b"energy" in header["error.message"]
    assert set(feed.state) == {"a", "b"}  # the rejected record changed nothing
    assert metrics.apply_latency._counts[""].sum() == 5  # every applied record, timed


def test_rebase_puts_every_record_on_freshly_loaded_models(setup) -> None:
    feed, models, _ = setup
    feed.add([record("n1", track("n1", 1)), record(IDS[0], None), record("n2", track("n2", 2))])
    live = feed.apply(models)
    feed.add([record("n2", None)])
    live = feed.apply(live) if live is not None else None
    assert live is not None
    fresh = feed.rebase(ModelSet(CATALOG, [knn(CATALOG)], answer_cache=100))
    assert set(fresh.catalog.index) == set(live.catalog.index)
    assert answer_ids(fresh, IDS[1]) == answer_ids(live, IDS[1])
    assert feed.latest(live) == [live.catalog.index["n1"]]
