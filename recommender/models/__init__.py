"""The models Encore serves, and the one way to train any of them: `train_model(name, catalog)`.

Every model is standardise -> embed -> search (see `recommender.model`); they differ only in
the embedding: none (`knn`, `knn-cosine`), PCA (`pca`) or an autoencoder's encoder
(`autoencoder`). Each also carries KMeans cluster ids over its catalog embedding.

Serving only loads artifacts, so importing this package must not import torch or
scikit-learn: training code that needs them is imported inside the functions that train.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from recommender.catalog import Catalog
from recommender.index import Metric
from recommender.model import Embedding, Identity, Recommender, TrainingCurve
from recommender.models.clusters import cluster_table, fit_clusters
from recommender.models.encoder import AutoencoderConfig, EncoderEmbedding
from recommender.models.pca import PCAEmbedding, fit_pca
from recommender.scaling import Standardizer

MODEL_NAMES: tuple[str, ...] = ("knn", "knn-cosine", "pca", "autoencoder")

# Options every model takes, with their defaults; `clusters=0` skips clustering.
_COMMON = {"clusters": 10, "seed": 0}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "knn": {},
    "knn-cosine": {},
    "pca": {"components": 0.9, "metric": "euclidean"},
    "autoencoder": {
        **{k: v for k, v in vars(AutoencoderConfig()).items() if k != "seed"},
        "metric": "euclidean",
    },
}

__all__ = [
    "MODEL_NAMES",
    "AutoencoderConfig",
    "EncoderEmbedding",
    "PCAEmbedding",
    "cluster_table",
    "embedding_from_state",
    "embedding_state",
    "new_version",
    "resolve_options",
    "train_model",
]


def new_version(now: datetime | None = None) -> str:
    """A version id that sorts by creation time: `20260101T120000123456Z`."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")


def resolve_options(name: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The model's defaults overlaid with `options`; unknown names or options raise ValueError."""
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")
    resolved = {**_COMMON, **_DEFAULTS[name]}
    unknown = sorted(set(options or {}) - set(resolved))
    if unknown:
        raise ValueError(f"model {name!r} takes no option {', '.join(unknown)}")
    resolved.update(options or {})
    if "hidden" in resolved:
        resolved["hidden"] = tuple(int(h) for h in resolved["hidden"])
    return resolved


def train_model(
    name: str,
    catalog: Catalog,
    *,
    options: dict[str, Any] | None = None,
    progress: bool = False,
) -> Recommender:
    """Fit `name` on the catalog (plain KNN is only built), cluster it and give it a new version."""
    opts = resolve_options(name, options)
    with tqdm(total=3, desc=name, unit="step", disable=not progress) as steps:
        steps.set_postfix_str("fit")
        scaler = Standardizer.fit(catalog.features)
        scaled = scaler.transform(catalog.features)
        embedding, curve = _fit_embedding(name, scaled, opts, progress)
        steps.update()
        steps.set_postfix_str("encode catalog")
        catalog_embedding = np.asarray(embedding.transform(scaled), dtype=np.float32)
        steps.update()
        steps.set_postfix_str("cluster")
        clusters = None
        if opts["clusters"]:
            clusters = fit_clusters(catalog_embedding, opts["clusters"], seed=opts["seed"])
        steps.update()
    metric: Metric = "cosine" if name == "knn-cosine" else opts.get("metric", "euclidean")
    return Recommender(
        name,
        catalog,
        scaler,
        embedding,
        metric,
        version=new_version(),
        catalog_embedding=catalog_embedding,
        clusters=clusters,
        options=opts,
        training_curve=curve,
    )


def _fit_embedding(
    name: str, scaled: np.ndarray, opts: dict[str, Any], progress: bool
) -> tuple[Embedding, TrainingCurve | None]:
    if name == "pca":
        return fit_pca(scaled, opts["components"]), None
    if name == "autoencoder":
        from recommender.models.autoencoder import train_autoencoder

        fields = set(vars(AutoencoderConfig()))
        config = AutoencoderConfig(**{k: v for k, v in opts.items() if k in fields})
        return train_autoencoder(scaled, config, progress=progress)
    return Identity(), None


_FROM_STATE: dict[str, Callable[[dict[str, np.ndarray]], Embedding]] = {
    "knn": lambda state: Identity(),
    "knn-cosine": lambda state: Identity(),
    "pca": PCAEmbedding.from_state,
    "autoencoder": EncoderEmbedding.from_state,
}


def embedding_state(embedding: Embedding) -> dict[str, np.ndarray]:
    """The arrays that rebuild an embedding; empty for one without parameters."""
    state: Callable[[], dict[str, np.ndarray]] | None = getattr(embedding, "state", None)
    return state() if state is not None else {}


def embedding_from_state(name: str, state: dict[str, np.ndarray]) -> Embedding:
    if name not in _FROM_STATE:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")
    return _FROM_STATE[name](state)
