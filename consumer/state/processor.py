"""A batch with listener state: selections answered from their listener's past, feedback
applied, and the changed states returned as changelog records and store writes (no I/O
besides the store reads).

Selections of one listener in one batch are answered in rounds (each listener's first
selection, then each one's second, ...), so every answer sees the songs the answer before it
showed; a round is one shaped recommend call per model.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from consumer.batch import BatchProcessor, BatchResult, Message, _Seed
from consumer.decode import Rejected, decode_as
from consumer.encode import quote, timestamp_now
from consumer.serving import ModelSet, Served
from consumer.state.codec import (
    ListenerState,
    decode_state,
    encode_state,
    event_key,
    last_seen_ms,
    profile_key,
)
from consumer.state.listeners import (
    StatePolicy,
    record_answer,
    record_dislike,
    stamp_ms,
    update_profiles,
    withheld_rows,
)
from consumer.state.neighbours import NearDuplicates
from consumer.state.store import Stores
from consumer.state.variants import Variants
from recommender.profile import WEIGHTS, decay
from recommender.shaping import Controls, Shape
from schemas import DeadLetterReason, SongFeedback

log = logging.getLogger(__name__)

Changelog = list[tuple[int, bytes, bytes | None]]  # (partition, user id, state or tombstone)


@dataclass
class StatefulResult(BatchResult):
    changelog: Changelog = field(default_factory=list)
    # Per partition: the store's new values (None: deleted), and which keys it held before.
    writes: dict[int, dict[bytes, bytes | None]] = field(default_factory=dict)
    existed: dict[int, dict[bytes, bool]] = field(default_factory=dict)
    feedback: Counter[tuple[str, str]] = field(default_factory=Counter)  # (variant, action)
    expired: int = 0
    unreadable: int = 0  # stored states that could not be decoded, started over


_UNREAD: Any = None  # a listener whose state is still to be read from the store
_Event = tuple[Message, _Seed | SongFeedback, str]  # the model resolve chose; "" for feedback


@dataclass(slots=True)
class _Pending:
    """A selection shaped from its listener's state, its exclusions still to resolve: the
    heard songs' rows (-1: not in the catalog) and the disliked track ids."""

    seed: _Seed
    served: Served
    shape: Shape
    rows: list[int]
    disliked: list[str]
    blend: np.ndarray | None
    weight: float


@dataclass(slots=True)
class _Listener:
    partition: int
    key: bytes
    state: ListenerState
    existed: bool
    changed: bool = False
    queue: deque[_Event] = field(default_factory=deque)

    @property
    def stored(self) -> bool:
        """The store holds this listener once the batch is delivered."""
        return self.existed or self.changed


class StatefulProcessor:
    def __init__(
        self,
        base: BatchProcessor,
        stores: Stores,
        policy: StatePolicy,
        feedback_topic: str,
        variants: Variants,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        cached: int = 50_000,
    ) -> None:
        self.base = base
        self.stores = stores
        self.policy = policy
        self.feedback_topic = feedback_topic
        self.variants = variants
        self.clock_ms = clock_ms
        self._near: dict[tuple[str, str], NearDuplicates] = {}
        self._quoted: dict[str, bytes] = {}
        # Decoded states of the last `cached` listeners: user id -> (partition, state, in the
        # store). `_pending`: the listeners of the batches processed but not yet delivered,
        # oldest first (at-least-once delivers a batch while the next is processed); the
        # next batch reads its listeners from them first, so it sees their updates. A batch
        # updates its states in place, so a failed one empties both (`forget`): the batches
        # after it are rewound with it and read the store again.
        self.cached = cached
        self._cache: dict[str, tuple[int, ListenerState, bool]] = {}
        self._pending: deque[dict[str, _Listener]] = deque()

    @property
    def models(self) -> ModelSet:
        return self.base.models

    def process(self, messages: Sequence[Message], sweep: bool = False) -> StatefulResult:
        result = StatefulResult()
        now = self.clock_ms()
        listeners, result.unreadable = self._load(self._decode(messages, result), now)
        self._pending.append(listeners)
        generated_at = timestamp_now()
        while True:
            groups = self._round(listeners, result, now)
            if not groups:
                break
            self.base.answer_groups(groups, generated_at, result)
            self._answered(listeners, [seed for seeds in groups.values() for seed in seeds])
        self._collect(listeners, result, now)
        if sweep:
            self._sweep(listeners, result, now)
        return result

    def stateless(self, messages: Sequence[Message], error: Exception) -> StatefulResult:
        """The batch answered as if state were off, after `process` failed with `error` (a
        bug must not stop the answers): selections get plain answers, feedback is dead-
        lettered (reason internal, so it can be replayed), and no state changes."""
        self.forget()
        result = StatefulResult()
        why = Rejected(
            DeadLetterReason.INTERNAL, f"listener state: {type(error).__name__}: {error}"
        )
        selections = []
        for message in messages:
            if message.topic() == self.feedback_topic:
                self.base._reject(result, message, why)
            else:
                selections.append(message)
        self.base.process(selections, into=result)
        return result

    # The decoded-state cache.

    def settled(self, result: StatefulResult) -> None:
        """The oldest batch not yet delivered was, and its writes are in the store: keep its
        states."""
        if not self._pending:
            return
        listeners = self._pending.popleft()
        cache = self._cache
        for user, listener in listeners.items():
            cache.pop(user, None)  # to the end: the most recently used
            cache[user] = (listener.partition, listener.state, listener.stored)
        for changes in result.writes.values():
            for key, value in changes.items():
                if value is None:  # a tombstone
                    cache.pop(key.decode(), None)
        excess = len(cache) - self.cached
        if excess > 0:
            for user in [u for u, _ in zip(cache, range(excess), strict=False)]:
                del cache[user]

    def forget(self) -> None:
        """Drop every decoded state: after a failed batch, and when partitions move."""
        self._cache.clear()
        self._pending.clear()

    # Decoding and loading.

    def _decode(self, messages: Sequence[Message], result: StatefulResult) -> list[_Event]:
        events: list[_Event] = []
        index = self.models.catalog.index
        for message in messages:
            if message.topic() == self.feedback_topic:
                feedback = decode_as(
                    SongFeedback, message.key(), message.value(), self.base.max_event_bytes
                )
                if not isinstance(feedback, Rejected) and feedback.track_id not in index:
                    feedback = Rejected(
                        DeadLetterReason.UNKNOWN_TRACK, f"{feedback.track_id!r} not in catalog"
                    )
                if isinstance(feedback, Rejected):
                    self.base._reject(result, message, feedback)
                else:
                    events.append((message, feedback, ""))
                continue
            outcome = self.base.resolve(message)
            if isinstance(outcome, Rejected):
                self.base._reject(result, message, outcome)
            else:
                events.append((message, outcome[1], outcome[0]))
        return events

    def _load(self, events: list[_Event], now: int) -> tuple[dict[str, _Listener], int]:
        """The batch's listeners: from the batches in flight, the cache, or one multi-get per
        partition. Expired states start over, and so do unreadable ones (their count)."""
        wanted: dict[int, dict[str, None]] = defaultdict(dict)
        whose = [_user(event) for _, event, _ in events]
        for (message, _, _), user in zip(events, whose, strict=True):
            wanted[message.partition() or 0][user] = None
        listeners: dict[str, _Listener] = {}
        horizon = now - self.policy.ttl_s * 1000
        cache = self._cache
        unreadable = 0
        for partition, users in wanted.items():
            store = self.stores.get(partition)
            missing = []
            for user in users:
                hit = self._in_flight(user) or cache.get(user)
                if hit is not None and hit[0] == partition and store is not None:
                    state = hit[1] if hit[1].last_seen_ms >= horizon else ListenerState()
                    listeners[user] = _Listener(partition, user.encode(), state, hit[2])
                else:
                    missing.append(user)
                    listeners[user] = _UNREAD  # holds its place: answers keep arrival order
            if not missing:
                continue
            keys = [user.encode() for user in missing]
            values = store.get_many(keys) if store is not None else [None] * len(keys)
            for user, key, value in zip(missing, keys, values, strict=True):
                state = ListenerState()
                if value is not None and last_seen_ms(value) >= horizon:
                    try:
                        state = decode_state(value)
                    except Exception as exc:  # e.g. a format this version cannot read
                        log.warning("listener %r: unreadable state (%s), starting over", user, exc)
                        unreadable += 1
                listeners[user] = _Listener(partition, key, state, value is not None)
        for entry, user in zip(events, whose, strict=True):
            listeners[user].queue.append(entry)
        return listeners, unreadable

    def _in_flight(self, user: str) -> tuple[int, ListenerState, bool] | None:
        """The listener as the newest batch not yet delivered left it, if one holds it."""
        for batch in reversed(self._pending):
            listener = batch.get(user)
            if listener is not None:
                return listener.partition, listener.state, listener.stored
        return None

    # Rounds.

    def _round(
        self, listeners: dict[str, _Listener], result: StatefulResult, now: int
    ) -> dict[str, list[_Seed]]:
        """Each listener's events up to their next selection: feedback applied, the selection
        shaped. Returns the selections by model."""
        groups: dict[str, list[_Seed]] = defaultdict(list)
        selected: list[tuple[ListenerState, int]] = []  # whose profiles move, by which song
        pending: list[_Pending] = []
        for listener in listeners.values():
            queue = listener.queue
            while queue:
                message, event, name = queue.popleft()
                fallback = message_ms(message, now)
                if isinstance(event, SongFeedback):
                    self._feedback(listener, event, fallback, result)
                    continue
                moved = self._select(listener, event, name, fallback, pending)
                groups[name].append(event)
                if moved:
                    selected.append((listener.state, event.row))
                break
        if pending:
            self._withhold(pending)
        if selected:  # after shaping: a session seed blends the profile before its selection
            self._move_profiles(selected)
        return groups

    def _move_profiles(self, selected: list[tuple[ListenerState, int]]) -> None:
        """One selection each moves these listeners' profiles: numpy over the whole round
        (`TasteProfile.updated`, vectorised)."""
        rows = np.fromiter((row for _, row in selected), np.int64, len(selected))
        signed = WEIGHTS["select"]
        factor = decay(self.policy.half_life)
        for served in self.models.all():
            key = profile_key(served.recommender.name, served.recommender.version)
            embeddings = served.recommender.catalog_embedding[rows]
            width = embeddings.shape[1]
            empty = (0.0, bytes(4 * width))
            stored = [state.profiles.get(key, empty) for state, _ in selected]
            stored = [s if len(s[1]) == 4 * width else empty for s in stored]
            weights = np.fromiter((w for w, _ in stored), np.float64, len(stored))
            vectors = np.frombuffer(b"".join(v for _, v in stored), np.float32)
            vectors = vectors.reshape(len(stored), width)
            kept = factor * weights
            total = kept + abs(signed)
            moved = (kept[:, None] * vectors + signed * embeddings) / total[:, None]
            packed = moved.astype(np.float32).tobytes()
            step = 4 * width
            for i, (state, _) in enumerate(selected):
                state.set_profile(key, float(total[i]), packed[i * step : (i + 1) * step])

    def _feedback(
        self, listener: _Listener, event: SongFeedback, fallback: int, result: StatefulResult
    ) -> None:
        state = listener.state
        if state.seen(event.event_id):
            return  # a replay: counted the first time
        action = event.action.value
        p = self.policy
        catalog = self.models.catalog
        row = catalog.index[event.track_id]
        state.locate(catalog, catalog.index)
        stamp = stamp_ms(event.timestamp, fallback)
        state.record(event.event_id, event.track_id, action, stamp, p.history, row=row)
        if action == "dislike":
            record_dislike(state, event.track_id, p.disliked)
        update_profiles(state, self._embeddings(row), action, p.half_life)
        listener.changed = True
        result.feedback[(self.variants.of(event.user_id).name, action)] += 1

    def _select(
        self, listener: _Listener, seed: _Seed, name: str, fallback: int, pending: list[_Pending]
    ) -> bool:
        """Shape the selection, answered by model `name`, from the state (its exclusions are
        resolved for the whole round, by `_withhold`); record it (unless a replay). Whether
        the listener's profiles are to move by the seed's song."""
        event, state, p = seed.event, listener.state, self.policy
        served = self.models.get(name)
        assert served is not None  # resolved before
        key = seed.key = event_key(event.event_id)
        replay = key in state.event_ids
        catalog = self.models.catalog
        state.locate(catalog, catalog.index)
        rows, disliked = withheld_rows(state, key, event.exclude_heard, event.fresh, p.shown)
        shape = seed.shape
        if shape is None:  # version 1: the k nearest songs, and no artist cap
            features = None if seed.vector is None else tuple(seed.vector.tolist())
            shape = Shape(event.k or self.base.default_k, (seed.row,), features, _NO_CAP)
            seed.v1 = True
        blend, weight = None, 0.0
        if event.seed_mode == "session":
            width = served.recommender.catalog_embedding.shape[1]
            profile = state.profile(profile_key(name, served.recommender.version), width)
            if profile.weight > 0:
                blend, weight = profile.vector, event.session_weight
        pending.append(_Pending(seed, served, shape, rows, disliked, blend, weight))
        seed.personal = True
        if replay:
            return False
        first = event.track_id or (event.seed_track_ids or [""])[0]
        stamp = stamp_ms(event.timestamp, fallback)
        row = seed.row if seed.row >= 0 or not first else catalog.index.get(first, -1)
        state.record(event.event_id, first, "select", stamp, p.history, key, row)
        listener.changed = True
        return seed.row >= 0

    def _withhold(self, pending: list[_Pending]) -> None:
        """The round's exclusions, numpy over all its selections at once: the heard songs
        (less each selection's own seeds), counted for `excluded_heard`, and the disliked
        songs' near-duplicates; then each selection's final `Shape`."""
        catalog = self.models.catalog
        position = catalog.canonical_position
        n = len(pending)
        lengths = np.fromiter((len(q.rows) for q in pending), np.int64, n)
        everyone: list[int] = []
        for q in pending:
            everyone += q.rows
        flat = np.array(everyone, np.int64)
        request = np.repeat(np.arange(n), lengths)
        known = flat >= 0
        positions, request = position[flat[known]], request[known]
        width = max(len(q.shape.seed_rows) for q in pending)
        seeds = np.full((n, width), -1, np.int64)
        for i, q in enumerate(pending):
            seeds[i, : len(q.shape.seed_rows)] = q.shape.seed_rows
        seeds = np.where(seeds >= 0, position[np.maximum(seeds, 0)], -1)
        keep = (positions[:, None] != seeds[request]).all(axis=1)
        positions, request = positions[keep], request[keep]
        counts = distinct_per_request(request, positions, n)
        ends = np.searchsorted(request, np.arange(1, n))
        index = catalog.index
        split = np.split(positions, ends)
        for q, heard, count in zip(pending, split, counts.tolist(), strict=True):
            if q.disliked:
                banned = self._near_duplicates(
                    q.served, [index[t] for t in q.disliked if t in index]
                )
                if banned:
                    heard = np.concatenate([heard, np.fromiter(banned, np.int64, len(banned))])
            s, seed = q.shape, q.seed
            seed.shape = Shape(
                s.k, s.seed_rows, s.seed_features, s.controls, q.blend, q.weight, heard
            )
            seed.listener = b',"excluded_heard":%d,"variant":%s' % (
                count,
                self._quote(seed.variant),
            )

    def _quote(self, variant: str) -> bytes:
        quoted = self._quoted.get(variant)
        if quoted is None:
            quoted = self._quoted[variant] = quote(variant)
        return quoted

    def _answered(self, listeners: dict[str, _Listener], seeds: list[_Seed]) -> None:
        """The round's answers are shown: their songs join their listeners' states (their
        track ids looked up in one pass over the round)."""
        answered = [(seed, seed.answered) for seed in seeds if seed.answered is not None]
        if not answered:  # (None: dead-lettered)
            return
        flat = np.concatenate([rows for _, rows in answered])
        tracks = self.models.catalog.track_ids[flat].tolist()
        flat_rows = flat.tolist()
        keep, start = self.policy.shown, 0
        for seed, rows in answered:
            end = start + len(rows)
            listener = listeners[seed.event.user_id]
            key = seed.key or event_key(seed.event.event_id)
            if record_answer(listener.state, key, tracks[start:end], keep, flat_rows[start:end]):
                listener.changed = True
            start = end

    # Models.

    def _embeddings(self, row: int) -> list[tuple[str, np.ndarray]]:
        return [
            (
                profile_key(served.recommender.name, served.recommender.version),
                served.recommender.catalog_embedding[row],
            )
            for served in self.models.all()
        ]

    def _near_duplicates(self, served: Served, rows: list[int]) -> set[int]:
        if not rows:
            return set()
        recommender = served.recommender
        key = (recommender.name, recommender.version)
        near = self._near.get(key)
        if near is None or near.recommender is not recommender:
            near = self._near[key] = NearDuplicates(recommender)
        return near.positions(rows)

    # Writing back.

    def _collect(self, listeners: dict[str, _Listener], result: StatefulResult, now: int) -> None:
        for listener in listeners.values():
            if not listener.changed:
                continue
            listener.state.last_seen_ms = now
            value = encode_state(listener.state)
            result.changelog.append((listener.partition, listener.key, value))
            result.writes.setdefault(listener.partition, {})[listener.key] = value
            result.existed.setdefault(listener.partition, {})[listener.key] = listener.existed

    def _sweep(self, listeners: dict[str, _Listener], result: StatefulResult, now: int) -> None:
        """Tombstones for the listeners idle longer than --state-ttl."""
        horizon = now - self.policy.ttl_s * 1000
        touched = {listener.key for listener in listeners.values()}
        for batch in self._pending:  # active in a batch not delivered yet: not idle
            touched.update(listener.key for listener in batch.values())
        for partition in self.stores.partitions:
            store = self.stores.get(partition)
            assert store is not None
            for key, value in store.items():
                if key not in touched and last_seen_ms(value) < horizon:
                    result.changelog.append((partition, key, None))
                    result.writes.setdefault(partition, {})[key] = None
                    result.existed.setdefault(partition, {})[key] = True
                    result.expired += 1


_NO_CAP = Controls(max_per_artist=0)


def distinct_per_request(request: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """(n,) how many distinct `values` (>= 0) each of n requests has; `request` gives each
    value's request, ascending. One sort of the short rows of a padded (n, longest) matrix:
    far cheaper than a `np.unique` over the whole round."""
    sizes = np.bincount(request, minlength=n)
    width = int(sizes.max(initial=0))
    if width == 0:
        return np.zeros(n, np.int64)
    starts = np.cumsum(sizes) - sizes
    table = np.full((n, width), -1, np.int64)
    table[request, np.arange(len(request)) - starts[request]] = values
    table.sort(axis=1)  # the padding (-1) first
    first = table[:, 0] >= 0  # a full row: its first value is one
    counts: np.ndarray = first + ((table[:, 1:] != table[:, :-1]) & (table[:, 1:] >= 0)).sum(axis=1)
    return counts


def _user(event: _Seed | SongFeedback) -> str:
    return event.user_id if isinstance(event, SongFeedback) else event.event.user_id


def message_ms(message: Message, fallback: int) -> int:
    stamp = getattr(message, "timestamp", None)
    if stamp is None:
        return fallback
    kind, value = stamp()
    return int(value) if kind and value > 0 else fallback
