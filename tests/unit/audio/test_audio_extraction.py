"""Features of generated audio: tempo of click tracks, loudness, pitch, nearest neighbours by
how a clip was made, and unusable files reported with their reason."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("librosa")

from audio_clips import SR, click_track, melody, tone_in_noise, write

from audio.analyse import Skipped, TrackAnalysis, analyse_or_skip
from audio.decode import read_clip
from audio.extract import extract_features
from audio.naming import content_id, name_from_file
from recommender.catalog import Catalog
from recommender.features import EXTRACTED_FEATURES, FEATURE_RANGES
from recommender.recommender import knn


@pytest.mark.parametrize("bpm", [80, 120, 160])
def test_the_tempo_of_a_click_track_is_within_3_bpm(bpm: int) -> None:
    features = extract_features(click_track(bpm, seconds=8.0, seed=bpm))
    assert abs(features["tempo"] - bpm) <= 3, features["tempo"]


def test_every_feature_is_named_finite_and_in_range() -> None:
    features = extract_features(melody("saw", seconds=2.0, seed=1))
    assert list(features) == list(EXTRACTED_FEATURES)
    for name, value in features.items():
        low, high = FEATURE_RANGES[name]
        assert np.isfinite(value) and low <= value <= high, (name, value)


def test_loudness_is_the_rms_level_in_dbfs_and_chroma_finds_the_pitch() -> None:
    sine = (0.5 * np.sin(2 * np.pi * 440.0 * np.arange(2 * SR) / SR)).astype(np.float32)
    features = extract_features(sine)
    assert features["loudness"] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.05)
    chroma = [features[f"chroma_{p}"] for p in range(12)]
    assert int(np.argmax(chroma)) == 9  # A


def _kinds() -> dict[str, list[np.ndarray]]:
    """Five ways of making a clip (a generator and its settings), three clips each: the
    noise, the phase and the order of the notes differ with the seed."""
    return {
        "clicks": [click_track(100, seconds=4.0, seed=i) for i in range(3)],
        "tone": [tone_in_noise(600.0, 10.0, seconds=4.0, seed=i) for i in range(3)],
        "sine": [melody("sine", 4.0, seed=10 + i, root=220.0) for i in range(3)],
        "square": [melody("square", 4.0, seed=20 + i, root=220.0) for i in range(3)],
        "saw": [melody("saw", 4.0, seed=30 + i, bpm=140, root=330.0) for i in range(3)],
    }


def test_the_nearest_neighbours_of_a_clip_are_clips_made_the_same_way() -> None:
    rows = []
    for kind, clips in _kinds().items():
        for n, clip in enumerate(clips):
            rows.append({"track_id": f"{kind}-{n}", "track_name": f"{kind} {n}", "artist": kind,
                         **extract_features(clip)})  # fmt: skip
    frame = pd.DataFrame(rows)
    catalog = Catalog.from_frame(frame, EXTRACTED_FEATURES)
    neighbours = knn(catalog).recommend(np.arange(len(catalog)), k=2)
    kinds = np.array([t.split("-")[0] for t in catalog.track_ids])
    assert (kinds[neighbours.rows] == kinds[:, None]).all(), kinds[neighbours.rows]


def _unusable(folder: Path) -> dict[str, Path]:
    good = write(folder / "good.flac", melody("square", seconds=2.0, seed=3))
    corrupt = folder / "corrupt.flac"
    data = bytearray(good.read_bytes())
    noise = np.random.default_rng(0).integers(0, 256, len(data) - 200, dtype=np.uint8)
    data[200:] = noise.tobytes()
    corrupt.write_bytes(bytes(data))
    (folder / "empty.wav").write_bytes(b"")
    (folder / "notes.mp3").write_text("not audio at all, only text\n" * 50)
    silent = write(folder / "silent.wav", np.zeros(2 * SR, dtype=np.float32))
    short = write(folder / "short.wav", melody("sine", seconds=0.3, seed=1))
    return {"corrupt": corrupt, "empty": folder / "empty.wav", "text": folder / "notes.mp3",
            "silent": silent, "short": short, "good": good}  # fmt: skip


def test_corrupt_empty_silent_short_and_non_audio_files_are_skipped_with_a_reason(
    tmp_path: Path,
) -> None:
    files = _unusable(tmp_path)
    results = {name: analyse_or_skip(path) for name, path in files.items()}
    assert isinstance(results.pop("good"), TrackAnalysis)
    reasons = {name: r.reason for name, r in results.items() if isinstance(r, Skipped)}
    assert reasons["empty"] == "empty" and reasons["text"] == "not_audio"
    assert reasons["silent"] == "silent" and reasons["short"] == "too_short"
    assert reasons["corrupt"] in ("unreadable", "not_audio", "silent", "too_short")
    assert set(reasons) == set(results), results


def test_names_come_from_tags_then_the_file_name_and_ids_from_the_content(tmp_path: Path) -> None:
    clip = melody("sine", seconds=1.5, seed=5)
    tagged = write(tmp_path / "x.wav", clip, title="Night Drive", artist="The Tones")
    named = write(tmp_path / "Daft Punk - One More Time.flac", clip)
    plain = write(tmp_path / "untitled.ogg", clip)
    mp3 = write(tmp_path / "Some Band - Loud.mp3", clip)  # libsndfile >= 1.1 decodes MP3
    results = [analyse_or_skip(p) for p in (tagged, named, plain, mp3)]
    assert all(isinstance(r, TrackAnalysis) for r in results)
    names = [(r.track_name, r.artist) for r in results]  # type: ignore[union-attr]
    assert names == [
        ("Night Drive", "The Tones"),
        ("One More Time", "Daft Punk"),
        ("untitled", ""),
        ("Loud", "Some Band"),
    ]
    copy = shutil.copy(tagged, tmp_path / "copy.wav")
    assert content_id(Path(copy)) == content_id(tagged) != content_id(named)
    assert results[0].track_id == content_id(tagged)  # type: ignore[union-attr]
    assert name_from_file("a - b - c.wav") == ("b - c", "a")


def test_a_long_file_is_analysed_on_its_middle(tmp_path: Path) -> None:
    path = write(tmp_path / "long.wav", melody("saw", seconds=6.0, seed=2))
    clip = read_clip(path, max_seconds=2.0)
    assert len(clip.samples) == 2 * SR and clip.duration_s == pytest.approx(6.0)


def test_the_api_without_uploads_never_loads_librosa() -> None:
    check = (
        "import sys, web.__main__, web.app, web.routes.audio; "
        "from prometheus_client import CollectorRegistry; "
        "from web.metrics import WebMetrics; from web.settings import WebSettings; "
        "metrics = WebMetrics(CollectorRegistry()); "
        "assert web.app.audio_uploads(WebSettings(), metrics, None) is None; "
        "loaded = [m for m in ('librosa', 'soundfile', 'audio.extract') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
