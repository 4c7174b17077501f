"""A living catalog: tracks added, changed and removed while models serve, without refitting.

`apply_update(models, update)` returns new `Recommender` objects, all on one new `Catalog`:
every model embeds the new and changed tracks with its own fitted transform (scaler and
embedding), assigns them to its nearest cluster centroid, and adds them to its index; removed
tracks are marked deleted there and leave `catalog.index`. Nothing is refitted.

Rows and index positions only grow: a changed track gets a new row (its old row dies), so an
older `Recommender` keeps seeing the rows it was built with while a batch is in flight. The
cost of an apply is proportional to the update, not to the catalog (`live_catalog` grows
the catalog, `live_model` each model; the first update builds their state, O(n) once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from recommender.catalog import Catalog
from recommender.errors import ConfigurationError
from recommender.ingest.imputation import SeedImputer
from recommender.live_catalog import CatalogState, NewTrack
from recommender.live_model import follow, prepare
from recommender.recommender import Recommender

__all__ = ["AppliedUpdate", "CatalogUpdate", "TrackUpsert", "apply_update", "compacted"]


@dataclass(frozen=True)
class TrackUpsert:
    """A track to add, or to replace the track with the same id (a `CatalogTrack` value)."""

    track_id: str
    track_name: str
    artist: str
    features: Mapping[str, float]  # by feature name, like `SongSelected.features`
    labels: Mapping[str, str] | None = None  # label columns (genre, ...) by column name
    explicit: bool | None = None


@dataclass(frozen=True)
class CatalogUpdate:
    """Tracks to add or replace and track ids to remove, applied together.

    A later upsert of the same id wins over an earlier one; an id both upserted and removed
    is upserted (build it with `from_records` to keep the order of a topic's records).
    """

    upserts: Sequence[TrackUpsert] = ()
    removals: Sequence[str] = ()

    @classmethod
    def from_records(cls, records: Iterable[tuple[str, TrackUpsert | None]]) -> CatalogUpdate:
        """Coalesce (track_id, upsert or None for a tombstone) records in topic order."""
        last: dict[str, TrackUpsert | None] = {}
        for track_id, value in records:
            last.pop(track_id, None)  # keep the dict in the order of each id's last record
            last[track_id] = value
        upserts = [v for v in last.values() if v is not None]
        removals = [k for k, v in last.items() if v is None]
        return cls(tuple(upserts), tuple(removals))

    def __len__(self) -> int:
        return len(self.upserts) + len(self.removals)


@dataclass(frozen=True)
class AppliedUpdate:
    """The models on the new catalog, and what happened to each record."""

    models: dict[str, Recommender]  # every model, now on `catalog`
    catalog: Catalog
    added: list[str]
    replaced: list[str]
    removed: list[str]  # ids that were in the catalog (a tombstone for an unknown id is not)
    rejected: list[tuple[str, str]]  # (track_id, reason), e.g. "missing feature 'tempo'"


def apply_update(
    models: Mapping[str, Recommender],
    update: CatalogUpdate,
    imputer: SeedImputer | None = None,
) -> AppliedUpdate:
    """Apply `update` to `models` (all on one catalog); the given objects stay unchanged.

    An upsert missing an extra feature (year, popularity, ...) gets it from `imputer` (by
    default the medians of the catalog the models were first built on); one missing an audio
    feature, or with a value out of range or not finite, is rejected with the reason.
    """
    if not models:
        raise ValueError("no models to update")
    catalog = next(iter(models.values())).catalog
    if any(m.catalog is not catalog for m in models.values()):
        raise ValueError("every model must be on the same catalog")
    state = catalog.__dict__.get("live_state") or CatalogState(catalog)
    if catalog is not state.latest:
        raise ConfigurationError("updates apply to the newest version of a live catalog")
    if imputer is None:
        imputer = state.imputer or SeedImputer.from_catalog(catalog)
        state.imputer = imputer
    upserts = {u.track_id: u for u in update.upserts}  # the last record of an id wins
    removals = [t for t in dict.fromkeys(update.removals) if t not in upserts]
    tracks, rejected = _checked(list(upserts.values()), imputer, catalog)
    index = catalog.index
    replaced = [t.track_id for t in tracks if t.track_id in index]
    added = [t.track_id for t in tracks if t.track_id not in index]
    removed = [t for t in removals if t in index]
    # Everything that can fail runs before the shared buffers change.
    width = len(catalog.feature_names)
    features = np.array([t.features for t in tracks], np.float32).reshape(-1, width)
    labels = {c: [t.extra.get(c) for t in tracks] for c in catalog.extra.columns}
    prepared = {name: prepare(model, features, labels) for name, model in models.items()}
    change = state.apply(catalog, removed, tracks)
    followed = {name: follow(p, change) for name, p in prepared.items()}
    return AppliedUpdate(followed, change.catalog, added, replaced, removed, rejected)


def _checked(
    upserts: list[TrackUpsert], imputer: SeedImputer, catalog: Catalog
) -> tuple[list[NewTrack], list[tuple[str, str]]]:
    """Complete tracks (extras imputed), and (track_id, reason) for the ones that cannot be."""
    tracks: list[NewTrack] = []
    rejected: list[tuple[str, str]] = []
    columns = list(catalog.extra.columns)
    for u in upserts:
        if not u.track_id:
            rejected.append((u.track_id, "empty track_id"))
            continue
        seed = imputer.complete(u.features)
        if seed.vector is None:
            rejected.append((u.track_id, "; ".join(seed.problems)))
            continue
        values = dict(zip(catalog.feature_names, seed.vector.tolist(), strict=True))
        labels = dict(u.labels or {})
        explicit = u.explicit
        if explicit is None:
            explicit = values.get("explicit", 0.0) > 0.5 or _truthy(labels.get("explicit"))
        extra = {c: labels.get(c, values.get(c)) for c in columns}
        if "explicit" in columns and u.explicit is not None:
            extra["explicit"] = float(u.explicit)
        name, artist = str(u.track_name), str(u.artist)
        tracks.append(NewTrack(u.track_id, name, artist, seed.vector, extra, bool(explicit)))
    return tracks, rejected


def _truthy(text: object) -> bool:
    return str(text).strip().lower() in ("true", "1", "yes", "y", "t")


def compacted(catalog: Catalog) -> Catalog:
    """The live tracks of `catalog` as a plain catalog, in row order (what a fresh build or a
    snapshot uses). O(n): for snapshots and tests, not for every update."""
    return catalog.compacted()
