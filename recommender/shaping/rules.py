"""A batch's rules as masks over its candidate lists: the filters, and the artist cap.

Candidates are (m, F) positions in `Catalog.canonical_rows` (-1 for none), best first, for m
requests of the batch; every mask is numpy over the whole (m, F) block.
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from dataclasses import dataclass
from itertools import chain

import numpy as np

from recommender.catalog import Catalog
from recommender.shaping.batch import Batch
from recommender.shaping.controls import Controls

_PAIRWISE = 32
_EARLIER = np.tril(np.ones((_PAIRWISE, _PAIRWISE), dtype=bool), k=-1)  # [j, i]: i before j


@dataclass(frozen=True)
class Rules:
    """The rules of n requests, as arrays indexed by request."""

    catalog: Catalog
    k: np.ndarray  # (n,) int64
    cap: np.ndarray  # (n,) int64: songs per artist, 0 = no cap
    seed_positions: np.ndarray  # (n, S) the seeds' songs, -1 for none
    seed_artists: np.ndarray  # (n, S) the seeds' artist ids, -1 for none
    song_artists: np.ndarray  # (songs,) artist id of each canonical row
    artist_stride: int  # one more than the largest artist id
    excluded: np.ndarray | None  # sorted keys request * songs + position
    excluded_artists: np.ndarray | None  # sorted keys request * artists + artist id
    no_explicit: np.ndarray | None  # (n,) bool, None when nobody asks (or nobody knows)
    columns: tuple[str, ...]  # the columns some request bounds
    low: np.ndarray  # (n, columns) inclusive bounds, -inf/inf where unbounded
    high: np.ndarray
    bounded: np.ndarray  # (n, columns) bool

    @classmethod
    def of(cls, catalog: Catalog, batch: Batch) -> Rules:
        controls = batch.controls
        filtered = np.flatnonzero(batch.filtered).tolist()  # only these have filters
        seeds = batch.seed_matrix
        known = seeds >= 0
        safe = np.maximum(seeds, 0)
        artists = catalog.artist_count
        no_explicit = None
        if catalog.explicit is not None and any(not controls[i].explicit for i in filtered):
            no_explicit = np.fromiter((not c.explicit for c in controls), bool, len(controls))
        ranges = [(i, *bound) for i in filtered for bound in controls[i].ranges]
        columns = tuple(dict.fromkeys(name for _, name, _, _ in ranges))
        bounds = np.full((2, len(controls), len(columns)), [[[-np.inf]], [[np.inf]]])
        bounded = np.zeros((len(controls), len(columns)), dtype=bool)
        if ranges:
            where = {name: j for j, name in enumerate(columns)}
            at = (np.array([r[0] for r in ranges]), np.array([where[r[1]] for r in ranges]))
            bounds[0][at] = [r[2] for r in ranges]
            bounds[1][at] = [r[3] for r in ranges]
            bounded[at] = True
        return cls(
            catalog=catalog,
            k=batch.k,
            cap=batch.cap,
            seed_positions=np.where(known, catalog.canonical_position[safe], -1),
            seed_artists=np.where(known, catalog.artist_ids[safe], -1),
            song_artists=catalog.song_artist_ids,
            artist_stride=artists,
            excluded=_excluded(batch, filtered, len(catalog.canonical_rows)),
            excluded_artists=_sorted(_control_keys(controls, filtered, "exclude_artists", artists)),
            no_explicit=no_explicit,
            columns=columns,
            low=bounds[0],
            high=bounds[1],
            bounded=bounded,
        )

    def valid(self, requests: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """(m, F) bool: the candidate passes every filter of its request."""
        ok = positions >= 0
        safe = np.maximum(positions, 0)
        seeds = self.seed_positions[requests]
        for j in range(seeds.shape[1]):
            ok &= positions != seeds[:, j : j + 1]
        if self.excluded is not None:
            songs = len(self.song_artists)
            ok &= ~_member(requests[:, None] * songs + safe, self.excluded)
        if self.excluded_artists is not None:
            keys = requests[:, None] * self.artist_stride + self.song_artists[safe]
            ok &= ~_member(keys, self.excluded_artists)
        rows = self.catalog.canonical_rows[safe]
        if self.catalog.dead_rows:  # a live catalog keeps the positions of removed songs
            ok &= self.catalog.alive[rows]
        if self.no_explicit is not None and self.catalog.explicit is not None:
            ok &= ~(self.catalog.explicit[rows] & self.no_explicit[requests][:, None])
        for j, name in enumerate(self.columns):
            values = self.catalog.numeric_columns[name][rows]
            low, high = self.low[requests, j, None], self.high[requests, j, None]
            if values.dtype.kind == "f":  # compare at the column's precision: a float32
                # song stored as 0.1 is inside a range ending at 0.1 (float64 says it is not)
                low, high = low.astype(values.dtype), high.astype(values.dtype)
            inside = (values >= low) & (values <= high)  # NaN is outside every range
            ok &= inside | ~self.bounded[requests, j, None]
        return ok

    def kept(self, requests: np.ndarray, positions: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """(m, F) bool: valid, and taken in list order without passing its artist's cap."""
        cap = self.cap[requests]
        if not cap.any():
            return valid
        artists = self.song_artists[np.maximum(positions, 0)]
        seen = self.seed_counts(requests, artists)
        # Count only in rows where an artist can pass its cap: a valid artist repeated, or one
        # song beside the seeds' already too many. In plain lists that is a few rows.
        ordered = np.sort(np.where(valid, artists, -1 - np.arange(artists.shape[1])), axis=1)
        repeated = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        check = (repeated | ((seen * valid).max(axis=1, initial=0) >= cap)) & (cap > 0)
        if check.any():
            seen[check] += occurrences(artists[check], valid[check])
        kept: np.ndarray = valid & ((cap[:, None] == 0) | (seen < cap[:, None]))
        return kept

    def seed_counts(self, requests: np.ndarray, artists: np.ndarray) -> np.ndarray:
        """(m, F) int64: how many of the request's seeds are by the candidate's artist."""
        seeds = self.seed_artists[requests]
        counts = np.zeros(artists.shape, dtype=np.int64)
        for j in range(seeds.shape[1]):
            counts += artists == seeds[:, j : j + 1]
        return counts


def occurrences(artists: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(m, F) int64: valid candidates earlier in the same row by the same artist."""
    m, width = artists.shape
    if width <= _PAIRWISE:  # short lists: compare every pair, cheaper than sorting
        same = artists[:, :, None] == artists[:, None, :]
        same &= valid[:, None, :] & _EARLIER[:width, :width]
        counts: np.ndarray = same.sum(axis=2)
        return counts
    flat = np.arange(m * width)
    # One key per (row, artist); an invalid candidate gets a key of its own.
    keys = np.where(valid, np.arange(m)[:, None] * (int(artists.max(initial=0)) + 1) + artists, -1)
    keys = np.where(keys.ravel() >= 0, keys.ravel(), -1 - flat)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.ones(len(ordered), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    first = np.maximum.accumulate(np.where(starts, flat, 0))
    counts = np.empty(m * width, dtype=np.int64)
    counts[order] = flat - first
    return counts.reshape(m, width)


def _excluded(batch: Batch, filtered: list[int], songs: int) -> np.ndarray | None:
    """Sorted request * songs + position over the controls' `exclude_songs` and the shapes'
    `withheld` songs (duplicates are harmless to `_member`)."""
    keys = _control_keys(batch.controls, filtered, "exclude_songs", songs)
    if batch.withheld:
        given: list[np.ndarray] = [batch.shapes[i].withheld for i in batch.withheld]  # type: ignore[misc]
        withheld = _request_keys(batch.withheld, given, np.concatenate(given), songs)
        keys = np.concatenate([keys, withheld]) if len(keys) else withheld
    return _sorted(keys)


def _control_keys(
    controls: Sequence[Controls], requests: list[int], field: str, stride: int
) -> np.ndarray:
    """Unsorted keys of the requests' `field` tuples, flattened in one pass (not an array each)."""
    values = [getattr(controls[i], field) for i in requests]
    flat = np.fromiter(chain.from_iterable(values), np.int64)
    return _request_keys(requests, values, flat, stride) if len(flat) else flat


def _request_keys(
    requests: list[int], values: Sequence[Sized], flat: np.ndarray, stride: int
) -> np.ndarray:
    """Unsorted request * stride + value, `flat` being the requests' `values` end to end: one
    numpy expression for the whole batch, whether the values came as tuples or arrays."""
    lengths = np.fromiter(map(len, values), np.int64, len(values))
    keys: np.ndarray = np.repeat(np.asarray(requests, np.int64), lengths) * stride + flat
    return keys


def _sorted(keys: np.ndarray) -> np.ndarray | None:
    """The keys as `_member` looks them up; None when there are none, so `valid` skips it."""
    return np.sort(keys) if len(keys) else None


def _member(keys: np.ndarray, table: np.ndarray) -> np.ndarray:
    at = np.minimum(np.searchsorted(table, keys), len(table) - 1)
    found: np.ndarray = table[at] == keys
    return found
