"""Answer one request synchronously through the service's own batch path (`BatchProcessor`):
the same validation, recommender, request controls, encoder and answer cache, so the same
items for the same seed and model as the answer published on Kafka."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from consumer.batch import BatchProcessor, Headers
from consumer.decode import Rejected, feature_vector
from consumer.serving import ModelSet, Served
from recommender.errors import RequestError, UnknownTrack
from recommender.shaping import Shape
from schemas import DeadLetterReason
from web.contract import RecommendationRequest
from web.problems import ProblemError

# A direct answer has no listener; docs/api.md says `"user_id": null`. The event needs a
# non-empty one, so it carries this and the answer's field is rewritten (the first match is
# the field: event ids are generated hex).
_NO_USER = "-"
_AS_ENCODED = b',"user_id":"-",'
_NULL_USER = b',"user_id":null,'

_STATUS = {
    DeadLetterReason.UNKNOWN_TRACK: 404,
    DeadLetterReason.UNKNOWN_MODEL: 404,
    DeadLetterReason.INTERNAL: 500,
}


@dataclass(frozen=True, slots=True)
class _Message:
    """What `BatchProcessor` reads of a Kafka message."""

    _value: bytes

    def key(self) -> bytes:
        return _NO_USER.encode()

    def value(self) -> bytes:
        return self._value

    def topic(self) -> str:
        return "http"

    def partition(self) -> int:
        return -1

    def offset(self) -> int:
        return -1

    def headers(self) -> Headers:
        return []


class DirectAnswers:
    """One `BatchProcessor` per model set, as the service has.

    Not thread-safe (the answer cache is built for the service's single loop): call it from
    one thread, here the event loop.
    """

    def __init__(self, default_k: int, max_event_bytes: int) -> None:
        self.default_k = default_k
        self.max_event_bytes = max_event_bytes
        self._processor: BatchProcessor | None = None

    def processor(self, models: ModelSet) -> BatchProcessor:
        if self._processor is None or self._processor.models is not models:
            self._processor = BatchProcessor(models, self.default_k, self.max_event_bytes)
        return self._processor

    def answer(self, models: ModelSet, request: RecommendationRequest) -> bytes:
        """The Recommendations JSON for `request`, or a `ProblemError` saying why not."""
        return answer(self.processor(models), request)


def answer(processor: BatchProcessor, request: RecommendationRequest) -> bytes:
    event = request.event(uuid.uuid4().hex, _NO_USER)
    result = processor.process([_Message(json.dumps(event).encode())])
    if result.recommendations:
        return result.recommendations[0][1].replace(_AS_ENCODED, _NULL_USER, 1)
    (_, _, headers), reason = result.dead_letters[0], result.reasons[0]
    message = dict(headers).get("error.message") or b""
    detail = message.decode() if isinstance(message, bytes) else str(message)
    raise ProblemError(_STATUS.get(reason, 422), detail or reason.value)


def resolve_model(models: ModelSet, name: str | None) -> Served:
    served = models.get(name)
    if served is None:
        loaded = ", ".join(models.versions())
        raise ProblemError(404, f"no model {name!r} is loaded (loaded: {loaded})")
    return served


def check_seed(models: ModelSet, request: RecommendationRequest, default_k: int) -> None:
    """What would make the service dead-letter the event, found before it is published."""
    resolve_model(models, request.model)
    ids = [request.track_id] if request.track_id is not None else []
    for track_id in ids + (request.seed_track_ids or []):
        if track_id not in models.catalog.index:
            raise ProblemError(404, f"no track {track_id!r} in the catalog")
    if request.features is not None:
        completed = feature_vector(request.features, models.imputer)
        if isinstance(completed, Rejected):
            raise ProblemError(422, f"features: {completed.message}")
    # The rules the service would refuse (min above max, an unknown feature, a pool under k).
    controls = {**request.shaping(), "track_id": request.track_id, "features": request.features}
    try:
        Shape.resolve(models.catalog, controls, request.k or default_k)
    except UnknownTrack as exc:
        raise ProblemError(404, str(exc)) from None
    except RequestError as exc:
        raise ProblemError(422, str(exc)) from None
