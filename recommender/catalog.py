"""The song catalog: ids, names, artists and the audio-feature matrix, one row per track."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommender.features import AUDIO_FEATURES

_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def normalise_text(text: object) -> str:
    """Fold a name for matching: accents off, case folded, punctuation dropped, spaces collapsed."""
    if not isinstance(text, str):
        return ""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", folded)).strip()


def song_keys(track_ids: Iterable[Any], names: Iterable[Any], artists: Iterable[Any]) -> list[str]:
    """One key per song: normalised name+artist, or the track id where either is missing."""
    keys = []
    for track_id, name, artist in zip(track_ids, names, artists, strict=True):
        n, a = normalise_text(name), normalise_text(artist)
        keys.append(f"{n}\x1f{a}" if n and a else f"\x00{track_id}")
    return keys


@dataclass(frozen=True, eq=False)
class Catalog:
    """Tracks with unique ids. Rows that are the same song (same name+artist) share a `song_id`.

    Search runs over one canonical row per song, so a recommendation list never holds the
    seed, a re-release of the seed, or the same song twice.
    """

    track_ids: np.ndarray  # (n,) object: str
    names: np.ndarray  # (n,) object: str
    artists: np.ndarray  # (n,) object: str
    features: np.ndarray  # (n, d) float32, raw units
    feature_names: tuple[str, ...] = AUDIO_FEATURES
    extra: pd.DataFrame = field(default_factory=pd.DataFrame)  # labels etc., aligned by row

    def __post_init__(self) -> None:
        n = len(self.track_ids)
        if self.features.shape != (n, len(self.feature_names)):
            raise ValueError(
                f"features shape {self.features.shape} does not match "
                f"{n} tracks x {len(self.feature_names)} features"
            )
        if len(self.index) != n:
            raise ValueError("track ids must be unique")

    def __len__(self) -> int:
        return len(self.track_ids)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        feature_names: Iterable[str] = AUDIO_FEATURES,
        extra_columns: Iterable[str] = (),
    ) -> Catalog:
        """Build from a frame with `track_id`, `track_name`, `artist` and the feature columns.

        Rows repeating a track id are collapsed to the first.
        """
        feature_names = tuple(feature_names)
        missing = [c for c in ("track_id", *feature_names) if c not in frame.columns]
        if missing:
            raise ValueError(f"catalog is missing columns: {', '.join(missing)}")
        frame = frame.drop_duplicates(subset="track_id", keep="first").reset_index(drop=True)
        features = frame[list(feature_names)].to_numpy(dtype=np.float32)
        if not np.isfinite(features).all():
            bad = int((~np.isfinite(features)).any(axis=1).sum())
            raise ValueError(f"{bad} catalog rows have missing or non-finite features")
        text = {
            c: frame[c].fillna("").astype(str).to_numpy(dtype=object) if c in frame else None
            for c in ("track_name", "artist")
        }
        empty = np.full(len(frame), "", dtype=object)
        extra_columns = [c for c in extra_columns if c in frame.columns]
        return cls(
            track_ids=frame["track_id"].astype(str).to_numpy(dtype=object),
            names=text["track_name"] if text["track_name"] is not None else empty,
            artists=text["artist"] if text["artist"] is not None else empty,
            features=np.ascontiguousarray(features),
            feature_names=feature_names,
            extra=frame[extra_columns].reset_index(drop=True),
        )

    @classmethod
    def from_csv(cls, path: str | Path, feature_names: Iterable[str] = AUDIO_FEATURES) -> Catalog:
        """Load a catalog CSV (Encore's own, or any export the ingest mapping knows)."""
        from recommender.ingest import load_catalog

        return load_catalog(path, feature_names=feature_names).catalog

    @cached_property
    def index(self) -> dict[str, int]:
        """track_id -> row."""
        return {track_id: row for row, track_id in enumerate(self.track_ids)}

    def rows_of(self, track_ids: Iterable[str]) -> np.ndarray:
        """Rows of the given ids, -1 for ids not in the catalog."""
        get = self.index.get
        return np.fromiter((get(t, -1) for t in track_ids), dtype=np.int64)

    @cached_property
    def song_ids(self) -> np.ndarray:
        """(n,) int64: rows of the same song share an id."""
        keys = song_keys(self.track_ids, self.names, self.artists)
        _, ids = np.unique(np.asarray(keys, dtype=object), return_inverse=True)
        return ids.astype(np.int64)

    @cached_property
    def canonical_rows(self) -> np.ndarray:
        """The first row of every song, in row order: what the search runs over."""
        _, first = np.unique(self.song_ids, return_index=True)
        return np.sort(first).astype(np.int64)

    @cached_property
    def canonical_position(self) -> np.ndarray:
        """(n,) int64: position in `canonical_rows` of each row's song."""
        song_to_pos = np.empty(int(self.song_ids.max()) + 1 if len(self) else 0, dtype=np.int64)
        song_to_pos[self.song_ids[self.canonical_rows]] = np.arange(len(self.canonical_rows))
        positions: np.ndarray = song_to_pos[self.song_ids]
        return positions

    @cached_property
    def fingerprint(self) -> str:
        """A digest of ids, feature names and values: artifacts are tied to it."""
        digest = hashlib.sha256()
        digest.update("\x1f".join(self.feature_names).encode())
        digest.update("\x1f".join(self.track_ids.tolist()).encode())
        digest.update(np.ascontiguousarray(self.features, dtype="<f4").tobytes())
        return digest.hexdigest()

    def labels(self, column: str) -> np.ndarray:
        """An extra column (for example a genre) as an object array aligned by row."""
        if column not in self.extra.columns:
            raise KeyError(f"catalog has no column {column!r}; it has {list(self.extra.columns)}")
        labels: np.ndarray = self.extra[column].to_numpy(dtype=object)
        return labels
