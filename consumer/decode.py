"""Turn one raw message into a valid `SongSelected`, or say why it is a dead letter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from recommender.ingest.imputation import CompletedSeed, SeedImputer
from schemas import DeadLetterReason, SongSelected

EventT = TypeVar("EventT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: DeadLetterReason
    message: str


def decode(key: bytes | None, value: bytes | None, max_bytes: int) -> SongSelected | Rejected:
    """Validate key and value against the wire contract (not against the catalog)."""
    return decode_as(SongSelected, key, value, max_bytes)


def decode_as(
    model: type[EventT], key: bytes | None, value: bytes | None, max_bytes: int
) -> EventT | Rejected:
    """`decode` for any keyed event of the contract (`SongFeedback`, say)."""
    if value is None or len(value) == 0:
        return Rejected(DeadLetterReason.INVALID_JSON, "empty value")
    if len(value) > max_bytes:
        return Rejected(
            DeadLetterReason.INVALID_SCHEMA, f"value of {len(value)} bytes exceeds {max_bytes}"
        )
    if not key:
        return Rejected(DeadLetterReason.INVALID_SCHEMA, "missing key (expected the user_id)")
    try:
        key.decode("utf-8")
    except UnicodeDecodeError:
        return Rejected(DeadLetterReason.INVALID_SCHEMA, "key is not UTF-8")
    try:
        return model.model_validate_json(value)
    except ValidationError as exc:
        return classify(exc)


def classify(exc: ValidationError, subject: str = "event") -> Rejected:
    """Why pydantic refused a message: invalid JSON, or the first five schema errors, each
    at its field (`subject` names the whole message)."""
    errors = exc.errors(include_url=False, include_input=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return Rejected(DeadLetterReason.INVALID_JSON, errors[0]["msg"])
    detail = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or subject}: {e['msg']}" for e in errors[:5]
    )
    return Rejected(DeadLetterReason.INVALID_SCHEMA, detail)


def feature_vector(features: dict[str, float], imputer: SeedImputer) -> CompletedSeed | Rejected:
    """The catalog-ordered feature vector of a feature seed, or why it is unusable.

    The nine audio features are required; an extra the catalog's models use (year,
    popularity, key, ...) that the seed lacks takes the catalog's median, and
    `CompletedSeed.imputed` names it for the answer.
    """
    completed = imputer.complete(features)
    if completed.vector is None:
        return Rejected(DeadLetterReason.INVALID_FEATURES, "; ".join(completed.problems[:5]))
    return completed
