"""Encode `Recommendations` as JSON bytes without building per-item Python objects.

Each catalog row's item fields are encoded once, on first use, and reused; an answer is
then a join of byte strings. `tests/unit/test_encode.py` checks the output against the
pydantic `Recommendations` model, which stays the contract.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np

from recommender.catalog import Catalog
from schemas import SCHEMA_VERSION


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False).encode()


class RecommendationEncoder:
    """Per-catalog fragment cache; one instance per catalog and model."""

    def __init__(
        self,
        catalog: Catalog,
        model: str,
        model_version: str,
        clusters: np.ndarray | None = None,
    ) -> None:
        self._catalog = catalog
        self._clusters = clusters
        self._items: dict[int, bytes] = {}
        self._features: dict[int, bytes] = {}
        self._model = b',"model":' + _json(model) + b',"model_version":' + _json(model_version)

    def _item(self, row: int) -> bytes:
        fragment = self._items.get(row)
        if fragment is None:
            c = self._catalog
            cluster = b"" if self._clusters is None else b',"cluster":%d' % self._clusters[row]
            fragment = (
                b',"track_id":'
                + _json(c.track_ids[row])
                + b',"track_name":'
                + _json(c.names[row])
                + b',"artist":'
                + _json(c.artists[row])
                + cluster
            )
            self._items[row] = fragment
        return fragment

    def _feature_fragment(self, row: int) -> bytes:
        fragment = self._features.get(row)
        if fragment is None:
            c = self._catalog
            values = {
                n: round(float(v), 6) for n, v in zip(c.feature_names, c.features[row], strict=True)
            }
            fragment = b',"features":' + _json(values)
            self._features[row] = fragment
        return fragment

    def encode(
        self,
        event_id: str,
        user_id: str,
        seed_track_id: str | None,
        rows: np.ndarray,
        scores: np.ndarray,
        with_features: bool = False,
        generated_at: bytes | None = None,
    ) -> bytes:
        """One answer; `rows`/`scores` are the event's ranked neighbours (-1 rows are skipped)."""
        parts = []
        for rank, (row, score) in enumerate(zip(rows.tolist(), scores.tolist(), strict=True), 1):
            if row < 0:
                break
            extra = self._feature_fragment(row) if with_features else b""
            parts.append(b'{"rank":%d,"score":%.6f%s%s}' % (rank, score, self._item(row), extra))
        return b"".join(
            (
                b'{"event_id":',
                _json(event_id),
                b',"user_id":',
                _json(user_id),
                b',"seed_track_id":',
                _json(seed_track_id),
                self._model,
                b',"items":[',
                b",".join(parts),
                b'],"generated_at":',
                generated_at or timestamp_now(),
                b',"schema_version":%d}' % SCHEMA_VERSION,
            )
        )


def timestamp_now() -> bytes:
    """The current time as a quoted RFC 3339 JSON string (computed once per batch)."""
    return b'"%s"' % datetime.now(UTC).isoformat(timespec="milliseconds").encode()
