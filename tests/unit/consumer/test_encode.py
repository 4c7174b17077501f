"""The byte-level encoder against the pydantic contract, with text that needs escaping."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consumer.encode import RecommendationEncoder, quote, shaping_fields
from recommender.catalog import Catalog
from recommender.features import AUDIO_FEATURES
from schemas import Recommendations

TRICKY = [
    "plain",
    'quote " inside',
    "back\\slash",
    "tab\tnew\nline",
    "\x00\x1f",
    "naïve 東京 🎵",
    "\ud800 lone",
]


@pytest.mark.parametrize("text", TRICKY)
def test_quote_is_valid_json_for_any_text(text):
    encoded = quote(text)
    assert json.loads(encoded) == text
    encoded.decode("utf-8")  # always valid UTF-8, even for a lone surrogate


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None)))
def test_quote_round_trips(text):
    assert json.loads(quote(text)) == text


# Catalog text comes from UTF-8 files, so it never holds a lone surrogate (which pydantic's
# JSON parser would refuse).
NAMES = TRICKY[:-1]


def catalog() -> Catalog:
    rows = [
        {"track_id": f"id-{i}", "track_name": NAMES[i], "artist": NAMES[-1 - i]}
        | {f: 0.1 * i for f in AUDIO_FEATURES}
        for i in range(len(NAMES))
    ]
    return Catalog.from_frame(pd.DataFrame(rows))


def test_answers_validate_against_the_contract():
    cat = catalog()
    encoder = RecommendationEncoder(cat, "knn", "v1", clusters=np.arange(len(cat)))
    rows = np.array([3, 1, 0, -1])
    scores = np.array([0.9, 0.5, 0.25, 0.0], dtype=np.float32)
    at = b'"2026-01-01T00:00:00.000+00:00"'

    def encode(with_features: bool) -> bytes:
        body = encoder.items(rows, scores, with_features)
        return encoder.answer('ev"1', "user\\1", None, body, generated_at=at)

    raw = encode(with_features=True)
    answer = Recommendations.model_validate_json(raw)
    assert (
        answer.event_id == 'ev"1' and answer.user_id == "user\\1" and answer.seed_track_id is None
    )
    assert [i.track_id for i in answer.items] == ["id-3", "id-1", "id-0"]  # -1 padding dropped
    assert [i.rank for i in answer.items] == [1, 2, 3]
    assert answer.items[0].track_name == NAMES[3] and answer.items[1].artist == NAMES[-2]
    assert answer.items[0].cluster == 3
    assert answer.items[2].features == {f: 0.0 for f in AUDIO_FEATURES}
    # The cache gives the same bytes the second time.
    assert encode(True) == raw


def test_version_2_answers_carry_because_exhausted_and_constraints():
    cat = catalog()
    encoder = RecommendationEncoder(cat, "knn", "v1")
    rows, scores = np.array([2, 0]), np.array([0.8, 0.4], dtype=np.float32)
    body = encoder.items(rows, scores, because=(("tempo", "energy"), ("valence",)))
    extra = shaping_fields(True, {"max_per_artist": 1, "min_tempo": 90.0})
    raw = encoder.answer("e", None, "id-1", body, schema_version=2, extra=extra)
    answer = Recommendations.model_validate_json(raw)
    assert answer.user_id is None and answer.schema_version == 2 and answer.exhausted is True
    assert answer.constraints == {"max_per_artist": 1, "min_tempo": 90.0}
    assert [i.because for i in answer.items] == [["tempo", "energy"], ["valence"]]
