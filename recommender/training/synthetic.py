"""Synthetic catalogs that keep the real data's feature distributions and correlations.

A Gaussian copula per genre: each feature's empirical quantiles (its marginal distribution)
and the correlation of the features' normal scores (their dependence). `fit_feature_model`
reads a real catalog once; the fitted model ships in `recommender/data/feature_model.json`, so
generating needs nothing outside the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from recommender.features import AUDIO_FEATURES, FEATURE_RANGES

FEATURE_MODEL = Path(__file__).parents[1] / "data" / "feature_model.json"
_QUANTILES = np.linspace(0.0, 1.0, 201)


def fit_feature_model(
    frame: pd.DataFrame, genre_column: str = "playlist_genre"
) -> dict[str, object]:
    """Per-genre marginal quantiles and normal-score correlations of the audio features."""
    genres: dict[str, object] = {}
    frame = frame.dropna(subset=list(AUDIO_FEATURES))
    valid = np.ones(len(frame), dtype=bool)
    for name in AUDIO_FEATURES:
        low, high = FEATURE_RANGES[name]
        valid &= frame[name].between(low, high).to_numpy()
    frame = frame[valid]
    for genre, group in frame.groupby(genre_column):
        values = group[list(AUDIO_FEATURES)].to_numpy(np.float64)
        ranks = (values.argsort(axis=0).argsort(axis=0) + 0.5) / len(values)
        correlation = np.corrcoef(ndtri(ranks), rowvar=False)
        genres[str(genre)] = {
            "weight": len(group) / len(frame),
            "quantiles": np.quantile(values, _QUANTILES, axis=0).T.round(6).tolist(),
            "correlation": correlation.round(6).tolist(),
        }
    return {"features": list(AUDIO_FEATURES), "genres": genres}


def generate_catalog(
    n_tracks: int, seed: int = 0, model_path: Path = FEATURE_MODEL
) -> pd.DataFrame:
    """`n_tracks` synthetic tracks with genre labels, ids, names and artists; seeded."""
    model = json.loads(model_path.read_text())
    rng = np.random.default_rng(seed)
    genres = list(model["genres"])
    weights = np.array([model["genres"][g]["weight"] for g in genres])
    counts = rng.multinomial(n_tracks, weights / weights.sum())
    parts = []
    for genre, count in zip(genres, counts, strict=True):
        spec = model["genres"][genre]
        normal = rng.multivariate_normal(np.zeros(len(AUDIO_FEATURES)), spec["correlation"], count)
        uniform = ndtr(normal)
        columns = {
            name: np.interp(uniform[:, j], _QUANTILES, spec["quantiles"][j])
            for j, name in enumerate(model["features"])
        }
        parts.append(pd.DataFrame({"genre": genre, **columns}))
    frame = pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=seed)
    frame = frame.reset_index(drop=True)
    n = len(frame)
    n_artists = max(1, n // 8)
    frame.insert(0, "track_id", [f"enc{seed:02d}{i:08d}" for i in range(n)])
    frame.insert(1, "track_name", [f"Song {i:07d}" for i in range(n)])
    frame.insert(2, "artist", [f"Artist {a:06d}" for a in rng.integers(0, n_artists, n)])
    frame[list(AUDIO_FEATURES)] = frame[list(AUDIO_FEATURES)].round(5)
    return frame
