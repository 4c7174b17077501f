"""Catalog records in, a new `ModelSet` out (no I/O): what each instance does between batches.

Records read since the last apply are coalesced into one `CatalogUpdate` (the last record of
each track id wins, in topic order) and applied to every served model at once
(`recommender.live.apply_update`); the set is rebuilt on the new catalog with empty answer
caches. A bad record becomes a dead letter with its reason and leaves the track as it was.
Every valid record ever applied is kept (last one per id), so models reloaded from their
files get the same catalog again (`rebase`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from consumer.batch import Headers, Message, dead_letter_headers
from consumer.catalog_records import decode_record
from consumer.decode import Rejected
from consumer.metrics import CatalogMetrics
from consumer.serving import ModelSet
from recommender.live import AppliedUpdate, CatalogUpdate, TrackUpsert, apply_update
from schemas import DeadLetterReason

__all__ = ["CatalogFeed", "DeadLetter"]

log = logging.getLogger(__name__)

DeadLetter = tuple[bytes | None, bytes | None, Headers]  # key and value as received, headers


class TimedMessage(Message, Protocol):
    """A catalog record: the message's parts a batch reads, and its publish timestamp."""

    def timestamp(self) -> tuple[int, int]: ...


@dataclass
class _Pending:
    records: list[tuple[str, TrackUpsert | None]] = field(default_factory=list)
    messages: dict[str, TimedMessage] = field(default_factory=dict)  # last one per track id
    stamps: list[float] = field(default_factory=list)  # publish times (s) of the records


class CatalogFeed:
    """Decodes records as they are read (`add`) and applies them together (`apply`).

    `dead_letters` collects what must go to the catalog dead-letter topic; the caller
    produces and clears it. Not thread-safe: one thread adds and applies.
    """

    def __init__(self, metrics: CatalogMetrics) -> None:
        self.metrics = metrics
        self.state: dict[str, TrackUpsert | None] = {}
        self.dead_letters: list[tuple[DeadLetter, DeadLetterReason]] = []
        self.records_seen = 0
        self._pending = _Pending()
        self._latest: list[str] = []  # ids added most recently, newest last

    @property
    def pending(self) -> int:
        return len(self._pending.records)

    def add(self, messages: Iterable[TimedMessage]) -> None:
        for message in messages:
            self.records_seen += 1
            decoded = decode_record(message.key(), message.value())
            if isinstance(decoded, Rejected):
                self._reject(message, decoded)
                continue
            pending = self._pending
            pending.records.append(decoded)
            pending.messages[decoded[0]] = message
            kind, stamp = message.timestamp()
            if kind != 0 and stamp > 0:
                pending.stamps.append(stamp / 1000.0)

    def apply(self, models: ModelSet) -> ModelSet | None:
        """`models` with every pending record applied; None when nothing was pending."""
        if not self._pending.records:
            return None
        pending, self._pending = self._pending, _Pending()
        update = CatalogUpdate.from_records(pending.records)
        try:
            applied = apply_update(models.recommenders(), update, models.imputer)
        except Exception as exc:  # a bug in applying must not stop the service
            log.exception("applying %d catalog records failed", len(update))
            reason = Rejected(DeadLetterReason.INTERNAL, f"{type(exc).__name__}: {exc}")
            for message in pending.messages.values():
                self._reject(message, reason)
            return None
        rejected = dict(applied.rejected)
        for track_id, why in rejected.items():
            self._reject(
                pending.messages[track_id], Rejected(DeadLetterReason.INVALID_FEATURES, why)
            )
        for track_id, value in pending.records:
            if track_id not in rejected:
                self.state[track_id] = value
        self._account(applied, pending)
        return models.updated(applied)

    def prepare(self, models: ModelSet) -> ModelSet:
        """`models` ready for updates: the first apply on a catalog builds its live state in
        O(n) (seconds at a million tracks); done here, before the instance is ready, it does
        not stall the batches when the first record arrives."""
        applied = apply_update(models.recommenders(), CatalogUpdate(), models.imputer)
        return models.updated(applied)

    def rebase(self, models: ModelSet) -> ModelSet:
        """Freshly loaded `models` (a reload from the files) with every record applied so far."""
        if not self.state:
            return self.prepare(models)
        update = CatalogUpdate.from_records(self.state.items())
        applied = apply_update(models.recommenders(), update, models.imputer)
        self.metrics.tracks.set(len(applied.catalog.index))
        return models.updated(applied)

    def latest(self, models: ModelSet, count: int = 10) -> list[int]:
        """Rows of the tracks added most recently that are still in the catalog, newest first."""
        index = models.catalog.index
        rows = [index[t] for t in reversed(self._latest) if t in index]
        return rows[:count]

    def _account(self, applied: AppliedUpdate, pending: _Pending) -> None:
        m = self.metrics
        for kind, ids in (
            ("added", applied.added),
            ("replaced", applied.replaced),
            ("removed", applied.removed),
        ):
            if ids:
                m.applied.labels(kind).inc(len(ids))
        m.tracks.set(len(applied.catalog.index))
        if pending.stamps:
            m.apply_latency.observe_many(np.maximum(0.0, time.time() - np.array(pending.stamps)))
        removed = set(applied.removed)
        self._latest = [t for t in self._latest if t not in removed]
        self._latest = (self._latest + list(applied.added))[-100:]
        if applied.rejected:
            log.warning("%d catalog records rejected", len(applied.rejected))

    def _reject(self, message: TimedMessage, rejected: Rejected) -> None:
        headers = dead_letter_headers(message, rejected)
        self.dead_letters.append(((message.key(), message.value(), headers), rejected.reason))
