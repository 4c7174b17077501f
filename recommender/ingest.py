"""Read catalog files into a `Catalog`. (Header mapping for other exports: issue 4.)"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from recommender.catalog import Catalog
from recommender.features import AUDIO_FEATURES

_SYNONYMS = {"track_artist": "artist", "name": "track_name", "id": "track_id"}


@dataclass
class LoadResult:
    catalog: Catalog
    dropped: dict[str, int] = field(default_factory=dict)


def load_catalog(path: str | Path, feature_names: Iterable[str] = AUDIO_FEATURES) -> LoadResult:
    frame = pd.read_csv(path)
    frame = frame.rename(columns={k: v for k, v in _SYNONYMS.items() if v not in frame.columns})
    feature_names = tuple(feature_names)
    complete = frame[list(feature_names)].notna().all(axis=1)
    dropped = {"missing_features": int((~complete).sum())}
    frame = frame[complete]
    extra = [c for c in frame.columns if c not in ("track_id", "track_name", "artist", *feature_names)]
    return LoadResult(Catalog.from_frame(frame, feature_names, extra_columns=extra), dropped)
