"""One batch of raw messages in, encoded recommendations and dead letters out (no I/O)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from consumer.decode import Rejected, decode, feature_vector
from consumer.encode import timestamp_now
from consumer.serving import ModelSet, Served
from schemas import DeadLetterReason, SongSelected

Headers = list[tuple[str, str | bytes | None]]


class Message(Protocol):
    """The part of `confluent_kafka.Message` a batch needs."""

    def key(self) -> bytes | None: ...
    def value(self) -> bytes | None: ...
    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def headers(
        self,
    ) -> list[tuple[str, str | bytes | None]] | dict[str, str | bytes | None] | None: ...


@dataclass
class BatchResult:
    # (key, value) of each answer, in input order.
    recommendations: list[tuple[bytes, bytes]] = field(default_factory=list)
    # (key, value, headers) of each dead letter: key and value as received.
    dead_letters: list[tuple[bytes | None, bytes | None, Headers]] = field(default_factory=list)
    reasons: list[DeadLetterReason] = field(default_factory=list)
    published: dict[str, int] = field(default_factory=dict)  # answers per model
    cache_lookups: int = 0  # catalog seeds looked up in an answer cache
    cache_hits: int = 0


@dataclass(slots=True)
class _Seed:
    message: Message
    event: SongSelected
    row: int
    vector: np.ndarray | None


def dead_letter_headers(message: Message, rejected: Rejected) -> Headers:
    headers: Headers = [
        ("error.reason", rejected.reason.value.encode()),
        ("error.message", rejected.message.encode("utf-8", "replace")[:1000]),
        ("source.topic", (message.topic() or "").encode()),
        ("source.partition", str(message.partition()).encode()),
        ("source.offset", str(message.offset()).encode()),
    ]
    # The producer's own headers travel with the dead letter, after ours.
    original = message.headers() or []
    pairs = original.items() if isinstance(original, dict) else original
    headers.extend((k, v) for k, v in pairs if v is not None)
    return headers


class BatchProcessor:
    def __init__(self, models: ModelSet, default_k: int, max_event_bytes: int) -> None:
        self.models = models
        self.default_k = default_k
        self.max_event_bytes = max_event_bytes

    def process(self, messages: Sequence[Message]) -> BatchResult:
        result = BatchResult()
        groups: dict[str, list[_Seed]] = defaultdict(list)
        catalog = self.models.catalog
        for message in messages:
            outcome = self._resolve(message, catalog.index)
            if isinstance(outcome, Rejected):
                self._reject(result, message, outcome)
            else:
                groups[outcome[0]].append(outcome[1])
        generated_at = timestamp_now()
        for name, seeds in groups.items():
            served = self.models.get(name)
            assert served is not None
            try:
                answers = self._recommend(served, seeds, generated_at, result)
            except Exception as exc:  # a model bug must not stop the service
                for seed in seeds:
                    reason = Rejected(DeadLetterReason.INTERNAL, f"{type(exc).__name__}: {exc}")
                    self._reject(result, seed.message, reason)
            else:
                result.recommendations.extend(answers)
                result.published[name] = len(answers)
        return result

    def _resolve(self, message: Message, index: dict[str, int]) -> tuple[str, _Seed] | Rejected:
        event = decode(message.key(), message.value(), self.max_event_bytes)
        if isinstance(event, Rejected):
            return event
        served = self.models.get(event.model)
        if served is None:
            return Rejected(DeadLetterReason.UNKNOWN_MODEL, f"no model {event.model!r} is loaded")
        if event.track_id is not None:
            row = index.get(event.track_id, -1)
            if row < 0:
                return Rejected(
                    DeadLetterReason.UNKNOWN_TRACK, f"{event.track_id!r} not in catalog"
                )
            return served.recommender.name, _Seed(message, event, row, None)
        assert event.features is not None
        vector = feature_vector(event.features, self.models.catalog.feature_names)
        if isinstance(vector, Rejected):
            return vector
        return served.recommender.name, _Seed(message, event, -1, vector)

    def _recommend(
        self, served: Served, seeds: list[_Seed], generated_at: bytes, result: BatchResult
    ) -> list[tuple[bytes, bytes]]:
        rows = np.fromiter((s.row for s in seeds), dtype=np.int64, count=len(seeds))
        features = None
        if (rows < 0).any():
            dim = len(self.models.catalog.feature_names)
            features = np.zeros((len(seeds), dim), dtype=np.float32)
            for i, seed in enumerate(seeds):
                if seed.vector is not None:
                    features[i] = seed.vector
        ks = [s.event.k or self.default_k for s in seeds]
        bodies = self._cached(served, seeds, ks, result)
        missing = [i for i, body in enumerate(bodies) if body is None]
        if missing:
            picked = rows[missing]
            neighbours = served.recommender.recommend(
                picked, max(ks[i] for i in missing), None if features is None else features[missing]
            )
            items = served.encoder.items
            for j, i in enumerate(missing):
                seed, k = seeds[i], ks[i]
                body = items(
                    neighbours.rows[j, :k], neighbours.scores[j, :k], seed.event.with_features
                )
                bodies[i] = body
                if served.cache is not None and seed.row >= 0:
                    served.cache.put((seed.row, k, seed.event.with_features), body)
        answer = served.encoder.answer
        return [
            (
                s.event.user_id.encode(),
                answer(s.event.event_id, s.event.user_id, s.event.track_id, body, generated_at),
            )
            for s, body in zip(seeds, bodies, strict=True)
            if body is not None
        ]

    @staticmethod
    def _cached(
        served: Served, seeds: list[_Seed], ks: list[int], result: BatchResult
    ) -> list[bytes | None]:
        """Cached answers of catalog seeds (None where the seed must be searched)."""
        cache = served.cache
        if cache is None:
            return [None] * len(seeds)
        bodies = [
            cache.get((s.row, k, s.event.with_features)) if s.row >= 0 else None
            for s, k in zip(seeds, ks, strict=True)
        ]
        result.cache_hits += sum(body is not None for body in bodies)
        result.cache_lookups += sum(s.row >= 0 for s in seeds)
        return bodies

    @staticmethod
    def _reject(result: BatchResult, message: Message, rejected: Rejected) -> None:
        result.dead_letters.append(
            (message.key(), message.value(), dead_letter_headers(message, rejected))
        )
        result.reasons.append(rejected.reason)
