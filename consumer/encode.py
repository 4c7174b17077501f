"""Encode `Recommendations` as JSON bytes without building per-item Python objects.

Each catalog row's item fields are encoded once, on first use, and reused; an answer is
then a join of byte strings. `tests/unit/test_encode.py` checks the output against the
pydantic `Recommendations` model, which stays the contract.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime

import numpy as np

from recommender.catalog import Catalog

# What JSON strings must escape, plus lone surrogates (valid in str, not in UTF-8).
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f\ud800-\udfff]')


def quote(text: str) -> bytes:
    """`text` as a JSON string literal (UTF-8). Plain text takes the fast path."""
    if _NEEDS_ESCAPE.search(text) is None:
        return b'"%s"' % text.encode()
    return json.dumps(text).encode()  # ASCII escapes: safe for any str


def _nullable(text: str | None) -> bytes:
    return b"null" if text is None else quote(text)


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
        self._items: list[bytes | None] = [None] * len(catalog)
        self._features: dict[int, bytes] = {}
        self._model = b',"model":%s,"model_version":%s' % (quote(model), quote(model_version))

    def grown(
        self, catalog: Catalog, model: str, model_version: str, clusters: np.ndarray | None
    ) -> RecommendationEncoder:
        """An encoder for `catalog`, the same rows plus new ones (a living catalog's rows only
        grow and never change): it shares this one's fragments, so an update costs
        O(new rows), and no fragment of a changed or removed track is reachable through the
        new catalog's rows."""
        encoder = RecommendationEncoder.__new__(RecommendationEncoder)
        encoder._catalog, encoder._clusters = catalog, clusters
        encoder._model = b',"model":%s,"model_version":%s' % (quote(model), quote(model_version))
        self._items.extend([None] * (len(catalog) - len(self._items)))
        encoder._items, encoder._features = self._items, self._features
        return encoder

    def _item(self, row: int) -> bytes:
        c = self._catalog
        cluster = b"" if self._clusters is None else b',"cluster":%d' % self._clusters[row]
        fragment = b',"track_id":%s,"track_name":%s,"artist":%s%s' % (
            quote(c.track_ids[row]),
            quote(c.names[row]),
            quote(c.artists[row]),
            cluster,
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
            fragment = b',"features":' + json.dumps(values).encode()
            self._features[row] = fragment
        return fragment

    def items(
        self,
        rows: np.ndarray,
        scores: np.ndarray,
        with_features: bool = False,
        because: tuple[tuple[str, ...], ...] | None = None,
    ) -> bytes:
        """The `items` array's content: what an answer cache can keep per seed.

        `because` (with `explain`) holds each item's closest features, in rank order.
        """
        cache = self._items
        row_list, score_list = rows.tolist(), scores.tolist()
        if row_list and row_list[-1] < 0:  # a catalog smaller than k: drop the padding
            kept = [i for i, row in enumerate(row_list) if row >= 0]
            row_list, score_list = [row_list[i] for i in kept], [score_list[i] for i in kept]
        fragments = [cache[row] or self._item(row) for row in row_list]
        if with_features:
            fragments = [
                f + self._feature_fragment(r) for f, r in zip(fragments, row_list, strict=True)
            ]
        if because is not None:
            fragments = [
                b'%s,"because":%s' % (f, json.dumps(list(names)).encode())
                for f, names in zip(fragments, because, strict=True)
            ]
        # One %-format over a template per list length: far cheaper than one per item.
        values: list[object] = [None] * (2 * len(fragments))
        values[::2] = score_list
        values[1::2] = fragments
        return _items_template(len(fragments)) % tuple(values)

    def answer(
        self,
        event_id: str,
        user_id: str | None,
        seed_track_id: str | None,
        items: bytes,
        generated_at: bytes | None = None,
        schema_version: int = 1,
        extra: bytes = b"",
    ) -> bytes:
        """The whole answer; `extra` holds version 2's `,"exhausted":...,"constraints":...`."""
        return _ANSWER % (
            quote(event_id),
            _nullable(user_id),
            _nullable(seed_track_id),
            self._model,
            items,
            generated_at or timestamp_now(),
            extra,
            schema_version,
        )


_ANSWER = (
    b'{"event_id":%s,"user_id":%s,"seed_track_id":%s%s,"items":[%s],'
    b'"generated_at":%s%s,"schema_version":%d}'
)


def shaping_fields(exhausted: bool, constraints: dict[str, object]) -> bytes:
    """Version 2's answer fields: whether the rules ran short, and the controls applied."""
    try:  # the same few controls recur (seed_mode: session, say): encode each set once
        # The type is in the key: True == 1 == 1.0 as keys, not as JSON.
        encoded = _constraints(tuple((k, type(v), v) for k, v in constraints.items()))
    except TypeError:  # a list value: not hashable
        encoded = json.dumps(constraints, separators=(",", ":")).encode()
    return b',"exhausted":%s,"constraints":%s' % (b"true" if exhausted else b"false", encoded)


@functools.lru_cache(maxsize=1024)
def _constraints(items: tuple[tuple[str, type, object], ...]) -> bytes:
    return json.dumps({k: v for k, _, v in items}, separators=(",", ":")).encode()


@functools.cache
def _items_template(count: int) -> bytes:
    """`{"rank":1,"score":%.6f%b},{"rank":2,...}` for `count` items."""
    return b",".join(b'{"rank":%d,"score":%%.6f%%b}' % rank for rank in range(1, count + 1))


def timestamp_now() -> bytes:
    """The current time as a quoted RFC 3339 JSON string (computed once per batch)."""
    return b'"%s"' % datetime.now(UTC).isoformat(timespec="milliseconds").encode()
