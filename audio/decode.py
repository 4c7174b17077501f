"""Audio files to mono float samples at one rate, with libsndfile (WAV, FLAC, OGG, MP3, ...).

A long file is analysed on its middle `max_seconds` (seeking, not decoding the rest): the
intro and the fade-out describe a song less than its body does, and the cost stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from audio.errors import EMPTY, NOT_AUDIO, TOO_SHORT, UNREADABLE, UnusableAudio

SAMPLE_RATE = 22050  # librosa's default: the spectrum up to 11 kHz, where timbre lives
MIN_SECONDS = 1.0
MAX_SECONDS = 60.0


@dataclass(frozen=True)
class Clip:
    """The samples analysed and what the file said about itself."""

    samples: np.ndarray  # (n,) float32, mono, at SAMPLE_RATE
    duration_s: float  # of the whole file
    title: str  # from the file's own metadata (RIFF INFO, Vorbis comments), or ""
    artist: str
    format: str = ""  # libsndfile's name of the container: WAV, FLAC, OGG, MP3, ...


def read_clip(path: Path, max_seconds: float = MAX_SECONDS) -> Clip:
    """Decode `path` (its middle `max_seconds` at most); `UnusableAudio` when it cannot be."""
    if path.stat().st_size == 0:
        raise UnusableAudio(EMPTY, "empty file (0 bytes)")
    try:
        handle = sf.SoundFile(path)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise UnusableAudio(NOT_AUDIO, f"not audio that libsndfile reads ({_why(exc)})") from None
    try:
        with handle:
            rate, frames = handle.samplerate, handle.frames
            wanted = min(frames, int(max_seconds * rate)) if max_seconds > 0 else frames
            handle.seek((frames - wanted) // 2)
            data = handle.read(wanted, dtype="float32", always_2d=True)
            title, artist = _text(handle, "title"), _text(handle, "artist")
            container = str(handle.format)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise UnusableAudio(UNREADABLE, f"cannot decode ({_why(exc)})") from None
    if len(data) < MIN_SECONDS * rate:
        seconds = len(data) / rate if rate else 0.0
        raise UnusableAudio(TOO_SHORT, f"{seconds:.2f} s of sound, under {MIN_SECONDS:g} s")
    mono = np.nan_to_num(data.mean(axis=1), nan=0.0, posinf=0.0, neginf=0.0)
    return Clip(_resampled(mono, rate), frames / rate, title, artist, container)


def _resampled(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE:
        return np.ascontiguousarray(samples, dtype=np.float32)
    import soxr  # librosa's own resampler, without librosa's import

    out: np.ndarray = soxr.resample(samples, rate, SAMPLE_RATE, quality="HQ")
    return out.astype(np.float32)


def _text(handle: sf.SoundFile, name: str) -> str:
    try:
        value = getattr(handle, name)
    except (AttributeError, RuntimeError):
        return ""
    return value.strip() if isinstance(value, str) else ""


def _why(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[-1] if text else type(exc).__name__).removeprefix("Error opening ")[:200]
