"""The answer cache: bounded, and invisible in what is answered."""

import json

import pytest
from cases import event
from test_decode import CATALOG, FakeMessage

from consumer.answer_cache import AnswerCache
from consumer.batch import BatchProcessor
from consumer.serving import ModelSet
from recommender.recommender import knn


def test_lru_keeps_the_most_recent_entries():
    cache = AnswerCache(2)
    cache.put((1, 10, False), b"a")
    cache.put((2, 10, False), b"b")
    assert cache.get((1, 10, False)) == b"a"  # 1 is now the most recent
    cache.put((3, 10, False), b"c")
    assert cache.get((2, 10, False)) is None
    assert len(cache) == 2
    with pytest.raises(ValueError):
        AnswerCache(0)


def batch(seed_rows, k=None):
    ids = [str(CATALOG.track_ids[r]) for r in seed_rows]
    return [FakeMessage(b"u", event(event_id=f"e{i}", track_id=t, k=k)) for i, t in enumerate(ids)]


def answers(result):
    return [json.loads(v) for _, v in result.recommendations]


def test_cached_answers_equal_computed_ones():
    model = knn(CATALOG)
    cached = BatchProcessor(ModelSet(CATALOG, [model], answer_cache=100), 10, 65536)
    plain = BatchProcessor(ModelSet(CATALOG, [model]), 10, 65536)
    messages = batch([1, 2, 3, 1, 2]) + batch([1], k=3)
    first = cached.process(messages)
    assert (first.cache_lookups, first.cache_hits) == (6, 0)  # in one batch, nothing cached yet
    second = cached.process(messages)
    assert (second.cache_lookups, second.cache_hits) == (6, 6)
    reference = plain.process(messages)
    assert reference.cache_lookups == 0
    strip = lambda answer: {k: v for k, v in answer.items() if k != "generated_at"}  # noqa: E731
    for got, want in zip(answers(second), answers(reference), strict=True):
        assert strip(got) == strip(want)
    assert len(answers(second)[-1]["items"]) == 3  # k is part of the key
