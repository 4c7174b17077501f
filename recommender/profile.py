"""A listener's taste: an exponentially decayed mean of the embeddings of the songs they chose.

Pure numpy, shared by the service's listener state and the offline session evaluation, so
both mean the same thing by "session". One profile per served model (embeddings of different
models live in different spaces).

Each event moves the profile: a selection, a play or a like pulls it toward the song's
embedding, a skip or a dislike pushes it away. Older events fade with a half-life counted in
events: after `half_life` more events, an event weighs half as much.

    p = (d * W * p + s * e) / (d * W + |s|),    W <- d * W + |s|,    d = 0.5 ** (1 / half_life)

where `e` is the song's embedding and `s` the event's signed weight (`WEIGHTS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_HALF_LIFE = 10.0
DEFAULT_SESSION_WEIGHT = 0.5

# The signed weight of each kind of event; "select" is a song-selected event.
WEIGHTS: dict[str, float] = {
    "select": 1.0,
    "play": 0.5,
    "like": 1.0,
    "skip": -0.5,
    "dislike": -1.0,
}


def decay(half_life: float) -> float:
    """The factor an event's weight is multiplied by at each newer event."""
    if half_life <= 0:
        raise ValueError(f"half_life must be positive, got {half_life}")
    return float(0.5 ** (1.0 / half_life))


@dataclass(frozen=True)
class TasteProfile:
    """`vector`: the decayed mean (float32, one model's embedding width); `weight`: W above,
    the decayed total weight behind it (0 for a listener with no events yet)."""

    vector: np.ndarray
    weight: float

    @classmethod
    def empty(cls, width: int) -> TasteProfile:
        return cls(np.zeros(width, dtype=np.float32), 0.0)

    def updated(self, embedding: np.ndarray, action: str, half_life: float) -> TasteProfile:
        """The profile after one more event (`action` a key of `WEIGHTS`)."""
        signed = WEIGHTS[action]
        kept = decay(half_life) * self.weight
        total = kept + abs(signed)
        vector = (kept * self.vector + signed * np.asarray(embedding, np.float32)) / total
        return TasteProfile(vector.astype(np.float32), float(total))

    def to_list(self) -> list[float]:
        return [float(x) for x in self.vector]


def session_query(
    seed: np.ndarray, profile: TasteProfile | None, session_weight: float
) -> np.ndarray:
    """The query of a `session` answer: the seed's embedding blended with the taste profile
    (`session_weight` of the profile), or the seed alone when there is no profile yet."""
    if not 0.0 <= session_weight <= 1.0:
        raise ValueError(f"session_weight must be within 0..1, got {session_weight}")
    if profile is None or profile.weight == 0.0:
        return np.asarray(seed, np.float32)
    blended = (1.0 - session_weight) * np.asarray(seed, np.float32) + session_weight * (
        profile.vector
    )
    return blended.astype(np.float32)
