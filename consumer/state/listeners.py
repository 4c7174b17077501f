"""What one listener's events do to their state, and what their state withholds from an answer.

Pure: no store, no Kafka. Every update is idempotent per event_id: an event whose id is in
the listener's history changes nothing (a replayed batch counts once), and a replayed
selection is answered with the exclusions it had the first time (the history and the answers
before it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from consumer.state.codec import CODE_ACTIONS, ListenerState, event_key
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


@dataclass(frozen=True, slots=True)
class Withheld:
    """Track ids an answer must not hold: `heard` (history and recent answers, withheld by
    exclude_heard) and `disliked` (always)."""

    heard: list[str]
    disliked: list[str]


def withheld(
    state: ListenerState,
    event_id: str,
    exclude_heard: bool,
    fresh: bool,
    shown: int,
    key: bytes | None = None,
) -> Withheld:
    """What the answer to selection `event_id` withholds: the state as it was just before
    that selection (the same for its replay). `key`: its `event_key`, when known."""
    cut = len(state.tracks)
    answers = state.shown
    key = key or event_key(event_id)
    if key in state.event_ids:
        cut = state.event_ids.index(key)
        keys = [e for e, _ in answers]
        answers = answers[: keys.index(key)] if key in keys else answers
    heard: list[str] = []
    if exclude_heard:
        heard = [t for t in state.tracks[:cut] if t]
        if fresh:
            for _, tracks in answers[-shown:] if shown else ():
                heard.extend(tracks)
    disliked = list(state.disliked)
    if cut < len(state.tracks):  # a replay: dislikes after it were not known yet
        later = {
            t for t, a in zip(state.tracks[cut:], state.actions[cut:], strict=True) if a == "d"
        }
        earlier = {
            t for t, a in zip(state.tracks[:cut], state.actions[:cut], strict=True) if a == "d"
        }
        disliked = [t for t in disliked if t not in later or t in earlier]
    return Withheld(heard, disliked)


def record_answer(state: ListenerState, event_id: str, tracks: list[str], keep: int) -> bool:
    """The answer to `event_id` was shown; keep the last `keep` answers. False: a replay's."""
    key = event_key(event_id)
    if any(e == key for e, _ in state.shown) or keep <= 0:
        return False
    state.shown.append((key, tracks))
    if len(state.shown) > keep:
        del state.shown[: len(state.shown) - keep]
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
