"""One audio file in, one catalog track out: id, name, artist, duration and features."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from audio.decode import MAX_SECONDS, SAMPLE_RATE, read_clip
from audio.errors import UnusableAudio
from audio.extract import extract_features
from audio.naming import content_id, tagged_name, track_name


@dataclass(frozen=True)
class TrackAnalysis:
    """What a file gave; `features` are named as in `recommender.features.EXTRACTED_FEATURES`."""

    path: Path
    track_id: str
    track_name: str
    artist: str
    duration_ms: float
    features: dict[str, float]
    seconds_analysed: float = 0.0
    seconds_taken: float = 0.0  # decoding and extraction
    format: str = ""  # the container, as libsndfile names it (WAV, FLAC, OGG, MP3)


@dataclass(frozen=True)
class Skipped:
    """A file that gave nothing, and why (`audio.errors` reasons)."""

    path: Path
    reason: str
    message: str = field(default="")


def analyse_file(
    path: Path, file_name: str | None = None, max_seconds: float = MAX_SECONDS
) -> TrackAnalysis:
    """Decode and extract; `file_name` (an upload's) names the track when tags do not.

    Raises `UnusableAudio` for a file that is empty, not audio, corrupt, too short or silent.
    """
    started = time.perf_counter()
    clip = read_clip(path, max_seconds)
    features = extract_features(clip.samples)
    title, artist = track_name(tagged_name(path), (clip.title, clip.artist), file_name or path.name)
    return TrackAnalysis(
        path=path,
        track_id=content_id(path),
        track_name=title,
        artist=artist,
        duration_ms=round(clip.duration_s * 1000.0, 1),
        features=features,
        seconds_analysed=len(clip.samples) / SAMPLE_RATE,
        seconds_taken=time.perf_counter() - started,
        format=clip.format,
    )


def analyse_or_skip(path: Path, max_seconds: float = MAX_SECONDS) -> TrackAnalysis | Skipped:
    """`analyse_file`, with an unusable file as a value: what a pool of workers returns."""
    try:
        return analyse_file(path, max_seconds=max_seconds)
    except UnusableAudio as exc:
        return Skipped(path, exc.reason, str(exc))
    except OSError as exc:  # vanished, unreadable permissions
        return Skipped(path, "unreadable", f"cannot open: {exc.strerror or exc}")
