"""Beat tracking by dynamic programming (Ellis 2007), the algorithm of `librosa.beat`, in numpy.

librosa's own compiles one of its numba kernels afresh in every process that imports it
(`cache=False`): seconds of start-up per process, half of what loading librosa costs. This
is the same program: a local score (the onset envelope smoothed by a Gaussian a beat wide),
a cumulative score where each beat follows the best earlier one about a period back
(penalised by `tightness` times the squared log-ratio of interval to period), the last beat
among the strong local maxima, back-tracked; weak beats at either end trimmed.
"""

from __future__ import annotations

import numpy as np

TIGHTNESS = 100.0  # librosa's default


def track_beats(onset: np.ndarray, frames_per_beat: float) -> np.ndarray:
    """Frame indices of the beats of an onset envelope at a tempo of `frames_per_beat`."""
    onset = np.asarray(onset, dtype=np.float64)
    if len(onset) < 2 or not onset.any() or frames_per_beat <= 0:
        return np.empty(0, dtype=np.int64)
    period = float(np.round(frames_per_beat))
    local = _local_score(onset / (onset.std(ddof=1) + 1e-12), period)
    backlink, cumulative = _dynamic_program(local, period)
    beats = _backtrack(backlink, _last_beat(cumulative))
    return _trimmed(local, beats)


def _local_score(onset: np.ndarray, period: float) -> np.ndarray:
    offsets = np.arange(-period, period + 1)
    window = np.exp(-0.5 * (offsets * 32.0 / period) ** 2)
    score: np.ndarray = np.convolve(onset, window, "same")
    return score


def _dynamic_program(local: np.ndarray, period: float) -> tuple[np.ndarray, np.ndarray]:
    n = len(local)
    near, far = int(np.round(period / 2)), int(2 * period)
    # Intervals far..near frames back, and their penalties (the same for every frame).
    intervals = np.arange(far, near - 1, -1)
    penalty = -TIGHTNESS * (np.log(intervals) - np.log(period)) ** 2
    cumulative = np.empty(n)
    backlink = np.full(n, -1, dtype=np.int64)
    threshold = 0.01 * local.max()
    started = False
    for i in range(n):
        lo = i - far
        candidates = np.arange(max(lo, 0), i - near + 1) if i - near >= 0 else None
        best = -1
        if candidates is not None and len(candidates):
            scores = cumulative[candidates] + penalty[candidates - lo]
            k = int(np.argmax(scores))
            best = int(candidates[k])
            cumulative[i] = local[i] + scores[k]
        else:
            cumulative[i] = local[i]
        if started or local[i] >= threshold:
            backlink[i] = best
            started = True
    return backlink, cumulative


def _last_beat(cumulative: np.ndarray) -> int:
    peaks = np.zeros(len(cumulative), dtype=bool)
    peaks[1:-1] = (cumulative[1:-1] > cumulative[:-2]) & (cumulative[1:-1] >= cumulative[2:])
    if not peaks.any():
        return len(cumulative) - 1
    threshold = 0.5 * float(np.median(cumulative[peaks]))
    strong = np.flatnonzero(peaks & (cumulative >= threshold))
    return int(strong[-1]) if len(strong) else len(cumulative) - 1


def _backtrack(backlink: np.ndarray, tail: int) -> np.ndarray:
    beats = []
    n = tail
    while n >= 0:
        beats.append(n)
        n = int(backlink[n])
    return np.array(beats[::-1], dtype=np.int64)


def _trimmed(local: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Without the beats before the first and after the last frame whose local score is
    above half the RMS of the (smoothed) beat scores."""
    if len(beats) == 0:
        return beats
    window = np.hanning(5)
    smooth = np.convolve(local[beats], window)[len(window) // 2 : len(beats) + len(window) // 2]
    threshold = 0.5 * float(np.sqrt(np.mean(smooth**2)))
    above = np.flatnonzero(local > threshold)
    if len(above) == 0:
        return beats[:0]
    kept: np.ndarray = beats[(beats >= above[0]) & (beats <= above[-1])]
    return kept
