"""Generate the JSON Schema files that document the wire contract for non-Python clients."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.catalog import CatalogTrack
from schemas.events import Recommendations, SongSelected
from schemas.feedback import SongFeedback

HERE = Path(__file__).parent
SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "song_selected.schema.json": SongSelected,
    "recommendations.schema.json": Recommendations,
    "song_feedback.schema.json": SongFeedback,
    "catalog_track.schema.json": CatalogTrack,
}


def render_schemas() -> dict[str, str]:
    """File name -> the JSON Schema text it should hold."""
    return {
        name: json.dumps(model.model_json_schema(mode="validation"), indent=2) + "\n"
        for name, model in SCHEMA_FILES.items()
    }


def write_schemas(directory: Path = HERE) -> list[Path]:
    written = []
    for name, text in render_schemas().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written
