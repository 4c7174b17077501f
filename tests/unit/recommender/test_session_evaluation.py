"""The offline session evaluation: hand-made sessions on small catalogs, and the command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.__main__ import main
from recommender.catalog import Catalog
from recommender.errors import ConfigurationError, MissingColumn
from recommender.evaluation import metrics
from recommender.evaluation.sessions import (
    SessionPlan,
    answers,
    evaluate_sessions,
    profile_of,
    read_sessions,
    sample_sessions,
    scores,
    sessions_of,
    walk,
)
from recommender.profile import TasteProfile, session_query
from recommender.recommender import Recommender, knn
from recommender.training.synthetic import generate_catalog

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def _line_catalog(xs: list[float]) -> Catalog:
    """Songs on a line: one feature, x."""
    n = len(xs)
    features = np.asarray(xs, np.float32)[:, None]
    return Catalog(
        track_ids=np.array([f"t{i}" for i in range(n)], dtype=object),
        names=np.array([f"Song {i}" for i in range(n)], dtype=object),
        artists=np.array([f"Artist {i}" for i in range(n)], dtype=object),
        features=features,
        feature_names=("x",),
    )


# Region A near 0 holds the session: two songs heard (0, 1) and its ten other songs (2..11).
# The third song heard (12) strays to x = 3, beside a cluster D (13..22) the session never
# visits. Track mode answers the stray song's neighbours, all of D; the session's profile
# pulls the query back toward A.
REGION = [0.05, 0.05, *[0.1 * i for i in range(10)]]
STRAY = [3.0]
DISTRACTORS = [3.5 + 0.1 * i for i in range(10)]
SESSION = np.array([0, 1, 12, *range(2, 12)])  # 0, 1, the stray 12, then the rest of A


@pytest.fixture
def line() -> Recommender:
    return knn(_line_catalog(REGION + STRAY + DISTRACTORS))


def _answer(
    recommender: Recommender, heard: np.ndarray, mode: str, plan: SessionPlan
) -> np.ndarray:
    return answers(recommender, heard, heard, mode, plan)


def test_session_mode_wins_where_the_seed_strays_from_the_session(line: Recommender) -> None:
    # shown=0: the first answers (all of A) are not withheld from the third.
    plan = SessionPlan(lengths=(3,), k=10, shown=0)
    heard = SESSION[None, :3]
    track = scores(_answer(line, heard, "track", plan), [SESSION], 3)
    session = scores(_answer(line, heard, "session", plan), [SESSION], 3)
    assert track["hit_rate"][0] == 0.0 and track["recall"][0] == 0.0  # all ten from D
    # The profile of songs 0 and 1 (x = 0.05) takes the query to x = 1.525: all of A nearest.
    assert session["hit_rate"][0] == 1.0
    assert session["recall"][0] == 1.0 and session["ndcg"][0] == pytest.approx(1.0)
    entry = evaluate_sessions(line, [SESSION], plan)
    gain = entry["lengths"]["3"]["session_minus_track"]
    assert gain["ndcg"]["mean"] == pytest.approx(1.0)
    assert gain["hit_rate"] == {"mean": 1.0, "se": 0.0}


def test_profile_songs_all_counts_the_seed_twice(line: Recommender) -> None:
    # All three songs in the profile (x = 1.10): the query lies at 2.05, between A and D.
    plan = SessionPlan(lengths=(3,), k=10, shown=0, profile_songs="all")
    got = scores(_answer(line, SESSION[None, :3], "session", plan), [SESSION], 3)
    assert 0.0 < got["recall"][0] < 1.0


def test_one_selection_answers_the_same_in_both_modes(line: Recommender) -> None:
    for songs in ("before", "all"):
        plan = SessionPlan(lengths=(1,), k=5, profile_songs=songs)
        heard = np.array([[0], [12], [20]])
        np.testing.assert_array_equal(
            _answer(line, heard, "track", plan), _answer(line, heard, "session", plan)
        )


def test_answers_never_hold_a_song_heard(line: Recommender) -> None:
    # Songs 2, 3, 4 are the seed 5's nearest neighbours: they must not come back.
    plan = SessionPlan(lengths=(4,), k=6)
    heard = np.array([[2, 3, 4, 5]])
    for mode in ("track", "session"):
        answered = _answer(line, heard, mode, plan)[0]
        assert len(answered) == 6 and (answered >= 0).all()
        assert not set(answered.tolist()) & {2, 3, 4, 5}
    assert set(_answer(line, heard, "track", plan)[0].tolist()) == {0, 1, 6, 7, 8, 9}


def test_answers_withhold_the_songs_of_the_last_shown_answers(line: Recommender) -> None:
    # Walking songs 13, 14, 15, 16 of D, three songs an answer: with shown=2 the answer to
    # the fourth withholds the songs heard and those of the second and third answers only.
    session = np.array([13, 14, 15, 16, 17, 18])
    for shown in (0, 1, 2, 3):
        plan = SessionPlan(lengths=(4,), k=3, shown=shown)
        for mode in ("track", "session"):
            answered = walk(line, [session], mode, plan)
            assert sorted(answered) == [1, 2, 3, 4]
            for n in range(1, 5):
                now = set(answered[n][0].tolist())
                assert len(now) == 3 and not now & set(session[:n].tolist())
                for earlier in range(max(1, n - shown), n):
                    assert not now & set(answered[earlier][0].tolist())
    # Without shown answers withheld, track mode answers overlap from one song to the next.
    plain = walk(line, [session], "track", SessionPlan(lengths=(4,), k=3, shown=0))
    assert set(plain[3][0].tolist()) & set(plain[2][0].tolist())


def test_a_catalog_smaller_than_k_pads_with_minus_one() -> None:
    tiny = knn(_line_catalog([0.0, 1.0, 2.0, 3.0]))
    plan = SessionPlan(lengths=(2,), k=5)
    answered = _answer(tiny, np.array([[0, 1]]), "track", plan)[0]
    assert sorted(answered[:2].tolist()) == [2, 3] and (answered[2:] == -1).all()


def test_metrics_on_a_hand_computed_session() -> None:
    # Session 0..5, two songs heard: the relevant songs are 2, 3, 4, 5. Answered: 3, 9, 4.
    got = scores(np.array([[3, 9, 4]]), [np.arange(6)], 2)
    assert got["hit_rate"][0] == 1.0
    assert got["recall"][0] == pytest.approx(2 / 4)
    dcg = 1.0 + 1.0 / math.log2(4)
    ideal = 1.0 + 1.0 / math.log2(3) + 1.0 / math.log2(4)
    assert got["ndcg"][0] == pytest.approx(dcg / ideal)
    # A miss, with padding: every metric 0.
    missed = scores(np.array([[0, -1, -1]]), [np.arange(6)], 2)
    assert all(values[0] == 0.0 for values in missed.values())


def test_per_query_metrics_agree_with_the_means() -> None:
    hits = np.array([[True, False, True], [False, False, False], [False, True, False]])
    relevant = np.array([4, 2, 1])
    np.testing.assert_allclose(metrics.hit_rate_at_k(hits), [1 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(
        metrics.ndcg_per_query(hits, relevant).mean(axis=0), metrics.ndcg_at_k(hits, relevant)
    )


def test_the_profile_is_the_services() -> None:
    vectors = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], np.float32)
    profile = profile_of(vectors, half_life=1.0)
    expected = TasteProfile.empty(2)
    for v in vectors:
        expected = expected.updated(v, "select", 1.0)
    np.testing.assert_array_equal(profile.vector, expected.vector)
    # Half-life 1: weights 1/4, 1/2, 1 over the three songs.
    np.testing.assert_allclose(profile.vector, [0.5 / 1.75, 2.0 / 1.75], rtol=1e-6)
    query = session_query(vectors[-1], profile, 0.5)
    np.testing.assert_allclose(query, 0.5 * vectors[-1] + 0.5 * profile.vector, rtol=1e-6)


def _sessions_csv(tmp_path: Path) -> Path:
    frame = generate_catalog(400, seed=3)
    # Playlists of one genre each, 12 songs, in the order of the frame; one song twice.
    frame = frame.sort_values("genre", kind="stable").reset_index(drop=True)
    frame["playlist_id"] = [f"{g}-{i // 12}" for i, g in enumerate(frame["genre"])]
    repeat = frame.iloc[[0]].assign(playlist_id=frame.loc[0, "playlist_id"])
    frame = pd.concat([frame.iloc[:3], repeat, frame.iloc[3:]], ignore_index=True)
    path = tmp_path / "sessions.csv"
    frame.to_csv(path, index=False)
    return path


def test_sessions_read_in_file_order_and_deduplicated(tmp_path: Path) -> None:
    path = _sessions_csv(tmp_path)
    tracks = read_sessions(path, ["playlist_id"])
    raw = pd.read_csv(path)
    assert len(tracks) == raw["playlist_id"].nunique()
    assert list(tracks[0]) == list(
        raw.loc[raw["playlist_id"] == raw.loc[0, "playlist_id"], "track_id"]
    )
    catalog = Catalog.from_frame(raw, extra_columns=("genre",))
    sessions = sessions_of(catalog, [np.array([*tracks[0], "not-in-the-catalog"], dtype=object)])
    assert len(sessions[0]) == len(tracks[0]) - 1  # the repeat and the unknown id dropped
    assert sessions[0][0] == catalog.canonical_position[catalog.index[tracks[0][0]]]
    with pytest.raises(MissingColumn, match="no session column"):
        read_sessions(path, ["nope"])


def test_sample_is_seeded_and_keeps_long_enough_sessions() -> None:
    sessions = [np.arange(length) for length in (3, 6, 7, 9, 12, 5, 8)]
    plan = SessionPlan(lengths=(1, 3, 5), sample=3, seed=4)
    drawn = sample_sessions(sessions, plan)
    assert len(drawn) == 3 and all(len(s) >= 6 for s in drawn)
    assert [len(s) for s in drawn] == [len(s) for s in sample_sessions(sessions, plan)]
    assert len(sample_sessions(sessions, SessionPlan(sample=100))) == 5


@pytest.mark.parametrize(
    "fields", [{"lengths": ()}, {"lengths": (0, 3)}, {"session_weight": 1.5}, {"columns": ()}]
)
def test_plan_refuses_what_cannot_work(fields: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        SessionPlan(**fields)  # type: ignore[arg-type]


def test_the_command_writes_both_seed_modes(tmp_path: Path) -> None:
    path = _sessions_csv(tmp_path)
    out = tmp_path / "report"
    argv = ["evaluate", "--catalog", str(path), "--sessions", "--models", "knn"]
    argv += ["--session-lengths", "1,3", "--out", str(out)]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["protocol"]["columns"] == ["playlist_id"]
    assert report["protocol"]["songs_held_out_for_training"] == 0
    entry = report["models"]["knn"]
    assert entry["sessions"] == report["protocol"]["sessions_scored"] > 10
    assert set(entry["lengths"]) == {"1", "3"}
    one = entry["lengths"]["1"]
    assert one["track"] == one["session"]  # one selection: the profile is the seed
    assert all(v["mean"] == 0.0 for v in one["session_minus_track"].values())
    markdown = (out / "report.md").read_text()
    assert "| knn | 3 | session |" in markdown and "| knn | 3 | session − track |" in markdown


def test_the_command_refuses_shaping_and_a_missing_label_column(tmp_path: Path) -> None:
    path = _sessions_csv(tmp_path)
    base = ["evaluate", "--catalog", str(path), "--sessions", "--out", str(tmp_path / "x")]
    assert main([*base, "--models", "knn", "--max-per-artist", "2"]) == 2
    assert main([*base, "--models", "supervised"]) == 2
    assert main(["evaluate", "--catalog", str(path), "--out", str(tmp_path / "y")]) == 2


@pytest.mark.skipif(not (DATA / "spotify_songs.csv").exists(), reason="needs ../shared/data")
def test_real_playlists_are_sessions() -> None:
    tracks = read_sessions(DATA / "spotify_songs.csv", ["playlist_id"])
    assert len(tracks) == 471  # the data's playlists
    assert sum(len(t) for t in tracks) == 32833
