"""Turn source columns into Encore's canonical ones: ids, display text, numeric features.

Roles of the optional extras: `explicit` true/false/yes/no/1/0 -> 1/0; `mode`
major/minor -> 1/0; `key` as a pitch class 0..11 (-1 = unknown), letter names accepted;
`year` from a year or the first four digits of a date; `duration_ms` from ms, s or minutes;
`time_signature` as a number. Derived features (`recommender.features.DERIVED_FROM`) are
computed from those roles by `derived_feature`, the same function for a catalog column and
for one seed's value.
"""

from __future__ import annotations

import ast
import hashlib
import re

import numpy as np
import pandas as pd

from recommender.text import normalise_text

_PITCHES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_TRUTH = {"true": 1.0, "yes": 1.0, "1": 1.0, "1.0": 1.0, "false": 0.0, "no": 0.0, "0": 0.0}
_MODES = {"major": 1.0, "minor": 0.0}
_SPOTIFY_ID = re.compile(r"(?:spotify:track:|open\.spotify\.com/track/)([0-9A-Za-z]+)")
_SPACES = re.compile(r"\s+")


def track_id(value: object) -> str:
    """A Spotify uri or URL -> the bare id; anything else trimmed."""
    text = "" if pd.isna(value) else str(value).strip()
    found = _SPOTIFY_ID.search(text)
    return found.group(1) if found else text


def derived_id(name: object, artist: object) -> str:
    """A stable id for files without one: a digest of normalised name+artist."""
    key = f"{normalise_text(name)}\x1f{normalise_text(artist)}"
    return "nm" + hashlib.sha1(key.encode()).hexdigest()[:20]


def derived_ids(names: pd.Series, artists: pd.Series) -> list[str]:
    return [derived_id(n, a) for n, a in zip(names, artists, strict=True)]


def display_text(value: object) -> str:
    """Trimmed, single-spaced text; '' for missing."""
    return "" if pd.isna(value) else _SPACES.sub(" ", str(value)).strip()


def artist_text(value: object) -> str:
    """Artist lists as one display string: `"['A', 'B']"` and `"A;B"` both -> `"A, B"`."""
    text = display_text(value)
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, list | tuple):
            return ", ".join(display_text(a) for a in parsed if display_text(a))
    return ", ".join(p.strip() for p in text.split(";") if p.strip()) if ";" in text else text


def _lookup(series: pd.Series, table: dict[str, float]) -> pd.Series:
    words = series.astype(str).str.strip().str.casefold()
    numeric = pd.to_numeric(series, errors="coerce")
    return numeric.where(numeric.notna(), words.map(table)).astype(np.float64)


def _key(series: pd.Series) -> pd.Series:
    def pitch(value: object) -> float:
        text = str(value).strip().casefold()
        if not text or text[0] not in _PITCHES:
            return np.nan
        shift = {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(text[1:2], 0)
        return float((_PITCHES[text[0]] + shift) % 12)

    numeric = pd.to_numeric(series, errors="coerce")
    return numeric.where(numeric.notna(), series.map(pitch)).astype(np.float64)


def _year(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.astype(str).str.extract(r"(\d{4})")[0], errors="coerce")


def _duration(series: pd.Series, header: str) -> pd.Series:
    values = pd.to_numeric(series, errors="coerce").astype(np.float64)
    folded = header.casefold()
    if folded.endswith("min"):
        return values * 60_000.0
    if folded.endswith(("_s", "sec")) or (folded == "duration" and values.median() < 10_000):
        return values * 1000.0
    return values


def key_on_circle_of_fifths(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pitch classes -> (sin, cos) of their angle on the circle of fifths; -1 (no key detected)
    -> (0, 0), the centre; NaN stays NaN (missing, imputed later)."""
    key = np.asarray(key, dtype=np.float64)
    angle = 2.0 * np.pi * np.mod(7.0 * np.round(key), 12.0) / 12.0
    unknown = key < 0
    return np.where(unknown, 0.0, np.sin(angle)), np.where(unknown, 0.0, np.cos(angle))


def log_duration(duration_ms: np.ndarray) -> np.ndarray:
    """Milliseconds -> natural log of seconds; a non-positive duration -> NaN (missing)."""
    seconds = np.asarray(duration_ms, dtype=np.float64) / 1000.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(seconds > 0, np.log(np.where(seconds > 0, seconds, 1.0)), np.nan)


def derived_feature(feature: str, source: np.ndarray) -> np.ndarray:
    """The values of a derived feature (`key_sin`, `key_cos`, `log_duration`) from its source."""
    if feature in ("key_sin", "key_cos"):
        sin, cos = key_on_circle_of_fifths(source)
        return sin if feature == "key_sin" else cos
    if feature == "log_duration":
        return log_duration(source)
    raise ValueError(f"{feature!r} is not a derived feature")


def numeric_column(role: str, series: pd.Series, header: str) -> pd.Series:
    """A source column as float64 in the role's canonical encoding; unparsable -> NaN."""
    if role == "explicit":
        return _lookup(series, _TRUTH)
    if role == "mode":
        return _lookup(series, _MODES)
    if role == "key":
        return _key(series)
    if role == "year":
        return _year(series)
    if role == "duration_ms":
        return _duration(series, header)
    return pd.to_numeric(series, errors="coerce").astype(np.float64)
