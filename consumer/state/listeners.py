"""What one listener's events do to their state, and what their state withholds from an answer.

Pure: no store, no Kafka. Every update is idempotent per event_id: an event whose id is in
the listener's history changes nothing (a replayed batch counts once), and a replayed
selection is answered with the exclusions it had the first time (the history and the answers
before it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from consumer.state.codec import CODE_ACTIONS, ListenerState
from recommender.profile import DEFAULT_HALF_LIFE

DAY_S = 86_400.0


@dataclass(frozen=True)
class StatePolicy:
    """`--history`, `--shown`, `--profile-half-life`, `--state-ttl`; `disliked`: how many
    disliked songs a listener keeps beyond their history."""

    history: int = 50
    shown: int = 3
    half_life: float = DEFAULT_HALF_LIFE
    ttl_s: float = 30 * DAY_S
    disliked: int = 200


def stamp_ms(timestamp: datetime | int | None, fallback_ms: int) -> int:
    if isinstance(timestamp, datetime):
        return int(timestamp.timestamp() * 1000)
    if isinstance(timestamp, int):
        return timestamp
    return fallback_ms


def withheld_rows(
    state: ListenerState, key: bytes, exclude_heard: bool, fresh: bool, shown: int
) -> tuple[list[int], list[str]]:
    """What the answer to selection `key` (an `event_key`) withholds, from the state as it
    was just before that selection (the same for its replay): the heard songs (history and,
    with `fresh`, the last `shown` answers; none without `exclude_heard`) as catalog rows of
    `state.rows_of`, which must be set (-1: not in it), and the disliked track ids (always)."""
    cut, answers = _before(state, key)
    rows: list[int] = []
    if exclude_heard:
        rows = state.rows[:cut]
        if fresh and shown:
            for answer in state.shown_rows[:answers][-shown:]:
                rows += answer
    return rows, _disliked(state, cut)


def _before(state: ListenerState, key: bytes) -> tuple[int, int]:
    """How many history entries and shown answers came before selection `key` (all of them,
    unless it is a replay)."""
    if key not in state.event_ids:
        return len(state.tracks), len(state.shown)
    keys = [e for e, _ in state.shown]
    return state.event_ids.index(key), keys.index(key) if key in keys else len(keys)


def _disliked(state: ListenerState, cut: int) -> list[str]:
    disliked = list(state.disliked)
    if cut < len(state.tracks):  # a replay: dislikes after it were not known yet
        later = {
            t for t, a in zip(state.tracks[cut:], state.actions[cut:], strict=True) if a == "d"
        }
        earlier = {
            t for t, a in zip(state.tracks[:cut], state.actions[:cut], strict=True) if a == "d"
        }
        disliked = [t for t in disliked if t not in later or t in earlier]
    return disliked


def record_answer(
    state: ListenerState,
    key: bytes,
    tracks: Sequence[str],
    keep: int,
    rows: Sequence[int] = (),
) -> bool:
    """The answer to the selection whose `event_key` is `key` was shown (`rows`: its songs'
    rows in `state.rows_of`); keep the last `keep` answers. False: a replay's."""
    if keep <= 0 or any(e == key for e, _ in state.shown):
        return False
    state.show(key, tracks, rows, keep)
    return True


def record_dislike(state: ListenerState, track_id: str, keep: int) -> None:
    if track_id in state.disliked:
        state.disliked.remove(track_id)
    state.disliked.append(track_id)
    if len(state.disliked) > keep:
        del state.disliked[: len(state.disliked) - keep]


def history_actions(state: ListenerState) -> list[str]:
    return [CODE_ACTIONS[code] for code in state.actions]


def update_profiles(
    state: ListenerState,
    embeddings: Iterable[tuple[str, np.ndarray]],
    action: str,
    half_life: float,
) -> None:
    """One event moves the listener's profile of each model (`embeddings`: the `profile_key`
    of a model and the song's embedding in it)."""
    for key, embedding in embeddings:
        profile = state.profile(key, len(embedding)).updated(embedding, action, half_life)
        state.set_profile(key, profile.weight, profile.vector.tobytes())
