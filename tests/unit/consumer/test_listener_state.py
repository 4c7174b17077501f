"""Listener state without a broker: the codec, the store, and a batch's answers from it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from confluent_kafka import Message

from consumer.batch import BatchProcessor
from consumer.serving import ModelSet
from consumer.state.codec import (
    ListenerState,
    decode_state,
    encode_state,
    event_key,
    last_seen_ms,
)
from consumer.state.listeners import StatePolicy, withheld_rows
from consumer.state.processor import StatefulProcessor, StatefulResult, distinct_per_request
from consumer.state.store import PartitionStore, Stores
from consumer.state.variants import Variants
from recommender.catalog import Catalog
from recommender.errors import ConfigurationError
from recommender.features import AUDIO_FEATURES
from recommender.recommender import knn
from schemas import DeadLetterReason

FEEDBACK = "song-feedback"
NOW_MS = 1_800_000_000_000


def catalog(n: int = 300, seed: int = 3) -> Catalog:
    """`n` random songs, one artist each; the last one is an exact copy (features) of song 0
    under another id, name and artist: a near-duplicate the catalog does not know as one."""
    rng = np.random.default_rng(seed)
    features = rng.uniform(0.05, 0.95, size=(n, len(AUDIO_FEATURES)))
    features[-1] = features[0]
    frame = pd.DataFrame(features, columns=list(AUDIO_FEATURES))
    frame.insert(0, "track_id", [f"t{i:04d}" for i in range(n)])
    frame.insert(1, "track_name", [f"Song {i}" for i in range(n)])
    frame.insert(2, "artist", [f"Artist {i}" for i in range(n)])
    return Catalog.from_frame(frame)


CATALOG = catalog()
TRACKS = [str(t) for t in CATALOG.track_ids]


def models() -> ModelSet:
    return ModelSet(CATALOG, [knn(CATALOG, version="v")])


def message(topic: str, value: dict, offset: int, partition: int = 0) -> Message:
    return Message(
        topic=topic,
        partition=partition,
        offset=offset,
        key=value["user_id"].encode(),
        value=json.dumps(value).encode(),
        timestamp=(1, NOW_MS),
    )


def selection(i: int, track: str, user: str = "u1", **fields: object) -> dict:
    return {"event_id": f"s{i}", "user_id": user, "track_id": track, **fields}


def feedback(i: int, track: str, action: str, user: str = "u1") -> dict:
    return {"event_id": f"f{i}", "user_id": user, "track_id": track, "action": action}


class Rig:
    def __init__(
        self, root: Path, policy: StatePolicy | None = None, variants=(), cached: int = 50_000
    ) -> None:
        self.stores = Stores(root)
        self.stores.open(0)
        self.variants = Variants(list(variants), ["knn"])
        base = BatchProcessor(models(), 10, 64 * 1024, self.variants)
        self.processor = StatefulProcessor(
            base,
            self.stores,
            policy or StatePolicy(),
            FEEDBACK,
            self.variants,
            lambda: NOW_MS,
            cached=cached,
        )
        self.offset = 0

    def batch(self, events: list[tuple[str, dict]], write: bool = True) -> StatefulResult:
        messages = []
        for topic, value in events:
            messages.append(message(topic, value, self.offset))
            self.offset += 1
        return self.replay(messages, write)

    def replay(self, messages: list[Message], write: bool = True, sweep: bool = False):
        result = self.processor.process(messages, sweep=sweep)
        if write:  # delivered: the store follows, and the decoded states may be kept
            for partition, changes in result.writes.items():
                self.stores.get(partition).write(changes, result.existed[partition])
            self.processor.settled(result)
        return result

    def state(self, user: str = "u1") -> ListenerState:
        (value,) = self.stores.get(0).get_many([user.encode()])
        assert value is not None
        return decode_state(value)


def answers(result: StatefulResult) -> list[dict]:
    return [json.loads(value) for _, value in result.recommendations]


def items(answer: dict) -> list[str]:
    return [item["track_id"] for item in answer["items"]]


def test_codec_round_trip_is_compact():
    state = ListenerState(NOW_MS)
    for i in range(50):
        state.record(f"event-{i:05d}", TRACKS[i], "select" if i % 3 else "like", NOW_MS + i, 50)
    state.shown = [(event_key(f"event-{i}"), tuple(TRACKS[i : i + 10])) for i in range(3)]
    state.disliked = [TRACKS[7]]
    state.set_profile("knn@v1", 2.5, np.arange(9, dtype=np.float32).tobytes())
    value = encode_state(state)
    assert decode_state(value) == state
    assert last_seen_ms(value) == NOW_MS
    assert len(value) < 1_500  # 50 events, 3 answers and a profile


# A state as msgpack-python wrote it (format 1, before ormsgpack): stores and changelogs
# written by earlier versions must read unchanged, and the encoding must not drift.
FORMAT_1 = bytes.fromhex(
    "000001a3185c5000980192a57430303031a57430303032a2736c92ce6b49d2003c92c4081b5d5e51f54f0f04"
    "c408fed135082f0eff789192c4081b5d5e51f54f0f0492a57430303033a5743030303491a5743030303981a6"
    "6b6e6e40763192cb3ff8000000000000c40c000000000000803f00000040"
)


def test_the_encoding_is_the_one_earlier_versions_wrote():
    state = ListenerState(1_800_000_000_000)
    state.record("e1", "t0001", "select", 1_800_000_000_000, 50)
    state.record("e2", "t0002", "like", 1_800_000_060_000, 50)
    state.show(event_key("e1"), ["t0003", "t0004"], (), 3)
    state.disliked = ["t0009"]
    state.set_profile("knn@v1", 1.5, np.arange(3, dtype=np.float32).tobytes())
    assert encode_state(state) == FORMAT_1
    assert decode_state(FORMAT_1) == state


def test_store_writes_counts_and_checkpoints_survive_reopening(tmp_path):
    store = PartitionStore(tmp_path / "p0")
    assert store.checkpoint is None
    store.write({b"a": b"1", b"b": b"2"}, {}, checkpoint=7)
    store.write({b"a": b"3", b"b": None}, {b"a": True, b"b": True})
    assert store.get_many([b"a", b"b", b"c"]) == [b"3", None, None]
    assert store.listeners == 1
    store.close()
    again = PartitionStore(tmp_path / "p0")
    assert (again.checkpoint, again.listeners, again.get_many([b"a"])) == (7, 1, [b"3"])
    again.close()


def test_thirty_selections_never_repeat_heard_or_recently_shown(tmp_path):
    rig = Rig(tmp_path)
    track, selected, shown = TRACKS[5], [], []
    for i in range(30):
        # One selection per batch: the listener picks the last song of the previous answer.
        (answer,) = answers(rig.batch([("in", selection(i, track))]))
        got = items(answer)
        assert len(got) == 10
        assert not set(got) & set(selected), i
        for earlier in shown[-3:]:
            assert not set(got) & set(earlier), i
        assert answer["variant"] == "default"
        assert answer["schema_version"] == 1
        selected.append(track)
        shown.append(got)
        track = got[-1]
    assert list(rig.state().tracks) == selected


def test_selections_of_one_listener_in_one_batch_see_each_other(tmp_path):
    rig = Rig(tmp_path)
    first, second = answers(
        rig.batch([("in", selection(0, TRACKS[5])), ("in", selection(1, TRACKS[5]))])
    )
    assert not set(items(first)) & set(items(second))
    assert second["excluded_heard"] == 10  # the first answer (its seed is the same song)


def test_replayed_batch_counts_once_and_answers_the_same(tmp_path):
    rig = Rig(tmp_path)
    rig.batch([("in", selection(0, TRACKS[1])), (FEEDBACK, feedback(0, TRACKS[2], "like"))])
    events = [
        ("in", selection(1, TRACKS[3])),
        (FEEDBACK, feedback(1, TRACKS[4], "skip")),
        ("in", selection(2, TRACKS[9])),
    ]
    messages = [message(t, v, 10 + i) for i, (t, v) in enumerate(events)]
    once = rig.replay(messages)
    state = rig.state()
    twice = rig.replay(messages)  # a crash after the changelog was acknowledged
    assert rig.state() == state
    assert len(state.tracks) == 5 and len(state.shown) == 3
    assert once.feedback == {("default", "skip"): 1} and twice.feedback == {}
    strip = [{k: v for k, v in a.items() if k != "generated_at"} for a in answers(once)]
    again = [{k: v for k, v in a.items() if k != "generated_at"} for a in answers(twice)]
    assert again == strip
    assert twice.changelog == []  # nothing new to write


def test_disliked_songs_and_their_near_duplicates_never_come_back(tmp_path):
    rig = Rig(tmp_path)
    copy = TRACKS[-1]  # same features as TRACKS[0]
    (before,) = answers(
        rig.batch([("in", selection(0, TRACKS[0], user="u2", exclude_heard=False))])
    )
    assert copy in items(before)
    rig.batch([(FEEDBACK, feedback(0, TRACKS[0], "dislike", user="u2"))])
    seed = next(t for t in items(before) if t != copy)  # T0 and its copy are close to it
    (after,) = answers(rig.batch([("in", selection(1, seed, user="u2", exclude_heard=False))]))
    assert TRACKS[0] not in items(after) and copy not in items(after)
    assert list(rig.state("u2").disliked) == [TRACKS[0]]


def test_fresh_false_lets_shown_songs_back_and_exclude_heard_false_everything(tmp_path):
    rig = Rig(tmp_path)
    (first,) = answers(rig.batch([("in", selection(0, TRACKS[5]))]))
    (fresh,) = answers(rig.batch([("in", selection(1, TRACKS[5]))]))
    (stale,) = answers(rig.batch([("in", selection(2, TRACKS[5], fresh=False))]))
    (all_back,) = answers(rig.batch([("in", selection(3, TRACKS[5], exclude_heard=False))]))
    assert not set(items(first)) & set(items(fresh))
    assert items(stale) == items(first)  # only the seed itself was heard
    assert items(all_back) == items(first)
    assert (fresh["excluded_heard"], stale["excluded_heard"], all_back["excluded_heard"]) == (
        10,
        0,
        0,
    )
    assert stale["schema_version"] == 2 and stale["constraints"]["fresh"] is False


def test_session_mode_blends_the_taste_profile(tmp_path):
    rig = Rig(tmp_path)
    for i, row in enumerate(range(100, 110)):
        rig.batch([(FEEDBACK, feedback(i, TRACKS[row], "like"))])
    track = selection(50, TRACKS[5], exclude_heard=False)
    session = selection(51, TRACKS[5], exclude_heard=False, seed_mode="session", session_weight=0.9)
    (by_track,) = answers(rig.batch([("in", track)], write=False))
    (by_session,) = answers(rig.batch([("in", session)], write=False))
    assert items(by_track) != items(by_session)
    (key,) = rig.state().profiles  # one model, one version: knn@v
    assert key == "knn@v"
    profile = rig.state().profile(key, 9)
    assert profile.weight > 0
    embedding = rig.processor.models.get("knn").recommender.catalog_embedding
    liked = embedding[100:110].mean(axis=0)

    def distance(answer: dict) -> float:
        rows = [CATALOG.index[t] for t in items(answer)]
        return float(np.linalg.norm(embedding[rows] - liked, axis=1).mean())

    assert distance(by_session) < distance(by_track)


def test_bad_feedback_is_dead_lettered_and_changes_nothing(tmp_path):
    rig = Rig(tmp_path)
    result = rig.batch(
        [
            (FEEDBACK, feedback(0, "no-such-track", "like")),
            (FEEDBACK, {"event_id": "f1", "user_id": "u1", "track_id": TRACKS[1], "action": "hum"}),
        ]
    )
    assert [r.value for r in result.reasons] == ["unknown_track", "invalid_schema"]
    assert result.changelog == [] and result.recommendations == []


def test_idle_listeners_are_swept_with_tombstones(tmp_path):
    rig = Rig(tmp_path, StatePolicy(ttl_s=60))
    rig.batch([("in", selection(0, TRACKS[1], user="old"))])
    rig.processor.clock_ms = lambda: NOW_MS + 61_000
    result = rig.replay([message("in", selection(1, TRACKS[2], user="new"), 99)], sweep=True)
    assert (0, b"old", None) in result.changelog and result.expired == 1
    rig.processor.clock_ms = lambda: NOW_MS
    (answer,) = answers(rig.batch([("in", selection(2, TRACKS[1], user="old"))]))
    assert answer["excluded_heard"] == 0


def test_variants_split_listeners_stably_by_share():
    variants = Variants(["a=knn:0.25", "b=knn"], ["knn"])
    names = [variants.of(f"user-{i}").name for i in range(4000)]
    assert 0.22 < names.count("a") / len(names) < 0.28
    assert names == [
        Variants(["a=knn:0.25", "b=knn"], ["knn"]).of(f"user-{i}").name for i in range(4000)
    ]
    for bad in (["a=knn:0.5", "b=knn:0.2"], ["a=pca"], ["nope"], ["a=knn", "a=knn"]):
        with pytest.raises(ConfigurationError):
            Variants(bad, ["knn"])


def test_a_replayed_selection_withholds_what_it_withheld_the_first_time():
    state = ListenerState()
    for i in range(5):
        state.record(f"s{i}", TRACKS[i], "select", i, 50)
        state.show(event_key(f"s{i}"), [TRACKS[100 + i]], (), 50)
    state.locate(CATALOG, CATALOG.index)
    again, _ = withheld_rows(state, event_key("s2"), True, True, 3)
    assert [TRACKS[r] for r in again] == [TRACKS[0], TRACKS[1], TRACKS[100], TRACKS[101]]
    latest, _ = withheld_rows(state, event_key("s9"), True, True, 3)
    assert [TRACKS[r] for r in latest] == [*TRACKS[:5], TRACKS[102], TRACKS[103], TRACKS[104]]


def test_a_new_model_version_starts_the_profile_over():
    state = ListenerState()
    state.set_profile("pca@1", 1.0, np.ones(9, np.float32).tobytes())
    state.set_profile("knn@1", 1.0, np.ones(9, np.float32).tobytes())
    state.set_profile("pca@2", 1.0, np.ones(5, np.float32).tobytes())
    assert sorted(state.profiles) == ["knn@1", "pca@2"]
    assert state.profile("pca@2", 9).weight == 0.0  # another width: not this space's


def test_decoded_states_kept_in_memory_answer_as_the_store_would(tmp_path):
    """The same mixed sequence (selections, feedback, replays, a batch never delivered)
    through a processor keeping decoded states and one decoding every time."""
    rng = np.random.default_rng(5)
    events = []
    for i in range(120):
        user = f"u{rng.integers(4)}"
        track = TRACKS[int(rng.integers(len(TRACKS)))]
        if rng.random() < 0.3:
            action = ["like", "skip", "dislike"][int(rng.integers(3))]
            events.append((FEEDBACK, feedback(i, track, action, user=user)))
        else:
            mode = "session" if rng.random() < 0.5 else "track"
            events.append(("in", selection(i, track, user=user, seed_mode=mode)))
    rigs = [Rig(tmp_path / "cached"), Rig(tmp_path / "decoded", cached=0)]
    outputs: list[list[list[dict]]] = [[], []]
    for start in range(0, len(events), 7):
        chunk = events[start : start + 7]
        delivered = start % 5 != 0  # every fifth batch fails: not written, retried
        for rig, out in zip(rigs, outputs, strict=True):
            out.append(_comparable(rig.batch(chunk, write=delivered)))
            if not delivered:
                out.append(_comparable(rig.batch(chunk)))
    assert outputs[0] == outputs[1]
    for user in ("u0", "u1", "u2", "u3"):
        assert rigs[0].state(user) == rigs[1].state(user)
    assert 0 < len(rigs[0].processor._cache) <= 4 and not rigs[1].processor._cache


def _comparable(result: StatefulResult) -> list[dict]:
    return [{k: v for k, v in a.items() if k != "generated_at"} for a in answers(result)]


def test_an_undelivered_batch_leaves_no_trace_in_memory(tmp_path):
    rig = Rig(tmp_path)
    (first,) = answers(rig.batch([("in", selection(0, TRACKS[5]))]))
    lost = rig.batch([("in", selection(1, TRACKS[9]))], write=False)  # delivery failed
    rig.processor.forget()
    (again,) = answers(rig.batch([("in", selection(2, TRACKS[5], fresh=False))]))
    assert TRACKS[9] in items(answers(lost)[0]) or answers(lost)
    assert list(rig.state().tracks) == [TRACKS[5], TRACKS[5]]  # the lost selection is not in it
    assert items(again) == items(first)


def test_an_unreadable_stored_state_starts_over(tmp_path):
    rig = Rig(tmp_path, cached=0)
    rig.batch([("in", selection(0, TRACKS[5]))])
    store = rig.stores.get(0)
    (value,) = store.get_many([b"u1"])
    store.write({b"u1": value[:8] + b"\xc1garbage"}, {b"u1": True})  # 0xc1: never msgpack
    result = rig.batch([("in", selection(1, TRACKS[9]))])
    assert result.unreadable == 1 and len(answers(result)) == 1
    assert list(rig.state().tracks) == [TRACKS[9]]


def test_a_failing_state_batch_is_answered_without_state(tmp_path, monkeypatch):
    rig = Rig(tmp_path)
    rig.batch([("in", selection(0, TRACKS[5]))])

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(rig.processor, "_round", broken)
    messages = [
        message("in", selection(1, TRACKS[5]), 10),
        message(FEEDBACK, feedback(2, TRACKS[7], "like"), 11),
    ]
    with pytest.raises(RuntimeError):
        rig.processor.process(messages)
    result = rig.processor.stateless(messages, RuntimeError("a bug"))
    (answer,) = answers(result)
    assert answer["event_id"] == "s1" and "excluded_heard" not in answer
    assert result.reasons == [DeadLetterReason.INTERNAL] and not result.changelog
    assert not rig.processor._cache  # nothing half-applied is trusted afterwards
    assert list(rig.state().tracks) == [TRACKS[5]]


def test_distinct_per_request_counts_like_a_set_per_request():
    rng = np.random.default_rng(5)
    for n in (1, 3, 40):
        sizes = rng.integers(0, 12, n)  # some requests withhold nothing
        request = np.repeat(np.arange(n), sizes)
        values = rng.integers(0, 15, len(request))  # small range: many repeats
        expected = [len(set(values[request == i].tolist())) for i in range(n)]
        assert distinct_per_request(request, values, n).tolist() == expected
    assert distinct_per_request(np.empty(0, np.int64), np.empty(0, np.int64), 2).tolist() == [0, 0]
