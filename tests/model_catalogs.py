"""Tiny catalogs where the right neighbours are known: tight, well-separated groups of tracks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.catalog import Catalog
from recommender.features import AUDIO_FEATURES

# Ranges the group centres are drawn from, in raw units.
_CENTRES = {"loudness": (-20.0, -2.0), "tempo": (70.0, 180.0)}


def grouped_catalog(
    groups: int = 6, per_group: int = 10, seed: int = 0, spread: float = 0.005
) -> Catalog:
    """`groups` clusters of `per_group` tracks; a track's true neighbours are its group (`genre`).

    The noise within a group is `spread` of each feature's range, far below the distance
    between group centres.
    """
    rng = np.random.default_rng(seed)
    lows = np.array([_CENTRES.get(f, (0.05, 0.95))[0] for f in AUDIO_FEATURES])
    highs = np.array([_CENTRES.get(f, (0.05, 0.95))[1] for f in AUDIO_FEATURES])
    centres = rng.uniform(lows, highs, size=(groups, len(AUDIO_FEATURES)))
    noise = rng.normal(0.0, spread, size=(groups, per_group, len(AUDIO_FEATURES)))
    features = (centres[:, None, :] + noise * (highs - lows)).reshape(-1, len(AUDIO_FEATURES))
    n = len(features)
    frame = pd.DataFrame(features, columns=list(AUDIO_FEATURES))
    frame.insert(0, "track_id", [f"t{seed}-{i:04d}" for i in range(n)])
    frame.insert(1, "track_name", [f"Song {i}" for i in range(n)])
    frame.insert(2, "artist", [f"Artist {i}" for i in range(n)])
    frame["genre"] = [f"g{g}" for g in np.repeat(np.arange(groups), per_group)]
    return Catalog.from_frame(frame, extra_columns=["genre"])


def same_group_share(catalog: Catalog, rows: np.ndarray, seeds: np.ndarray) -> float:
    """Share of recommended rows in their seed's group."""
    genre = catalog.labels("genre")
    return float((genre[rows] == genre[seeds][:, None]).mean())
