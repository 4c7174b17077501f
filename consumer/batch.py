"""One batch of raw messages in, encoded recommendations and dead letters out (no I/O).

A version 1 event is answered as it always was: the k nearest songs. A version 2 event (or
one that sets a request control) goes through the rules stage of `recommender.shaping`:
blended seeds, targets, filters, the artist cap (2 by default), diversity, explanations.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from consumer.answer_cache import Key
from consumer.decode import Rejected, decode, feature_vector
from consumer.encode import quote, shaping_fields, timestamp_now
from consumer.serving import ModelSet, Served
from consumer.state.variants import DEFAULT_VARIANT, Variants
from recommender.errors import RequestError, UnknownTrack
from recommender.shaping import Shape
from recommender.shaping.controls import LISTENER_CONTROLS
from schemas import DeadLetterReason, RequestControls, SongSelected

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
    # answers per (model, variant): the published metric's labels
    by_variant: Counter[tuple[str, str]] = field(default_factory=Counter)
    cache_lookups: int = 0  # catalog seeds looked up in an answer cache
    cache_hits: int = 0


@dataclass(slots=True)
class _Seed:
    message: Message
    event: SongSelected
    row: int
    vector: np.ndarray | None
    shape: Shape | None = None  # version 2: the resolved controls
    imputed: tuple[str, ...] = ()  # extras a feature seed lacked, filled with the median
    variant: str = ""
    # Set by the listener state (`consumer.state`): the answer is the listener's own (never
    # cached), a version 1 event keeps its version 1 answer, `listener` holds its fields.
    personal: bool = False
    v1: bool = False
    listener: bytes = b""
    answered: np.ndarray | None = None  # the rows answered, for the listener's state
    key: bytes = b""  # the event id's `event_key` (listener state)
    controls: dict[str, Any] | None = None  # event.shaping(), computed once (version 2)

    def shaping(self) -> dict[str, Any]:
        if self.controls is None:
            self.controls = _controls_of(self.event)
        return self.controls

    def extra(self) -> bytes:
        imputed = (
            b',"imputed":%s' % json.dumps(list(self.imputed)).encode() if self.imputed else b""
        )
        return imputed + self.listener


def _shaped(event: SongSelected) -> bool:
    return (
        event.schema_version >= 2
        or bool(event.model_fields_set & _CONTROL_FIELDS)
        or bool(event.feature_controls)
    )


# Fields that shape an answer: setting one makes a selection a version 2 one.
_CONTROL_FIELDS = frozenset(RequestControls.model_fields)
_CONTROL_ORDER = tuple(RequestControls.model_fields)  # the order the answer echoes them in


def _controls_of(event: SongSelected) -> dict[str, Any]:
    """`event.shaping()`, cheaper: only the fields the event set are looked at."""
    set_ = event.model_fields_set
    given = {name: getattr(event, name) for name in _CONTROL_ORDER if name in set_}
    if event.model_extra:
        given.update(event.feature_controls)
    return given


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
    def __init__(
        self,
        models: ModelSet,
        default_k: int,
        max_event_bytes: int,
        variants: Variants | None = None,
    ) -> None:
        self.models = models
        self.default_k = default_k
        self.max_event_bytes = max_event_bytes
        # With --variant, a selection naming no model is served its listener's variant's.
        self.variants = variants

    def process(self, messages: Sequence[Message], into: BatchResult | None = None) -> BatchResult:
        """Answer a batch (`into`: the result to add to, a new one by default)."""
        result = BatchResult() if into is None else into
        groups: dict[str, list[_Seed]] = defaultdict(list)
        catalog = self.models.catalog
        for message in messages:
            outcome = self._resolve(message, catalog.index)
            if isinstance(outcome, Rejected):
                self._reject(result, message, outcome)
            else:
                if self.variants is not None and self.variants.configured:
                    outcome[1].listener = b',"variant":%s' % quote(outcome[1].variant)
                groups[outcome[0]].append(outcome[1])
        self.answer_groups(groups, timestamp_now(), result)
        return result

    def answer_groups(
        self, groups: dict[str, list[_Seed]], generated_at: bytes, result: BatchResult
    ) -> None:
        """Answer resolved seeds, one recommend call per model; failures are dead letters."""
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
                result.published[name] = result.published.get(name, 0) + len(answers)
                result.by_variant.update((name, seed.variant) for seed in seeds)

    def resolve(self, message: Message) -> tuple[str, _Seed] | Rejected:
        """One message as (model name, seed), or why it is a dead letter."""
        return self._resolve(message, self.models.catalog.index)

    def _resolve(self, message: Message, index: dict[str, int]) -> tuple[str, _Seed] | Rejected:
        event = decode(message.key(), message.value(), self.max_event_bytes)
        if isinstance(event, Rejected):
            return event
        variant = DEFAULT_VARIANT
        model = event.model
        if self.variants is not None:
            chosen = self.variants.of(event.user_id)
            variant, model = chosen.name, model or chosen.model
        served = self.models.get(model)
        if served is None:
            return Rejected(DeadLetterReason.UNKNOWN_MODEL, f"no model {model!r} is loaded")
        outcome = self._resolve_seed(message, event, served, index)
        if not isinstance(outcome, Rejected):
            outcome[1].variant = variant
        return outcome

    def _resolve_seed(
        self, message: Message, event: SongSelected, served: Served, index: dict[str, int]
    ) -> tuple[str, _Seed] | Rejected:
        if _shaped(event):
            return self._resolve_shaped(message, event, served)
        if event.track_id is not None:
            row = index.get(event.track_id, -1)
            if row < 0:
                return Rejected(
                    DeadLetterReason.UNKNOWN_TRACK, f"{event.track_id!r} not in catalog"
                )
            return served.recommender.name, _Seed(message, event, row, None)
        assert event.features is not None
        completed = feature_vector(event.features, self.models.imputer)
        if isinstance(completed, Rejected):
            return completed
        seed = _Seed(message, event, -1, completed.vector, imputed=completed.imputed)
        return served.recommender.name, seed

    def _resolve_shaped(
        self, message: Message, event: SongSelected, served: Served
    ) -> tuple[str, _Seed] | Rejected:
        catalog = self.models.catalog
        features = event.features
        imputed: tuple[str, ...] = ()
        if features is not None:
            completed = feature_vector(features, self.models.imputer)
            if isinstance(completed, Rejected):
                return completed
            assert completed.vector is not None
            features = dict(zip(catalog.feature_names, completed.vector.tolist(), strict=True))
            imputed = completed.imputed
        given = _controls_of(event)
        k = event.k or self.default_k
        if features is None and event.seed_track_ids is None and given.keys() <= LISTENER_CONTROLS:
            # Only listener controls (answered from listener state): the rules stage's plain
            # request, without the resolution of controls that are not there.
            row = catalog.index.get(event.track_id or "", -1)
            if row < 0:
                return Rejected(
                    DeadLetterReason.UNKNOWN_TRACK, f"{event.track_id!r} not in catalog"
                )
            seed = _Seed(message, event, row, None, Shape(k, (row,)), imputed, controls=given)
            return served.recommender.name, seed
        controls = {**given, "track_id": event.track_id, "features": features}
        try:
            shape = Shape.resolve(catalog, controls, k)
        except UnknownTrack as exc:
            return Rejected(DeadLetterReason.UNKNOWN_TRACK, str(exc))
        except RequestError as exc:
            return Rejected(DeadLetterReason.INVALID_SCHEMA, str(exc))
        row = shape.seed_rows[0] if len(shape.seed_rows) == 1 else -1
        seed = _Seed(message, event, row, None, shape, imputed, controls=given)
        return served.recommender.name, seed

    def _recommend(
        self, served: Served, seeds: list[_Seed], generated_at: bytes, result: BatchResult
    ) -> list[tuple[bytes, bytes]]:
        plain = [s for s in seeds if s.shape is None]
        if len(plain) == len(seeds):
            return self._recommend_plain(served, seeds, generated_at, result)
        shaped = [s for s in seeds if s.shape is not None]
        answers = {
            id(s): a
            for group, answer in (
                (plain, self._recommend_plain),
                (shaped, self._recommend_shaped),
            )
            if group
            for s, a in zip(group, answer(served, group, generated_at, result), strict=True)
        }
        return [answers[id(s)] for s in seeds]  # input order: one listener's answers in order

    def _recommend_shaped(
        self, served: Served, seeds: list[_Seed], generated_at: bytes, result: BatchResult
    ) -> list[tuple[bytes, bytes]]:
        """Version 2: one rules-stage call for the batch; a catalog seed that sets no control
        (the default artist cap only) is answered from the cache when it can be."""
        keys: list[Key | None] = [
            (s.row, s.shape.k, s.event.with_features, "shaped")
            if s.shape is not None and s.row >= 0 and not s.personal and not s.shaping()
            else None
            for s in seeds
        ]
        cache = served.cache
        bodies: list[bytes | None] = [None] * len(seeds)
        if cache is not None:
            bodies = [cache.get(key) if key is not None else None for key in keys]
            result.cache_lookups += sum(key is not None for key in keys)
            result.cache_hits += sum(body is not None for body in bodies)
        missing = [i for i, body in enumerate(bodies) if body is None]
        exhausted = [False] * len(seeds)
        if missing:
            shapes = [seeds[i].shape for i in missing]
            found = served.recommender.recommend_shaped([s for s in shapes if s is not None])
            for j, i in enumerate(missing):
                count = int(found.counts[j])
                exhausted[i] = bool(found.exhausted[j])
                seeds[i].answered = found.rows[j, :count]
                body = served.encoder.items(
                    found.rows[j, :count],
                    found.scores[j, :count],
                    seeds[i].event.with_features,
                    found.because[j],
                )
                bodies[i] = body
                key = keys[i]
                if cache is not None and key is not None and not exhausted[i]:
                    cache.put(key, body)
        answer = served.encoder.answer
        answers = []
        for seed, encoded, short in zip(seeds, bodies, exhausted, strict=True):
            event = seed.event
            assert encoded is not None
            first = event.seed_ids[0] if event.seed_ids else None
            if seed.v1:  # a version 1 event the listener state shaped: a version 1 answer
                value = answer(
                    event.event_id, event.user_id, first, encoded, generated_at, 1, seed.extra()
                )
                answers.append((event.user_id.encode(), value))
                continue
            constraints = {"max_per_artist": event.max_per_artist, **seed.shaping()}
            extra = shaping_fields(short, constraints) + seed.extra()
            value = answer(event.event_id, event.user_id, first, encoded, generated_at, 2, extra)
            answers.append((event.user_id.encode(), value))
        return answers

    def _recommend_plain(
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
                answer(
                    s.event.event_id,
                    s.event.user_id,
                    s.event.track_id,
                    body,
                    generated_at,
                    extra=s.extra(),
                ),
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
