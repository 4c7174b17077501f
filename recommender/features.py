"""The audio features Encore understands, and the ranges a valid value lies in."""

from __future__ import annotations

import math
from collections.abc import Mapping

# The nine Spotify audio features every catalog carries, in the order of the feature matrix.
AUDIO_FEATURES: tuple[str, ...] = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "liveness",
    "loudness",
    "speechiness",
    "tempo",
    "valence",
)

# Closed ranges of a valid value. Spotify's API documents [0, 1] for the ratios, loudness in
# dB (typically -60..0, a few masters go slightly above 0) and tempo in BPM.
FEATURE_RANGES: dict[str, tuple[float, float]] = {
    "acousticness": (0.0, 1.0),
    "danceability": (0.0, 1.0),
    "energy": (0.0, 1.0),
    "instrumentalness": (0.0, 1.0),
    "liveness": (0.0, 1.0),
    "loudness": (-60.0, 5.0),
    "speechiness": (0.0, 1.0),
    "tempo": (1e-6, 300.0),
    "valence": (0.0, 1.0),
    # Optional extras (issue 4): encoded numerically when selected.
    "key": (-1.0, 11.0),
    "mode": (0.0, 1.0),
    "popularity": (0.0, 100.0),
    "explicit": (0.0, 1.0),
    "year": (1900.0, 2100.0),
    "duration_ms": (1.0, 3.6e6),
}


def feature_problems(values: Mapping[str, float], required: tuple[str, ...]) -> list[str]:
    """Return readable problems with a feature mapping; empty when it is valid."""
    problems = [f"missing feature {name!r}" for name in required if name not in values]
    for name, value in values.items():
        if name not in FEATURE_RANGES:
            problems.append(f"unknown feature {name!r}")
            continue
        if not math.isfinite(value):
            problems.append(f"{name} is not finite")
            continue
        low, high = FEATURE_RANGES[name]
        if not low <= value <= high:
            problems.append(f"{name}={value} outside [{low}, {high}]")
    return problems
