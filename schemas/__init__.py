"""Encore's wire contract: pydantic models and the JSON Schema files generated from them."""

from schemas.catalog import CatalogTrack
from schemas.events import (
    DEAD_LETTER_HEADERS,
    DEFAULT_MAX_PER_ARTIST,
    FEATURE_CONTROL,
    MAX_K,
    MAX_POOL,
    MAX_SEEDS,
    SCHEMA_VERSION,
    DeadLetterReason,
    Recommendations,
    RecommendedItem,
    RequestControls,
    Selection,
    SongSelected,
)
from schemas.feedback import FeedbackAction, SongFeedback
from schemas.jsonschema import SCHEMA_FILES, render_schemas

__all__ = [
    "DEAD_LETTER_HEADERS",
    "DEFAULT_MAX_PER_ARTIST",
    "FEATURE_CONTROL",
    "MAX_K",
    "MAX_POOL",
    "MAX_SEEDS",
    "SCHEMA_FILES",
    "SCHEMA_VERSION",
    "CatalogTrack",
    "DeadLetterReason",
    "FeedbackAction",
    "Recommendations",
    "RecommendedItem",
    "RequestControls",
    "Selection",
    "SongFeedback",
    "SongSelected",
    "render_schemas",
]
