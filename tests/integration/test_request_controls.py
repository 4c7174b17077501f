"""Version 1 and version 2 selections mixed on one topic, through a real broker and service:
v1 answered as before, v2 shaped, invalid combinations dead-lettered with the right reason."""

from __future__ import annotations

import json
from collections import Counter

from harness import produce, read_topic

from recommender.catalog import BUNDLED_CATALOG
from recommender.ingest import read_catalog
from recommender.text import normalise_text
from schemas import Recommendations

CATALOG = read_catalog(BUNDLED_CATALOG)
IDS = [str(t) for t in CATALOG.track_ids]
TEMPO = CATALOG.feature_names.index("tempo")


def event(i: int, **fields: object) -> tuple[bytes, bytes]:
    user = f"user-{i % 11}"
    return user.encode(), json.dumps({"event_id": f"e-{i}", "user_id": user, **fields}).encode()


def test_a_mix_of_versions_and_invalid_combinations(service_factory, topics, broker):
    servers = broker.bootstrap_servers
    stream, invalid = [], Counter()
    for i in range(300):
        seed = IDS[(i * 31) % len(IDS)]
        kind = i % 5
        if kind == 0:
            stream.append(event(i, track_id=seed))  # version 1
        elif kind == 1:
            stream.append(event(i, track_id=seed, schema_version=2, max_per_artist=1))
        elif kind == 2:
            seeds = [IDS[(i * 31 + j * 97) % len(IDS)] for j in range(3)]
            stream.append(
                event(i, seed_track_ids=seeds, min_tempo=90, max_tempo=140, diversity=0.3,
                      exclude_track_ids=IDS[:50], pool=100, explain=True, schema_version=2)
            )  # fmt: skip
        elif kind == 3:
            stream.append(event(i, track_id=seed, min_tempo=150, max_tempo=100, schema_version=2))
            invalid["invalid_schema"] += 1
        else:
            stream.append(event(i, seed_track_ids=[seed, "no-such-track"], schema_version=2))
            invalid["unknown_track"] += 1

    with service_factory():
        produce(servers, topics[0], stream)
        answers = read_topic(servers, topics[1], 180, timeout_s=60, settle_s=1.0)
        dead = read_topic(servers, topics[2], 120, timeout_s=30, settle_s=0.5)

    assert len(answers) == 180
    reasons = Counter(dict(m.headers() or [])["error.reason"].decode() for m in dead)
    assert reasons == invalid
    for message in answers:
        answer = Recommendations.model_validate_json(message.value())
        kind = int(answer.event_id.removeprefix("e-")) % 5
        artists = [normalise_text(item.artist) for item in answer.items]
        if kind == 0:
            assert answer.schema_version == 1 and answer.constraints is None
            assert len(answer.items) == 10
        elif kind == 1:
            assert answer.schema_version == 2 and len(set(artists)) == len(artists)
        else:
            rows = [CATALOG.index[item.track_id] for item in answer.items]
            assert (
                (CATALOG.features[rows, TEMPO] >= 90) & (CATALOG.features[rows, TEMPO] <= 140)
            ).all()
            assert not {item.track_id for item in answer.items} & set(IDS[:50])
            assert all(item.because for item in answer.items)
            assert answer.constraints["diversity"] == 0.3
