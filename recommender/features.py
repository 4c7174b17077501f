"""The features Encore understands: their names, feature sets, encodings and valid ranges.

A catalog's feature matrix holds, in this order, its audio features and the extras it was
loaded with. `--features` takes a feature set or a comma list of names:

- `audio`: the catalog's audio features: Spotify's nine (`AUDIO_FEATURES`) when the export
  has them, else the ones Encore extracts from sound (`EXTRACTED_FEATURES`, written by
  `python -m recommender catalog from-audio`) when it has all of those;
- `auto`: those plus every extra the export carries (a column for its source role with at
  least half of its values valid), in the order of `EXTRA_FEATURES`.

Two extracted features carry a Spotify name because they measure the same thing in the same
unit: `tempo` (BPM, from beat tracking) and `loudness` (dB: the clip's overall RMS level in
dBFS; Spotify's is also an average level in dB, but of its own loudness model, so a mastered
song typically reads a few dB lower here than there). A feature seed for an extracted catalog
must give those two; any other extracted feature it lacks takes the catalog median.

How each extra is encoded (`recommender.ingest.encoding` computes them; a row missing an extra
or holding an invalid value takes the catalog's median, see `recommender.ingest.loader`):

| feature | source column (role) | encoding |
|---|---|---|
| `year` | a year, or the first four digits of a release date | as is |
| `popularity` | 0..100 | as is |
| `key_sin`, `key_cos` | `key`, a pitch class 0..11 (letters accepted) | see below |
| `mode` | major/minor | 1/0 |
| `log_duration` | `duration_ms` (ms, s or minutes) | natural log of the duration in seconds |
| `explicit` | true/false | 1/0 |
| `time_signature` | beats per bar | as is |

The key is its place on the circle of fifths, the angle `2π·(7·key mod 12)/12` as sine and
cosine, so keys a fifth apart (C and G) are neighbours and a semitone apart (C and C#) are far;
a key not detected (-1) is the centre (0, 0). The raw roles (`key`, `duration_ms`) can still
be named in a list; `auto` uses the encodings. A feature seed may give a derived feature's
source instead of it (`key` for `key_sin` and `key_cos`), and may leave out extras:
`recommender.ingest.imputation` fills them in.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping

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

# The extras `auto` appends when the catalog has their source, in this order.
EXTRA_FEATURES: tuple[str, ...] = (
    "year",
    "popularity",
    "key_sin",
    "key_cos",
    "mode",
    "log_duration",
    "explicit",
    "time_signature",
)

# Features computed from another column (their source role); every other feature is a role.
DERIVED_FROM: dict[str, str] = {
    "key_sin": "key",
    "key_cos": "key",
    "log_duration": "duration_ms",
}


def _extracted_features() -> tuple[str, ...]:
    mfcc = [f"mfcc_{i}_{stat}" for stat in ("mean", "std") for i in range(1, 21)]
    spectral = [
        f"spectral_{name}_{stat}"
        for name in ("centroid", "bandwidth", "rolloff")
        for stat in ("mean", "std")
    ]
    contrast = [f"spectral_contrast_{band}" for band in range(1, 8)]
    chroma = [f"chroma_{pitch_class}" for pitch_class in range(12)]  # 0 = C, like `key`
    return (
        *mfcc,
        *spectral,
        *contrast,
        "zero_crossing_rate_mean",
        "zero_crossing_rate_std",
        "rms_mean",
        "rms_std",
        *chroma,
        "onset_strength_mean",
        "onset_strength_std",
        "tempo",
        "loudness",
    )


# The audio features `audio.extract` computes from sound with librosa (means and standard
# deviations over a clip's frames; contrast and chroma as means), in the order of the matrix.
EXTRACTED_FEATURES: tuple[str, ...] = _extracted_features()

FEATURE_SETS: tuple[str, ...] = ("auto", "audio")
DEFAULT_FEATURE_SET = "auto"

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
    # Extras, and the raw roles that derived extras come from.
    "key": (-1.0, 11.0),
    "mode": (0.0, 1.0),
    "popularity": (0.0, 100.0),
    "explicit": (0.0, 1.0),
    "year": (1900.0, 2100.0),
    "duration_ms": (1.0, 3.6e6),
    "time_signature": (0.0, 7.0),
    "key_sin": (-1.0, 1.0),
    "key_cos": (-1.0, 1.0),
    "log_duration": (math.log(1e-3), math.log(3600.0)),
}


def _extracted_range(name: str) -> tuple[float, float]:
    """An extracted feature's range in its own unit (Hz, dB, a ratio); the wide ones bound
    sanity rather than music: a value outside them is not a clip's."""
    if name.startswith("mfcc_"):
        return (-2000.0, 2000.0) if name.endswith("_mean") else (0.0, 2000.0)
    if name.startswith("spectral_contrast_"):
        return (0.0, 200.0)  # dB between a band's peaks and valleys
    if name.startswith("spectral_"):
        return (0.0, 48000.0)  # Hz
    if name.startswith("onset_strength_"):
        return (0.0, 1000.0)
    if name.startswith("rms_"):
        return (0.0, 2.0)  # of samples in [-1, 1]
    return (0.0, 1.0)  # chroma, zero-crossing rate


# tempo and loudness keep Spotify's ranges: silence (below -60 dBFS) is not extracted.
FEATURE_RANGES.update(
    {n: _extracted_range(n) for n in EXTRACTED_FEATURES if n not in FEATURE_RANGES}
)


def is_audio_feature(feature: str) -> bool:
    """A feature a catalog row must have (Spotify's or an extracted one), not an extra."""
    return feature in AUDIO_FEATURES or feature in EXTRACTED_FEATURES


def audio_features(available: Collection[str]) -> tuple[str, ...]:
    """The `audio` set of a catalog whose export supplies the roles `available`: the nine
    when it has them, the extracted features when it has all of those instead."""
    if not set(AUDIO_FEATURES) <= set(available) and set(EXTRACTED_FEATURES) <= set(available):
        return EXTRACTED_FEATURES
    return AUDIO_FEATURES


def source_role(feature: str) -> str:
    """The export column role a feature is read from: `key` for `key_sin`, else itself."""
    return DERIVED_FROM.get(feature, feature)


def requested_features(features: str | Iterable[str]) -> str | tuple[str, ...]:
    """A `--features` value as a feature set name (`auto`, `audio`) or a tuple of names.

    Accepts `"auto"`, `["auto"]`, `"a,b"` or `["a", "b"]`.
    """
    names = features.split(",") if isinstance(features, str) else list(features)
    names = [n.strip() for n in names if n.strip()]
    if len(names) == 1 and names[0] in FEATURE_SETS:
        return names[0]
    return tuple(names)


def resolve_features(features: str | Iterable[str], available: Collection[str]) -> tuple[str, ...]:
    """The feature names a catalog is loaded with, given the roles its export can supply.

    `audio` is `audio_features(available)`; `auto` adds each extra whose source role is
    `available`; a list is returned as it is.
    """
    requested = requested_features(features)
    if requested == "audio":
        return audio_features(available)
    if requested == "auto":
        extras = tuple(f for f in EXTRA_FEATURES if source_role(f) in available)
        return audio_features(available) + extras
    assert isinstance(requested, tuple)
    return requested


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
