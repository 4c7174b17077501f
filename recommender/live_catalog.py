"""The growing side of a live catalog: rows, songs, artists and extras kept up to date per update.

`CatalogState` owns buffers that only grow (`Growable`) and the maps that find a song or an
artist by name; `apply` kills the rows of removed and replaced tracks, appends the new ones,
and returns the next `Catalog`, whose arrays are views of the buffers and whose derived data
(`Catalog.assembled`) are given instead of recomputed, so an update costs O(its rows).

Older versions share the buffers and see their own length. What changes in place, and so
shows in older versions too, only ever hides: a dead row (`alive`), a removed id (`index`),
and, when a song's searched row dies, the new position of its other rows (`canonical_position`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommender.catalog import Catalog
from recommender.errors import ConfigurationError
from recommender.growable import Growable
from recommender.ingest.imputation import SeedImputer
from recommender.text import normalise_text, song_keys

__all__ = ["CatalogChange", "CatalogState", "NewTrack", "TrackIndex"]

_MOD = 1 << 256


@dataclass(frozen=True)
class NewTrack:
    """A checked track to append: its feature vector and extra values are complete."""

    track_id: str
    name: str
    artist: str
    features: np.ndarray  # (d,) float32 in the catalog's feature order
    extra: Mapping[str, object]  # column -> value (missing columns are NaN / None)
    explicit: bool


@dataclass(frozen=True)
class CatalogChange:
    """The next catalog, and what the models must do to follow it."""

    catalog: Catalog
    new_rows: np.ndarray  # rows appended, in order (to embed)
    new_positions: np.ndarray  # index positions appended (contiguous, in order)
    position_rows: np.ndarray  # the row of each new position (a new row or a promoted one)
    dead_positions: np.ndarray  # positions whose row died (to mark deleted)


class TrackIndex(dict[str, int]):
    """`Catalog.index` of a live catalog: one version's view of a map shared by all versions.

    It holds no items itself (C code reading the dict directly sees it empty: use its methods).
    Rows beyond the version's length are hidden, so an older catalog never yields a row it
    does not have; a track removed later disappears from older views too (removals only add).
    """

    def __init__(self, shared: dict[str, int], rows: int, count: int) -> None:
        super().__init__()
        self._shared, self._rows, self._count = shared, rows, count

    def get(self, key: str, default: int | None = None) -> int | None:  # type: ignore[override]
        row = self._shared.get(key)
        return row if row is not None and row < self._rows else default

    def __getitem__(self, key: str) -> int:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return row

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        return (k for k, row in list(self._shared.items()) if row < self._rows)

    def keys(self) -> Iterator[str]:  # type: ignore[override]
        return iter(self)

    def items(self) -> Iterator[tuple[str, int]]:  # type: ignore[override]
        return ((k, row) for k, row in list(self._shared.items()) if row < self._rows)

    def values(self) -> Iterator[int]:  # type: ignore[override]
        return (row for _, row in self.items())

    def __repr__(self) -> str:
        return f"TrackIndex({self._count} tracks)"


class CatalogState:
    """Everything a live catalog grows, built once from a plain catalog (O(n), the only time)."""

    def __init__(self, catalog: Catalog) -> None:
        if catalog.dead_rows:
            raise ConfigurationError("a live catalog is built from a plain catalog")
        self.feature_names = catalog.feature_names
        self.ids = Growable(catalog.track_ids, object)
        self.names = Growable(catalog.names, object)
        self.artists = Growable(catalog.artists, object)
        self.features = Growable(catalog.features, np.float32)
        self.alive = Growable(np.ones(len(catalog), bool))
        self.dead = 0
        self.index: dict[str, int] = dict(catalog.index)
        # The catalog's own song ids (often cached, or from a snapshot): the index's positions
        # are its canonical rows. The keys are needed to find the song of a new track.
        song_ids = np.asarray(catalog.song_ids, dtype=np.int64)
        keys = catalog.song_keys
        self.song_of_key: dict[str, int] = dict(zip(keys, song_ids.tolist(), strict=True))
        self.next_song = int(song_ids.max(initial=-1)) + 1
        self.song_ids = Growable(song_ids)
        canonical = catalog.canonical_rows
        self.canonical_rows = Growable(canonical)
        self.canonical_position = Growable(catalog.canonical_position)
        self.song_position = Growable(np.full(self.next_song, -1, np.int64))
        self.song_position.set(song_ids[canonical], np.arange(len(canonical)))
        self.song_rows = _duplicates(song_ids)  # rows of songs with more than one row
        self.artist_ids = Growable(catalog.artist_ids)
        self.artist_index = dict(catalog.artist_index)
        self.artist_count = catalog.artist_count
        self.song_artists = Growable(catalog.song_artist_ids)
        self.extra = {c: _column(catalog.extra[c]) for c in catalog.extra.columns}
        explicit = catalog.explicit
        self.explicit = None if explicit is None else Growable(explicit, bool)
        self.base_fingerprint = catalog.fingerprint
        self.delta = 0  # sum of added minus removed track hashes, mod 2**256
        self.generation = 0
        self.imputer: SeedImputer | None = None  # completes upserts; from the first catalog
        self.latest = catalog  # the catalog the next update applies to

    def apply(
        self, catalog: Catalog, removals: Sequence[str], tracks: Sequence[NewTrack]
    ) -> CatalogChange:
        """Remove `removals` and the old rows of `tracks`, then append `tracks`."""
        if catalog is not self.latest:
            raise ConfigurationError("updates apply to the newest version of a live catalog")
        first_position = len(self.canonical_rows)
        first_row = len(self.ids)
        dead: list[int] = []
        orphans: dict[int, None] = {}
        for track_id in [*removals, *(t.track_id for t in tracks)]:
            row = self.index.pop(track_id, None)
            if row is not None:
                self._kill(row, dead, orphans)
        for song in orphans:
            self._promote(song)
        if tracks:
            self._append(tracks)
        self.generation += 1
        self.latest = self._catalog()
        new_positions = np.arange(first_position, len(self.canonical_rows), dtype=np.int64)
        return CatalogChange(
            self.latest,
            np.arange(first_row, len(self.ids), dtype=np.int64),
            new_positions,
            self.canonical_rows[new_positions],
            np.asarray(dead, dtype=np.int64),
        )

    def _kill(self, row: int, dead: list[int], orphans: dict[int, None]) -> None:
        self.alive.set(row, False)
        self.dead += 1
        self.delta = (self.delta - _track_hash(self.ids[row], self.features[row])) % _MOD
        position = int(self.canonical_position[row])
        if int(self.canonical_rows[position]) == row:  # the song's searched row: gone
            dead.append(position)
            song = int(self.song_ids[row])
            self.song_position.set(song, -1)
            orphans[song] = None

    def _promote(self, song: int) -> None:
        """Search the song's first living row from a new position, if a row is left."""
        rows = [r for r in self.song_rows.get(song, ()) if self.alive[r]]
        if not rows:
            return
        row = min(rows)
        position = len(self.canonical_rows)
        self.canonical_rows.append(np.array([row]))
        self.song_artists.append(self.artist_ids[[row]])
        self.song_position.set(song, position)
        self.canonical_position.set(np.array(rows), position)

    def _append(self, tracks: Sequence[NewTrack]) -> None:
        """Append `tracks` in order; each buffer grows once per update, not once per track."""
        first_row, first_position = len(self.ids), len(self.canonical_rows)
        position_rows: list[int] = []  # rows of the positions this update creates
        songs, positions, artists = [], [], []
        keys = song_keys(
            [t.track_id for t in tracks], [t.name for t in tracks], [t.artist for t in tracks]
        )
        for i, (track, key) in enumerate(zip(tracks, keys, strict=True)):
            row = first_row + i
            song = self.song_of_key.setdefault(key, self.next_song)
            if song == self.next_song:  # a new song
                self.next_song += 1
                self.song_position.append(np.array([-1]))
            position = int(self.song_position[song])
            if position >= 0 or song in self.song_rows:  # another row of the song exists
                members = self.song_rows.setdefault(song, [])
                if not members and position >= 0:
                    members.append(self._row_at(position, first_position, position_rows))
                members.append(row)
            artist = self._artist(track.artist)
            if position < 0:
                position = first_position + len(position_rows)
                position_rows.append(row)
                self.song_position.set(song, position)
            songs.append(song)
            positions.append(position)
            artists.append(artist)
            self.index[track.track_id] = row
            self.delta = (self.delta + _track_hash(track.track_id, track.features)) % _MOD
        self.canonical_rows.append(np.array(position_rows, dtype=np.int64))
        self.song_artists.append(self.artist_ids_of(position_rows, first_row, artists))
        self.ids.append(np.array([t.track_id for t in tracks], dtype=object))
        self.names.append(np.array([t.name for t in tracks], dtype=object))
        self.artists.append(np.array([t.artist for t in tracks], dtype=object))
        width = len(self.feature_names)
        features = np.array([t.features for t in tracks], np.float32).reshape(-1, width)
        self.features.append(features)
        self.alive.append(np.ones(len(tracks), bool))
        self.song_ids.append(np.array(songs, dtype=np.int64))
        self.canonical_position.append(np.array(positions, dtype=np.int64))
        self.artist_ids.append(np.array(artists, dtype=np.int64))
        for column, values in self.extra.items():
            values.append(_cells(values, [t.extra.get(column) for t in tracks]))
        if self.explicit is not None:
            self.explicit.append(np.array([t.explicit for t in tracks], dtype=bool))

    def _row_at(self, position: int, first_position: int, position_rows: list[int]) -> int:
        if position >= first_position:  # created by this update: not in the buffer yet
            return position_rows[position - first_position]
        return int(self.canonical_rows[position])

    @staticmethod
    def artist_ids_of(position_rows: list[int], first_row: int, artists: list[int]) -> np.ndarray:
        """The artist of each new position's row (all rows of this update)."""
        return np.array([artists[row - first_row] for row in position_rows], dtype=np.int64)

    def _artist(self, name: str) -> int:
        folded = normalise_text(name)
        if not folded:  # no artist: an id of its own, so it never repeats another
            self.artist_count += 1
            return self.artist_count - 1
        artist = self.artist_index.setdefault(folded, self.artist_count)
        if artist == self.artist_count:
            self.artist_count += 1
        return artist

    def _catalog(self) -> Catalog:
        rows = len(self.ids)
        features = self.features.view()
        extra = pd.DataFrame(
            {
                c: pd.Series(v.view(), dtype=v.view().dtype, copy=False, name=c)
                for c, v in self.extra.items()
            },
            copy=False,
        )
        numeric = {name: features[:, j] for j, name in enumerate(self.feature_names)}
        for c, v in self.extra.items():
            if c not in numeric and v.view().dtype == np.float64:
                numeric[c] = v.view()
        fingerprint = self.base_fingerprint
        if self.delta:
            digest = hashlib.sha256(fingerprint.encode() + self.delta.to_bytes(32, "big"))
            fingerprint = digest.hexdigest()
        derived: dict[str, object] = {
            "index": TrackIndex(self.index, rows, len(self.index)),
            "song_ids": self.song_ids.view(),
            "canonical_rows": self.canonical_rows.view(),
            "canonical_position": self.canonical_position.view(),
            "artist_ids": self.artist_ids.view(),
            "artist_index": self.artist_index,  # shared: names only add
            "song_artist_ids": self.song_artists.view(),
            "artist_count": self.artist_count,
            "numeric_columns": numeric,
            "explicit": None if self.explicit is None else self.explicit.view(),
            "fingerprint": fingerprint,
            "alive": self.alive.view(),
            "dead_rows": self.dead,
            "track_count": len(self.index),
            "generation": self.generation,
            "live_state": self,
        }
        return Catalog.assembled(
            derived,
            track_ids=self.ids.view(),
            names=self.names.view(),
            artists=self.artists.view(),
            features=features,
            feature_names=self.feature_names,
            extra=extra,
        )


def _duplicates(song_ids: np.ndarray) -> dict[int, list[int]]:
    counts = np.bincount(song_ids) if len(song_ids) else np.zeros(0, np.int64)
    rows = np.flatnonzero(counts[song_ids] > 1)
    groups: dict[int, list[int]] = {}
    for row, song in zip(rows.tolist(), song_ids[rows].tolist(), strict=True):
        groups.setdefault(song, []).append(row)
    return groups


def _column(series: pd.Series) -> Growable:
    if pd.api.types.is_numeric_dtype(series):  # as `Catalog.numeric_columns` reads it
        return Growable(series.to_numpy(dtype=np.float64, na_value=np.nan))
    return Growable(series.to_numpy(dtype=object))


def _cells(column: Growable, values: list[object]) -> np.ndarray:
    if column.view().dtype != np.float64:
        return np.array([*values, None], dtype=object)[:-1]  # never a 2-d array of sequences
    numbers = []
    for value in values:
        try:
            numbers.append(float(value))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            numbers.append(np.nan)
    return np.array(numbers, dtype=np.float64)


def _track_hash(track_id: object, features: np.ndarray) -> int:
    digest = hashlib.sha256(str(track_id).encode() + b"\x1f")
    digest.update(np.ascontiguousarray(features, dtype="<f4").tobytes())
    return int.from_bytes(digest.digest(), "big")
