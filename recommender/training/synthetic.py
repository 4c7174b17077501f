"""Synthetic catalogs that keep the real data's feature distributions and correlations.

A Gaussian copula per genre: each feature's empirical quantiles (its marginal distribution)
and the correlation of the features' normal scores (their dependence). `fit_feature_model`
reads a real catalog once; the fitted model ships in `recommender/data/feature_model.json`, so
generating needs nothing outside the repository. `jittered_catalog` is the other kind: real
rows drawn again with small noise, for benchmarks that want real neighbourhoods at any size.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from recommender.features import AUDIO_FEATURES, FEATURE_RANGES
from recommender.ingest.headers import fold_header, match_headers

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


# Suffixes for a real row drawn again, so the copies look like the takes real catalogs carry.
_TAKES = ("Remastered", "Live", "Acoustic", "Radio Edit", "Demo", "Mono")
_GENRE_HEADERS = ("genre", "playlist_genre", "track_genre")


def jittered_catalog(
    frame: pd.DataFrame, n: int, seed: int = 0, noise: float = 0.05
) -> pd.DataFrame:
    """`n` tracks drawn with replacement from the valid rows of a real export, each feature
    moved by normal noise of `noise` times its standard deviation, clipped to its range.

    `frame` is an export as read (any headers `recommender.ingest` maps). Every track gets a
    new id; a song drawn again keeps its name with a take suffix ("... - Live"), so copies look
    like remasters and live takes. The layout is `generate_catalog`'s, plus `popularity` when
    the export has one. Pure and seeded.
    """
    source = _real_rows(frame)
    if source.empty:
        raise ValueError("no row of the export has every audio feature in range")
    rng = np.random.default_rng(seed)
    drawn = source.iloc[rng.integers(0, len(source), n)].reset_index(drop=True)
    features = list(AUDIO_FEATURES)
    values = drawn[features].to_numpy(np.float64)
    values += rng.normal(size=values.shape) * (noise * source[features].std(ddof=0).to_numpy())
    low, high = np.array([FEATURE_RANGES[name] for name in features]).T
    drawn[features] = np.clip(values.round(5), low, high)
    take = drawn.groupby(["track_name", "artist"], sort=False).cumcount().to_numpy()
    drawn["track_name"] = [
        name if t == 0 else f"{name} - {_take_label(t)}"
        for name, t in zip(drawn["track_name"], take, strict=True)
    ]
    drawn.insert(0, "track_id", [f"jit{seed:02d}{i:08d}" for i in range(n)])
    return drawn


def _take_label(copy: int) -> str:
    """1 -> 'Remastered', 2 -> 'Live', ..., 7 -> 'Remastered 2'."""
    label = _TAKES[(copy - 1) % len(_TAKES)]
    return label if copy <= len(_TAKES) else f"{label} {(copy - 1) // len(_TAKES) + 1}"


def _real_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per track id of the export, every audio feature present and in range, in the
    generated layout (track_name, artist, genre, features[, popularity])."""
    mapping = match_headers(frame.columns, AUDIO_FEATURES).mapping
    if "track_id" in mapping:
        frame = frame.drop_duplicates(subset=mapping["track_id"])
    folded = {fold_header(c): c for c in frame.columns}
    genre = next((folded[g] for g in _GENRE_HEADERS if g in folded), None)

    def text(header: str | None, default: str) -> pd.Series:
        if header is None:
            return pd.Series(default, frame.index)
        return frame[header].fillna(default).astype(str)

    out = pd.DataFrame(
        {
            "track_name": text(mapping.get("track_name"), ""),
            "artist": text(mapping.get("artist"), ""),
            "genre": text(genre, "unknown"),
        }
    )
    for name in AUDIO_FEATURES:
        out[name] = pd.to_numeric(frame[mapping[name]], errors="coerce")
    if "popularity" in mapping:
        popularity = pd.to_numeric(frame[mapping["popularity"]], errors="coerce")
        out["popularity"] = popularity.fillna(0).round().astype(np.int64)
    valid = out[list(AUDIO_FEATURES)].notna().all(axis=1)
    for name in AUDIO_FEATURES:
        low, high = FEATURE_RANGES[name]
        valid &= out[name].between(low, high)
    return out[valid].reset_index(drop=True)
