"""Cleaning as a reported step: drop incomplete and out-of-range rows, collapse duplicates.

Multi-label representation: a label column of the cleaned frame holds every distinct label of
the song (all rows with the same track id or the same normalised name+artist), in the order
they first appear in the file, joined with `LABEL_SEPARATOR`, e.g. `"rock|pop"`. Single-label
rows are unchanged; `split_labels` reads them back as a set, `first_label` as the label of the
song's first row (the single-label view of the data).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from recommender.errors import CatalogError
from recommender.features import FEATURE_RANGES
from recommender.text import song_keys

LABEL_SEPARATOR = "|"


def split_labels(value: object) -> frozenset[str]:
    """`"pop|rock"` -> {"pop", "rock"}; missing or empty -> the empty set."""
    if not isinstance(value, str):
        return frozenset() if value is None or pd.isna(value) else frozenset({str(value)})
    return frozenset(p for p in value.split(LABEL_SEPARATOR) if p)


def first_label(value: object) -> str:
    """`"rock|pop"` -> `"rock"`; missing -> ''."""
    if not isinstance(value, str):
        return "" if value is None or pd.isna(value) else str(value)
    return value.split(LABEL_SEPARATOR, 1)[0]


def _ordered_union(groups: pd.Series) -> str:
    labels: dict[str, None] = {}
    for value in groups:
        if isinstance(value, str):
            labels.update(dict.fromkeys(p for p in value.split(LABEL_SEPARATOR) if p))
        elif value is not None and not pd.isna(value):
            labels[str(value)] = None
    return LABEL_SEPARATOR.join(labels)


def drop_missing(frame: pd.DataFrame, features: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """Rows with every feature present and finite, and how many were dropped."""
    values = frame[list(features)].to_numpy(np.float64)
    complete = np.isfinite(values).all(axis=1)
    return frame[complete], int((~complete).sum())


def reject_out_of_range(
    frame: pd.DataFrame, features: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, int], int]:
    """Rows with every feature inside `FEATURE_RANGES`; per-feature counts and rows rejected.

    A row out of range in two features counts once per feature and once in the row total.
    """
    bad = np.zeros(len(frame), dtype=bool)
    counts: dict[str, int] = {}
    for name in features:
        low, high = FEATURE_RANGES[name]
        outside = ~frame[name].between(low, high).to_numpy()
        if outside.any():
            counts[name] = int(outside.sum())
        bad |= outside
    return frame[~bad], counts, int(bad.sum())


def valid_share(values: pd.Series, feature: str) -> float:
    """Share of values that are finite and inside the feature's range."""
    return float(_valid(values.to_numpy(np.float64), feature).mean()) if len(values) else 0.0


def _valid(values: np.ndarray, feature: str) -> np.ndarray:
    low, high = FEATURE_RANGES[feature]
    with np.errstate(invalid="ignore"):
        valid: np.ndarray = np.isfinite(values) & (values >= low) & (values <= high)
    return valid


def impute_extras(
    frame: pd.DataFrame, extras: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Missing or out-of-range values of each extra replaced by the median of its valid ones.

    An extra describes a song less than its audio does (a missing release date should not
    cost the song its place in the catalog), so it is filled in rather than the row dropped.
    Returns the frame and, per extra, how many values were filled.
    """
    frame = frame.copy()
    counts: dict[str, int] = {}
    for name in extras:
        values = frame[name].to_numpy(np.float64)
        valid = _valid(values, name)
        if not valid.any():
            raise CatalogError(f"the catalog has no valid value of {name!r}")
        if not valid.all():
            counts[name] = int((~valid).sum())
            frame[name] = np.where(valid, values, float(np.median(values[valid])))
    return frame, counts


def collapse_duplicates(
    frame: pd.DataFrame, labels: Sequence[str]
) -> tuple[pd.DataFrame, int, int]:
    """One row per track id, each carrying the label union of its whole song.

    Rows of the same song under different ids stay (each id must stay servable); `Catalog`
    groups them by name+artist so search returns the song once. Returns the frame, rows
    collapsed into an earlier row with the same id, and rows that repeat an earlier song.
    """
    frame = frame.reset_index(drop=True)
    keys = pd.Series(song_keys(frame["track_id"], frame["track_name"], frame["artist"]))
    # A re-listed id keeps the song key of its first row, so both groupings agree.
    keys = keys.groupby(frame["track_id"].to_numpy()).transform("first")
    merged = frame.copy()
    for column in labels:
        union = frame[column].groupby(keys.to_numpy(), sort=False).agg(_ordered_union)
        merged[column] = keys.map(union)
    first = ~frame["track_id"].duplicated(keep="first").to_numpy()
    kept_keys = keys[first]
    repeated = int(kept_keys.duplicated().sum())
    return merged[first].reset_index(drop=True), int((~first).sum()), repeated
