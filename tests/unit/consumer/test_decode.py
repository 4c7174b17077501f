"""The decoder and batch processor on every kind of bad input, with no broker."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
from cases import GOOD_FEATURES, bad_cases, event
from hypothesis import given, settings
from hypothesis import strategies as st

from consumer.batch import BatchProcessor
from consumer.decode import Rejected, decode
from consumer.serving import ModelSet
from recommender.catalog import Catalog
from recommender.recommender import knn
from recommender.training.synthetic import generate_catalog
from schemas import DeadLetterReason, Recommendations, SongSelected

CATALOG = Catalog.from_frame(generate_catalog(300, seed=1))
KNOWN = str(CATALOG.track_ids[0])
MAX_BYTES = 64 * 1024


@dataclass
class FakeMessage:
    """What a batch reads from `confluent_kafka.Message`."""

    _key: bytes | None
    _value: bytes | None
    _offset: int = 0
    _headers: list[tuple[str, bytes]] | None = None

    def key(self):
        return self._key

    def value(self):
        return self._value

    def topic(self):
        return "song-selected"

    def partition(self):
        return 2

    def offset(self):
        return self._offset

    def headers(self): return self._headers  # fmt: skip


@pytest.fixture(scope="module")
def processor() -> BatchProcessor:
    return BatchProcessor(ModelSet(CATALOG, [knn(CATALOG), knn(CATALOG, "cosine")]), 10, MAX_BYTES)


@pytest.mark.parametrize(
    "name,key,value,reason", bad_cases(KNOWN), ids=[c[0] for c in bad_cases(KNOWN)]
)
def test_each_bad_input_is_dead_lettered_with_its_reason(processor, name, key, value, reason):
    good = FakeMessage(b"u", event(track_id=KNOWN), 1)
    bad = FakeMessage(key, value, 2, [("trace", b"abc")])
    result = processor.process([good, bad, FakeMessage(b"u", event(track_id=KNOWN), 3)])
    assert len(result.recommendations) == 2
    assert [r.value for r in result.reasons] == [reason]
    dead_key, dead_value, headers = result.dead_letters[0]
    assert (dead_key, dead_value) == (key, value)
    h = dict(headers)
    assert h["error.reason"] == reason.encode()
    assert h["source.topic"] == b"song-selected"
    assert h["source.partition"] == b"2" and h["source.offset"] == b"2"
    assert h["trace"] == b"abc"  # the producer's own headers travel along


def test_answers_follow_the_contract(processor):
    messages = [
        FakeMessage(b"u1", event(event_id="a", user_id="u1", track_id=KNOWN, k=3)),
        FakeMessage(
            b"u2", event(event_id="b", user_id="u2", features=GOOD_FEATURES, model="knn-cosine")
        ),
        FakeMessage(b"u3", event(event_id="c", user_id="u3", track_id=KNOWN, with_features=True)),
    ]
    result = processor.process(messages)
    answers = {
        json.loads(v)["event_id"]: Recommendations.model_validate_json(v)
        for _, v in result.recommendations
    }
    assert len(answers["a"].items) == 3 and answers["a"].seed_track_id == KNOWN
    assert answers["a"].model == "knn"
    assert answers["b"].model == "knn-cosine" and answers["b"].seed_track_id is None
    assert len(answers["b"].items) == 10
    assert answers["c"].items[0].features is not None
    assert set(answers["c"].items[0].features) == set(CATALOG.feature_names)
    assert result.published == {"knn": 2, "knn-cosine": 1}
    # Same seed, same model: same answer whatever else is in the batch.
    assert [i.track_id for i in answers["a"].items] == [i.track_id for i in answers["c"].items[:3]]


def test_a_model_failure_dead_letters_its_events_as_internal(processor, monkeypatch):
    served = processor.models.get("knn")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    # A built recommender is immutable: break the method of its class for this test.
    monkeypatch.setattr(type(served.recommender), "recommend", broken)
    result = processor.process([FakeMessage(b"u", event(track_id=KNOWN))])
    assert result.recommendations == [] and result.reasons == [DeadLetterReason.INTERNAL]
    assert b"boom" in dict(result.dead_letters[0][2])["error.message"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512), st.one_of(st.none(), st.binary(max_size=16)))
def test_decoder_never_raises_on_arbitrary_bytes(value, key):
    outcome = decode(key, value, MAX_BYTES)
    assert isinstance(outcome, Rejected | SongSelected)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "event_id": json_values,
            "user_id": json_values,
            "track_id": json_values,
            "features": json_values
            | st.dictionaries(st.sampled_from(sorted(GOOD_FEATURES)), st.floats()),
            "k": json_values,
            "model": json_values,
        },
    )
)
def test_batch_never_raises_on_arbitrary_json_objects(payload):
    processor = BatchProcessor(ModelSet(CATALOG, [knn(CATALOG)]), 10, MAX_BYTES)
    result = processor.process([FakeMessage(b"u", json.dumps(payload).encode())])
    assert len(result.recommendations) + len(result.dead_letters) == 1


def test_feature_seed_vector_is_in_catalog_order(processor):
    ordered = {name: GOOD_FEATURES[name] for name in reversed(list(GOOD_FEATURES))}
    result = processor.process([FakeMessage(b"u", event(features=ordered))])
    answer = json.loads(result.recommendations[0][1])
    seed = np.array([GOOD_FEATURES[n] for n in CATALOG.feature_names], dtype=np.float32)
    expected = knn(CATALOG).recommend(np.array([-1]), 10, seed[None, :]).rows[0]
    assert [i["track_id"] for i in answer["items"]] == [str(CATALOG.track_ids[r]) for r in expected]
