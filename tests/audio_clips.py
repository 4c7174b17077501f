"""Audio made with numpy for the tests and the benchmark: click tracks, tones in noise,
timbres and a few "styles", each reproducible from a seed. No downloads, no recordings.

A module of its own (not conftest.py), so `benchmarks/audio.py` can import it too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 22050


def _time(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * SR)) / SR


def _normalised(y: np.ndarray, peak: float = 0.5) -> np.ndarray:
    top = float(np.max(np.abs(y))) or 1.0
    return (y * (peak / top)).astype(np.float32)


def click_track(bpm: float, seconds: float = 8.0, seed: int = 0) -> np.ndarray:
    """A 1 kHz click on every beat over faint noise."""
    rng = np.random.default_rng(seed)
    y = 0.01 * rng.standard_normal(int(seconds * SR))
    n = int(0.01 * SR)
    click = np.sin(2 * np.pi * 1000 * np.arange(n) / SR) * np.exp(-np.arange(n) / (0.002 * SR))
    for start in np.arange(0.1, seconds, 60.0 / bpm):
        i = int(start * SR)
        y[i : i + n] += click[: len(y) - i]
    return _normalised(y)


def tone_in_noise(freq: float, snr_db: float, seconds: float = 4.0, seed: int = 0) -> np.ndarray:
    """A steady sine at `freq` Hz against white noise `snr_db` below it."""
    rng = np.random.default_rng(seed)
    tone = np.sin(2 * np.pi * freq * _time(seconds) + rng.uniform(0, 2 * np.pi))
    noise = rng.standard_normal(len(tone)) * (10 ** (-snr_db / 20) / np.sqrt(2))
    return _normalised(tone + noise)


def harmonic_note(freq: float, seconds: float, harmonics: np.ndarray, decay: float) -> np.ndarray:
    """One note: `harmonics[k]` is the amplitude of partial k+1; exponential decay (1/s)."""
    t = _time(seconds)
    partials = np.arange(1, len(harmonics) + 1)[:, None]
    audible = (partials[:, 0] * freq) < SR / 2
    wave = (harmonics[audible, None] * np.sin(2 * np.pi * freq * partials[audible] * t)).sum(0)
    attack = np.minimum(1.0, t / 0.01)
    return wave * attack * np.exp(-decay * t)


TIMBRES: dict[str, np.ndarray] = {
    "sine": np.array([1.0]),
    "square": np.array([1.0 / k if k % 2 else 0.0 for k in range(1, 30)]),
    "saw": np.array([1.0 / k for k in range(1, 30)]),
}


def melody(
    timbre: str, seconds: float = 4.0, seed: int = 0, bpm: float = 100.0, root: float = 0.0
) -> np.ndarray:
    """Random notes of one timbre on a pentatonic scale from `root` Hz (default: a random
    key), one per beat."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    root = root or 220.0 * 2 ** (rng.integers(0, 12) / 12)
    scale = root * 2 ** (np.array([0, 2, 4, 7, 9, 12]) / 12)
    y = np.zeros(int(seconds * SR))
    for start in np.arange(0, seconds - beat / 2, beat):
        note = harmonic_note(rng.choice(scale), beat, TIMBRES[timbre], 3.0)
        i = int(start * SR)
        y[i : i + len(note)] += note[: len(y) - i]
    return _normalised(y + 0.003 * rng.standard_normal(len(y)))


def _kick(seconds: float = 0.25) -> np.ndarray:
    t = _time(seconds)
    return np.sin(2 * np.pi * (50 + 100 * np.exp(-t * 30)) * t) * np.exp(-t * 12)


def _hat(rng: np.random.Generator, seconds: float = 0.05) -> np.ndarray:
    t = _time(seconds)
    return np.diff(rng.standard_normal(len(t) + 1)) * np.exp(-t * 80) * 0.3


def _add(y: np.ndarray, part: np.ndarray, at_s: float) -> None:
    i = int(at_s * SR)
    if i < len(y):
        y[i : i + len(part)] += part[: len(y) - i]


def techno(seconds: float, seed: int) -> np.ndarray:
    """Four-on-the-floor kick at 122-130 BPM, off-beat hats, a saw bass line."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / rng.uniform(122, 130)
    y = np.zeros(int(seconds * SR))
    root = 55.0 * 2 ** (rng.integers(0, 7) / 12)
    for n, start in enumerate(np.arange(0, seconds, beat)):
        _add(y, _kick(), start)
        _add(y, _hat(rng), start + beat / 2)
        freq = root * (1.5 if n % 4 == 3 else 1.0)
        _add(y, 0.3 * harmonic_note(freq, beat / 2, TIMBRES["saw"], 6.0), start + beat / 2)
    return _normalised(y, 0.8)


def ambient(seconds: float, seed: int) -> np.ndarray:
    """Slow overlapping sine chords and soft noise: no beat."""
    rng = np.random.default_rng(seed)
    y = 0.02 * rng.standard_normal(int(seconds * SR))
    root = 110.0 * 2 ** (rng.integers(0, 12) / 12)
    for start in np.arange(0, seconds, 2.5):
        for step in rng.choice([0, 3, 4, 7, 10, 12], 3, replace=False):
            note = harmonic_note(root * 2 ** (step / 12), 4.0, np.array([1.0, 0.3]), 0.4)
            _add(y, note * np.minimum(1.0, _time(4.0) / 1.0), start)
    return _normalised(y, 0.3)


def chiptune(seconds: float, seed: int) -> np.ndarray:
    """Fast square-wave arpeggios at 140-160 BPM, with a noise snare on the back beat."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / rng.uniform(140, 160)
    y = np.zeros(int(seconds * SR))
    root = 440.0 * 2 ** (rng.integers(0, 12) / 12)
    for n, start in enumerate(np.arange(0, seconds, beat / 4)):
        freq = root * 2 ** ([0, 4, 7, 12][n % 4] / 12)
        _add(y, 0.3 * harmonic_note(freq, beat / 4, TIMBRES["square"], 4.0), start)
        if n % 8 == 4:
            _add(y, 2 * _hat(rng, 0.12), start)
    return _normalised(y, 0.6)


def ballad(seconds: float, seed: int) -> np.ndarray:
    """A piano-like decaying melody at 66-80 BPM over sustained bass notes."""
    rng = np.random.default_rng(seed)
    bpm = rng.uniform(66, 80)
    y = melody("saw", seconds, seed, bpm) * 0.6
    root = 65.0 * 2 ** (rng.integers(0, 12) / 12)
    for start in np.arange(0, seconds, 4 * 60.0 / bpm):
        _add(y, 0.3 * harmonic_note(root, 4 * 60.0 / bpm, np.array([1.0, 0.5, 0.2]), 0.8), start)
    return _normalised(y, 0.5)


STYLES: dict[str, Callable[[float, int], np.ndarray]] = {
    "techno": techno,
    "ambient": ambient,
    "chiptune": chiptune,
    "ballad": ballad,
}


def write(path: Path, samples: np.ndarray, **metadata: str) -> Path:
    """A WAV (or FLAC/OGG, by suffix) file of `samples`; `title`/`artist` go into its tags."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sf.SoundFile(path, "w", SR, 1) as handle:
        for key, value in metadata.items():
            setattr(handle, key, value)
        handle.write(samples)
    return path


def style_folder(root: Path, per_style: int, seconds: float, seed: int = 0) -> list[Path]:
    """`root/<style>/<Artist> - <style> <n>.wav`: a folder per style, as a genre label."""
    paths = []
    for s, (style, make) in enumerate(STYLES.items()):
        for n in range(per_style):
            name = f"Synth {s} - {style} {n:03d}.wav"
            paths.append(write(root / style / name, make(seconds, seed * 100_000 + s * 1000 + n)))
    return paths
