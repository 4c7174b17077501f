"""Version 1 and version 2 selections in one batch: v1 answered as before, v2 shaped."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_decode import FakeMessage

from consumer.batch import BatchProcessor
from consumer.serving import ModelSet
from recommender.catalog import Catalog
from recommender.recommender import knn
from recommender.text import normalise_text
from recommender.training.synthetic import generate_catalog
from schemas import Recommendations

CATALOG = Catalog.from_frame(generate_catalog(400, seed=3))
IDS = [str(t) for t in CATALOG.track_ids]


def processor(cache: int = 0) -> BatchProcessor:
    return BatchProcessor(ModelSet(CATALOG, [knn(CATALOG)], answer_cache=cache), 10, 64 * 1024)


def message(i: int, **fields: object) -> FakeMessage:
    body = {"event_id": f"e{i}", "user_id": f"u{i % 3}", **fields}
    return FakeMessage(f"u{i % 3}".encode(), json.dumps(body).encode(), i)


def answers(result) -> list[Recommendations]:
    return [Recommendations.model_validate_json(v) for _, v in result.recommendations]


@pytest.mark.parametrize("cache", [0, 1000])
def test_version_1_is_unchanged_and_version_2_is_shaped_in_input_order(cache):
    batch = processor(cache)
    v1 = message(0, track_id=IDS[5])
    v2 = message(1, track_id=IDS[5], schema_version=2, max_per_artist=1, explain=True)
    v1_again = message(2, track_id=IDS[7])
    result = batch.process([v1, v2, v1_again])
    first, shaped, last = answers(result)
    assert [a.event_id for a in (first, shaped, last)] == ["e0", "e1", "e2"]
    plain = knn(CATALOG).recommend(np.array([5]), 10).rows[0]
    assert [i.track_id for i in first.items] == [IDS[r] for r in plain]
    assert first.schema_version == 1 and first.exhausted is None and first.constraints is None
    assert shaped.schema_version == 2 and shaped.exhausted is False
    assert shaped.constraints == {"max_per_artist": 1, "explain": True}
    artists = [normalise_text(i.artist) for i in shaped.items]
    seed_artist = normalise_text(CATALOG.artists[5])
    assert len(set(artists)) == len(artists) and seed_artist not in artists
    assert all(i.because and len(i.because) <= 3 for i in shaped.items)
    assert result.published == {"knn": 3}


def test_several_seeds_ranges_and_exclusions_hold():
    seeds, excluded = IDS[:3], IDS[3:40]
    result = processor().process(
        [
            message(
                0,
                seed_track_ids=seeds,
                min_tempo=90.0,
                max_tempo=140.0,
                exclude_track_ids=excluded,
                diversity=0.3,
                pool=100,
                schema_version=2,
            )
        ]
    )
    (answer,) = answers(result)
    assert answer.seed_track_id == seeds[0] and len(answer.items) == 10
    rows = [CATALOG.index[i.track_id] for i in answer.items]
    tempo = CATALOG.features[rows, CATALOG.feature_names.index("tempo")]
    assert ((tempo >= 90) & (tempo <= 140)).all()
    assert not set(i.track_id for i in answer.items) & set(seeds + excluded)


@pytest.mark.parametrize(
    "fields,reason,field",
    [
        ({"track_id": IDS[0], "min_tempo": 150, "max_tempo": 100}, "invalid_schema", "min_tempo"),
        ({"track_id": IDS[0], "target_loudnes": -5}, "invalid_schema", "target_loudnes"),
        ({"seed_track_ids": [IDS[0], "nosuch"]}, "unknown_track", "seed_track_ids"),
        ({"track_id": IDS[0], "pool": 5, "k": 10}, "invalid_schema", "pool"),
        ({"seed_track_ids": IDS[:6]}, "invalid_schema", "seed_track_ids"),
    ],
)
def test_invalid_combinations_are_dead_lettered_naming_the_field(fields, reason, field):
    result = processor().process([message(0, schema_version=2, **fields)])
    assert result.recommendations == [] and [r.value for r in result.reasons] == [reason]
    headers = dict(result.dead_letters[0][2])
    assert field.encode() in headers["error.message"]


def test_a_default_version_2_answer_is_cached_and_the_same_the_second_time():
    batch = processor(cache=1000)
    first = batch.process([message(0, track_id=IDS[9], schema_version=2)])
    again = batch.process([message(1, track_id=IDS[9], schema_version=2)])
    assert again.cache_hits == 1
    assert answers(first)[0].items == answers(again)[0].items


def test_a_feature_seed_lacking_an_extra_is_answered_and_says_what_was_imputed():
    frame = generate_catalog(300, seed=4)
    frame["popularity"] = np.arange(len(frame)) % 100
    catalog = Catalog.from_frame(frame, (*CATALOG.feature_names, "popularity"))
    batch = BatchProcessor(ModelSet(catalog, [knn(catalog)]), 10, 64 * 1024)
    audio = dict(zip(CATALOG.feature_names, catalog.features[0, :-1].tolist(), strict=True))
    for version in (1, 2):
        result = batch.process([message(0, features=audio, schema_version=version)])
        (answer,) = answers(result)
        assert answer.imputed == ["popularity"] and len(answer.items) == 10
    complete = batch.process([message(1, features={**audio, "popularity": 50.0})])
    assert answers(complete)[0].imputed is None
