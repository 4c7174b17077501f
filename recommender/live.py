"""A living catalog: tracks added, changed and removed while models serve, without refitting.

`apply_update(models, update)` returns new `Recommender` objects, all on one new `Catalog`:
every model embeds the new and changed tracks with its own fitted transform (scaler and
embedding), assigns them to its nearest cluster centroid, and adds them to its index; removed
tracks are marked deleted there and leave `catalog.index`. Nothing is refitted.

Rows and index positions only grow: a changed track gets a new row (its old row dies), so an
older `Recommender` keeps seeing the rows it was built with while a batch is in flight. The
cost of an apply is proportional to the update, not to the catalog (`recommender.growth`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from recommender.catalog import Catalog
from recommender.ingest.imputation import SeedImputer
from recommender.recommender import Recommender
from recommender.search import ExactIndex

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
    # First version: rebuild on the new catalog (O(n)); the incremental path replaces it.
    first = next(iter(models.values()))
    catalog = first.catalog
    imputer = imputer or SeedImputer.from_catalog(catalog)
    frame = pd.DataFrame(
        {"track_id": catalog.track_ids, "track_name": catalog.names, "artist": catalog.artists}
    )
    frame[list(catalog.feature_names)] = catalog.features
    extra = catalog.extra.reset_index(drop=True)
    frame = pd.concat([frame, extra], axis=1)
    upserts: dict[str, TrackUpsert] = {u.track_id: u for u in update.upserts}
    removals = set(update.removals) - set(upserts)
    rows, rejected, added, replaced = [], [], [], []
    for u in upserts.values():
        seed = imputer.complete(u.features)
        if seed.vector is None:
            rejected.append((u.track_id, "; ".join(seed.problems)))
            continue
        (replaced if u.track_id in catalog.index else added).append(u.track_id)
        row = {"track_id": u.track_id, "track_name": u.track_name, "artist": u.artist}
        row.update(zip(catalog.feature_names, seed.vector.tolist(), strict=True))
        row.update(dict(u.labels or {}))
        rows.append(row)
    removed = [t for t in update.removals if t in removals and t in catalog.index]
    gone = set(removed) | set(replaced)
    frame = frame[~frame["track_id"].isin(gone)]
    frame = pd.concat([frame, pd.DataFrame(rows, columns=frame.columns)], ignore_index=True)
    new = Catalog.from_frame(frame, catalog.feature_names, extra.columns)
    out = {}
    for name, m in models.items():
        r = Recommender(
            name,
            new,
            m.scaler,
            m.embedding,
            m.metric,
            m.version,
            options=m.options,
            training_curve=m.training_curve,
        )
        out[name] = r if isinstance(m.index, ExactIndex) else r.with_search("hnsw")
    return AppliedUpdate(out, new, added, replaced, removed, rejected)


def compacted(catalog: Catalog) -> Catalog:
    """The live tracks of `catalog` as a plain catalog, in row order (what a fresh build or a
    snapshot uses). O(n): for snapshots and tests, not for every update."""
    return catalog
