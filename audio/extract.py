"""A clip's audio features with librosa: one spectrogram, every feature read from it.

Settings (chosen for ≥ 20x real time per core on 30-second clips, `benchmarks/audio.py`):
22,050 Hz mono, a 2,048-sample FFT (93 ms) every 512 samples (23 ms), 128 mel bands, 20
MFCCs, chroma at A440 (no tuning estimate, which would cost as much as all the rest).
The magnitude spectrogram is computed once; the mel spectrogram (MFCCs, onset strength),
centroid, bandwidth, roll-off, contrast, chroma and RMS are all derived from it.

Per clip: MFCC 1-20, spectral centroid, bandwidth and roll-off (Hz), zero-crossing rate, RMS
and onset strength as the mean and standard deviation over frames; spectral contrast (7
bands, dB) and chroma (12 pitch classes, 0 = C) as means; `tempo` in BPM from beat tracking
(`audio.beats`);
`loudness`, the overall RMS level in dBFS (see `recommender.features`).
"""

from __future__ import annotations

import librosa
import numpy as np

from audio.beats import track_beats
from audio.decode import SAMPLE_RATE
from audio.errors import SILENT, UNREADABLE, UnusableAudio
from recommender.features import EXTRACTED_FEATURES, FEATURE_RANGES

N_FFT = 2048
HOP = 512
N_MELS = 128
N_MFCC = 20
SILENCE_DBFS = -60.0  # below this overall level a clip is silence (Spotify's floor too)


def loudness_dbfs(samples: np.ndarray) -> float:
    """The overall RMS level, in dB relative to a full-scale square wave (0 dBFS)."""
    power = float(np.mean(np.square(samples, dtype=np.float64))) if len(samples) else 0.0
    return 10.0 * float(np.log10(power)) if power > 0 else -np.inf


def extract_features(samples: np.ndarray, sr: int = SAMPLE_RATE) -> dict[str, float]:
    """Every name of `EXTRACTED_FEATURES` for mono `samples`; `UnusableAudio` for silence."""
    loudness = loudness_dbfs(samples)
    if loudness < SILENCE_DBFS:
        raise UnusableAudio(SILENT, f"overall level {loudness:.1f} dBFS, under {SILENCE_DBFS:g}")
    try:
        return _extract(samples, sr, loudness)
    except librosa.util.exceptions.ParameterError as exc:
        raise UnusableAudio(UNREADABLE, f"cannot analyse the samples: {exc}") from None


def _extract(samples: np.ndarray, sr: int, loudness: float) -> dict[str, float]:
    y = np.ascontiguousarray(samples, dtype=np.float32)
    magnitude = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP))
    power = magnitude**2
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=sr, n_mels=N_MELS))
    onset = librosa.onset.onset_strength(S=mel_db, sr=sr)
    frames = {
        "mfcc": librosa.feature.mfcc(S=mel_db, n_mfcc=N_MFCC),
        "spectral_centroid": librosa.feature.spectral_centroid(S=magnitude, sr=sr),
        "spectral_bandwidth": librosa.feature.spectral_bandwidth(S=magnitude, sr=sr),
        "spectral_rolloff": librosa.feature.spectral_rolloff(S=magnitude, sr=sr),
        "zero_crossing_rate": librosa.feature.zero_crossing_rate(
            y, frame_length=N_FFT, hop_length=HOP
        ),
        "rms": librosa.feature.rms(S=magnitude, frame_length=N_FFT),
        "onset_strength": onset[np.newaxis, :],
    }
    values: dict[str, float] = {}
    for name, matrix in frames.items():
        for i, (mean, std) in enumerate(zip(matrix.mean(axis=1), matrix.std(axis=1), strict=True)):
            stem = f"{name}_{i + 1}" if name == "mfcc" else name
            values[f"{stem}_mean"], values[f"{stem}_std"] = float(mean), float(std)
    contrast = librosa.feature.spectral_contrast(S=magnitude, sr=sr).mean(axis=1)
    values.update({f"spectral_contrast_{b + 1}": float(v) for b, v in enumerate(contrast)})
    chroma = librosa.feature.chroma_stft(S=power, sr=sr, tuning=0.0).mean(axis=1)
    values.update({f"chroma_{p}": float(v) for p, v in enumerate(chroma)})
    values["tempo"] = beat_tempo(onset, sr)
    values["loudness"] = loudness
    return {name: _bounded(name, values[name]) for name in EXTRACTED_FEATURES}


def beat_tempo(onset: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """BPM: librosa's tempo estimate (the tempogram's peak under a prior around 120 BPM)
    as the period of a beat tracker (`audio.beats`), refined to the mean beat period.

    The estimate alone is quantised to frames (23 ms): 117.5 or 123.0 for 120 BPM. The span
    of the tracked beats divided by their count is precise to a fraction of a BPM. With
    fewer than four beats (no clear pulse) the estimate is kept.
    """
    estimate = float(
        np.atleast_1d(librosa.feature.tempo(onset_envelope=onset, sr=sr, hop_length=HOP))[0]
    )
    if estimate <= 0:
        return estimate
    beats = track_beats(onset, 60.0 * sr / HOP / estimate)
    if len(beats) < 4:
        return estimate
    return 60.0 * sr / HOP * (len(beats) - 1) / float(beats[-1] - beats[0])


def _bounded(name: str, value: float) -> float:
    """Inside the feature's valid range: a clip at the edge (a 310 BPM blast beat) is kept."""
    low, high = FEATURE_RANGES[name]
    return float(min(max(value, low), high)) if np.isfinite(value) else low
