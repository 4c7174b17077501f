"""`load_catalog`: any known Spotify export -> a cleaned `Catalog` and a report of the cleaning."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.catalog import Catalog
from recommender.errors import CatalogError
from recommender.features import (
    DERIVED_FROM,
    FEATURE_RANGES,
    is_audio_feature,
    requested_features,
    resolve_features,
    source_role,
)
from recommender.ingest import cleaning, encoding
from recommender.ingest.headers import (
    HeaderMatch,
    audio_features_in,
    label_columns,
    match_headers,
)

# `auto` uses an extra only when at least this share of the export's values of it are valid.
AUTO_MIN_VALID = 0.5


@dataclass(frozen=True)
class CleaningReport:
    """What happened to the rows of a file on their way into the catalog."""

    rows_read: int
    missing_features: int  # rows dropped: a requested feature missing or not a number
    out_of_range: dict[str, int]  # feature -> rows with that feature outside FEATURE_RANGES
    rejected_out_of_range: int  # rows dropped for any out-of-range feature
    duplicate_track_ids: int  # rows merged into an earlier row with the same track id
    duplicate_songs: int  # rows kept that repeat an earlier song (same name+artist)
    rows_kept: int
    imputed: dict[str, int] = field(default_factory=dict)  # extra -> values filled by median

    @property
    def dropped(self) -> dict[str, int]:
        return {
            "missing_features": self.missing_features,
            "out_of_range": self.rejected_out_of_range,
            "duplicate_track_ids": self.duplicate_track_ids,
        }


@dataclass(frozen=True)
class LoadResult:
    catalog: Catalog
    schema: HeaderMatch
    report: CleaningReport
    label_columns: tuple[str, ...] = field(default=())

    @property
    def dropped(self) -> dict[str, int]:
        return self.report.dropped


def canonical_frame(raw: pd.DataFrame, schema: HeaderMatch) -> pd.DataFrame:
    """Identity and feature roles under canonical names, other source columns as they are."""
    mapping = schema.mapping
    frame = raw.drop(columns=list(mapping.values()))
    names = raw[mapping["track_name"]] if "track_name" in mapping else pd.Series("", raw.index)
    artists = raw[mapping["artist"]] if "artist" in mapping else pd.Series("", raw.index)
    frame.insert(0, "track_name", names.map(encoding.display_text))
    frame.insert(1, "artist", artists.map(encoding.artist_text))
    if schema.derives_ids:
        ids = encoding.derived_ids(frame["track_name"], frame["artist"])
    else:
        ids = raw[mapping["track_id"]].map(encoding.track_id).tolist()
    frame.insert(0, "track_id", ids)
    for role, header in mapping.items():
        if role not in ("track_id", "track_name", "artist"):
            frame[role] = encoding.numeric_column(role, raw[header], header)
    return frame


def add_derived(frame: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """The derived features (`key_sin`, `log_duration`, ...) as columns, from their sources."""
    frame = frame.copy()
    for name in features:
        if name in DERIVED_FROM:
            frame[name] = encoding.derived_feature(name, frame[source_role(name)].to_numpy())
    return frame


def usable_roles(frame: pd.DataFrame, schema: HeaderMatch) -> set[str]:
    """Feature roles the export maps with at least `AUTO_MIN_VALID` of their values valid."""
    return {
        role
        for role in schema.mapping
        if role in FEATURE_RANGES and cleaning.valid_share(frame[role], role) >= AUTO_MIN_VALID
    }


def clean(
    frame: pd.DataFrame, features: Sequence[str], labels: Sequence[str]
) -> tuple[pd.DataFrame, CleaningReport]:
    """Audio features, Spotify's or extracted, are required (a row missing one, or out of
    range, is dropped); extras are filled in with their median (`cleaning.impute_extras`)."""
    rows_read = len(frame)
    # An id that is empty after trimming cannot be served: derive one from name+artist.
    empty = frame["track_id"] == ""
    if empty.any():
        frame = frame.copy()
        frame.loc[empty, "track_id"] = encoding.derived_ids(
            frame.loc[empty, "track_name"], frame.loc[empty, "artist"]
        )
    required = [f for f in features if is_audio_feature(f)]
    frame, missing = cleaning.drop_missing(frame, required)
    frame, per_feature, rejected = cleaning.reject_out_of_range(frame, required)
    frame, imputed = cleaning.impute_extras(frame, [f for f in features if f not in required])
    frame, same_id, same_song = cleaning.collapse_duplicates(frame, labels)
    report = CleaningReport(
        rows_read, missing, per_feature, rejected, same_id, same_song, len(frame), imputed
    )
    return frame, report


def load_catalog(
    path: str | Path,
    feature_names: str | Iterable[str] = "audio",
    extra_label_columns: Iterable[str] = (),
) -> LoadResult:
    """Read a CSV export, map its headers, clean it and build the catalog.

    `feature_names` is a feature set (`auto`, `audio`) or a list of names (see
    `recommender.features`). Label columns (genre/playlist columns, plus
    `extra_label_columns`) keep the union of a song's labels, '|'-joined (see
    `recommender.ingest.cleaning`).
    """
    requested = requested_features(feature_names)
    raw = _read_csv(Path(path))
    needed = audio_features_in(raw.columns) if isinstance(requested, str) else requested
    schema = match_headers(raw.columns, needed)
    labels = [*label_columns(raw.columns, schema.mapping)]
    labels += [c for c in extra_label_columns if c in raw.columns and c not in labels]
    frame = canonical_frame(raw, schema)
    features = resolve_features(requested, usable_roles(frame, schema))
    frame, report = clean(add_derived(frame, features), features, labels)
    identity = ("track_id", "track_name", "artist")
    extra = [c for c in frame.columns if c not in identity and c not in features]
    frame[list(features)] = frame[list(features)].astype(np.float32)
    catalog = Catalog.from_frame(frame, features, extra_columns=extra)
    return LoadResult(catalog, schema, report, tuple(labels))


def read_catalog(path: str | Path, feature_names: str | Iterable[str] = "audio") -> Catalog:
    """The cleaned catalog of any known export, without the report."""
    return load_catalog(path, feature_names=feature_names).catalog


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise CatalogError(f"catalog file not found: {path}")
    try:
        return pd.read_csv(path, low_memory=False)
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # pandas' parse errors are these
        raise CatalogError(f"cannot read catalog {path}: {exc}") from exc
