"""One listener's state, and its compact bytes: the value of the store and the changelog.

    value = last_seen_ms (8 bytes, big-endian) + msgpack([history, shown, disliked, profiles])

The fixed prefix lets the TTL sweep read a listener's last activity without decoding the rest.
History is kept as parallel lists (packed in native code), its timestamps in seconds as
differences from the first (a byte or two each); a profile's vector is its float32 bytes.
ormsgpack writes the same bytes as msgpack-python in less time (a state: ~5 µs, not ~8).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import ormsgpack

from recommender.profile import TasteProfile

FORMAT = 1
_PREFIX = struct.Struct(">q")

# One letter per history entry: a selection, or a feedback action.
ACTION_CODES = {"select": "s", "play": "p", "skip": "k", "like": "l", "dislike": "d"}
CODE_ACTIONS = {code: action for action, code in ACTION_CODES.items()}


def event_key(event_id: str) -> bytes:
    """8 bytes standing for an event id: what a replay is recognised by. Ids are up to 256
    characters; two of one listener's last events colliding has odds of about 2**-53."""
    return hashlib.blake2b(event_id.encode(), digest_size=8).digest()


@dataclass(slots=True)
class ListenerState:
    """What the service knows of one listener, newest last everywhere.

    `history`: the last `--history` selections and feedback actions, as parallel lists
    (track id, action code, timestamp in s, `event_key` of the event id): the events a
    replay is recognised by. `shown`: (event key, track ids) of the last `--shown` answers.
    `disliked`: every disliked track id still remembered (bounded apart from the history).
    `profiles`: `profile_key` (model name and version: one embedding space) -> (weight,
    float32 vector bytes); a new version of a model starts its profile over.

    An answer in `shown` is a tuple of strings, and its rows a tuple of ints: containers the
    cyclic garbage collector stops following once it has seen them, so each answer costs its
    passes nothing after the first (the lists are changed in place: no new containers).

    Not stored: `rows` and `shown_rows`, the catalog rows of `tracks` and of each `shown`
    answer (-1: not in the catalog), valid for the catalog `rows_of` (None: not worked out
    since decoding). While it is set, `record` and `show` keep them in step.
    """

    last_seen_ms: int = 0
    tracks: list[str] = field(default_factory=list)
    actions: str = ""
    stamps: list[int] = field(default_factory=list)
    event_ids: list[bytes] = field(default_factory=list)
    shown: list[tuple[bytes, tuple[str, ...]]] = field(default_factory=list)
    disliked: list[str] = field(default_factory=list)
    profiles: dict[str, tuple[float, bytes]] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list, compare=False, repr=False)
    shown_rows: list[tuple[int, ...]] = field(default_factory=list, compare=False, repr=False)
    rows_of: object | None = field(default=None, compare=False, repr=False)

    def seen(self, event_id: str) -> bool:
        return event_key(event_id) in self.event_ids

    def record(
        self,
        event_id: str,
        track_id: str,
        action: str,
        stamp_ms: int,
        keep: int,
        key: bytes | None = None,
        row: int = -1,
    ) -> None:
        """Append one event to the history, keeping the newest `keep` (`key`: its
        `event_key`, when the caller has it; `row`: the track's row in `rows_of`)."""
        self.tracks.append(track_id)
        self.actions += ACTION_CODES[action]
        self.stamps.append(stamp_ms // 1000)
        self.event_ids.append(key or event_key(event_id))
        if self.rows_of is not None:
            self.rows.append(row)
        if len(self.tracks) > keep:
            cut = len(self.tracks) - keep
            del self.tracks[:cut], self.stamps[:cut], self.event_ids[:cut]
            self.actions = self.actions[cut:]
            if self.rows_of is not None:
                del self.rows[:cut]

    def show(self, key: bytes, tracks: Sequence[str], rows: Sequence[int], keep: int) -> None:
        """Keep an answer's songs (`rows`: theirs in `rows_of`), and the last `keep` answers."""
        self.shown.append((key, tuple(tracks)))
        if self.rows_of is not None:
            self.shown_rows.append(tuple(rows))
        if len(self.shown) > keep:
            cut = len(self.shown) - keep
            del self.shown[:cut]
            if self.rows_of is not None:
                del self.shown_rows[:cut]

    def locate(self, catalog: object, index: Mapping[str, int]) -> None:
        """Work out `rows` and `shown_rows` for `catalog` (`index`: its track id -> row)."""
        if self.rows_of is catalog:
            return
        self.rows = [index.get(t, -1) if t else -1 for t in self.tracks]
        self.shown_rows = [tuple([index.get(t, -1) for t in ids]) for _, ids in self.shown]
        self.rows_of = catalog

    def profile(self, key: str, width: int) -> TasteProfile:
        stored = self.profiles.get(key)
        if stored is None or len(stored[1]) != 4 * width:
            return TasteProfile.empty(width)
        weight, vector = stored
        return TasteProfile(np.frombuffer(vector, np.float32), weight)

    def set_profile(self, key: str, weight: float, vector: bytes) -> None:
        """Keep `key`'s profile, and drop the model's profiles of other versions."""
        if key not in self.profiles:
            model = key.partition("@")[0] + "@"
            for old in [k for k in self.profiles if k.startswith(model)]:
                del self.profiles[old]
        self.profiles[key] = (weight, vector)


def profile_key(model: str, version: str) -> str:
    return f"{model}@{version}"


def encode_state(state: ListenerState) -> bytes:
    body: bytes = ormsgpack.packb(
        [
            FORMAT,
            state.tracks,
            state.actions,
            _deltas(state.stamps),
            state.event_ids,
            state.shown,
            state.disliked,
            state.profiles,
        ]
    )
    return _PREFIX.pack(state.last_seen_ms) + body


def decode_state(value: bytes) -> ListenerState:
    (last_seen,) = _PREFIX.unpack_from(value)
    fields = ormsgpack.unpackb(memoryview(value)[_PREFIX.size :])
    if fields[0] != FORMAT:
        raise ValueError(f"listener state format {fields[0]}, this service reads {FORMAT}")
    _, tracks, actions, stamps, event_ids, shown, disliked, profiles = fields
    return ListenerState(
        last_seen,
        tracks,
        actions,
        _undeltas(stamps),
        event_ids,
        [(event_id, tuple(ids)) for event_id, ids in shown],
        disliked,
        {name: (weight, vector) for name, (weight, vector) in profiles.items()},
    )


def _deltas(stamps: list[int]) -> list[int]:
    return [stamps[0], *[s - stamps[0] for s in stamps[1:]]] if stamps else []


def _undeltas(deltas: list[int]) -> list[int]:
    return [deltas[0], *[deltas[0] + d for d in deltas[1:]]] if deltas else []


def last_seen_ms(value: bytes) -> int:
    """A stored state's last activity, without decoding it."""
    (stamp,) = _PREFIX.unpack_from(value)
    return int(stamp)
