"""Encore's wire contract: pydantic models and the JSON Schema files generated from them."""

from schemas.events import (
    DEAD_LETTER_HEADERS,
    MAX_K,
    SCHEMA_VERSION,
    DeadLetterReason,
    Recommendations,
    RecommendedItem,
    SongSelected,
)
from schemas.jsonschema import SCHEMA_FILES, render_schemas

__all__ = [
    "DEAD_LETTER_HEADERS",
    "MAX_K",
    "SCHEMA_FILES",
    "SCHEMA_VERSION",
    "DeadLetterReason",
    "Recommendations",
    "RecommendedItem",
    "SongSelected",
    "render_schemas",
]
