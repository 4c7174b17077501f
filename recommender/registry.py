"""Every model Encore knows, one `ModelSpec` each: the only place a model is described.

A model is standardise -> embed -> search (see `recommender.recommender`); a spec says which
embedding, with which options and defaults, how it is fitted, how its fitted state is loaded
back from an artifact, and which distance its neighbours are searched by.

`fit` names the fitting function as `module:function` and is imported only when a model is
trained, so that serving (which loads artifacts, or builds `knn` in place) never imports the
training code, torch or scikit-learn. A fitting function takes `(scaled, catalog, options,
progress)` and returns `(embedding, training curve or None)`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from recommender.embeddings import Embedding, Identity
from recommender.embeddings.encoder import AutoencoderConfig, EncoderEmbedding
from recommender.embeddings.pca import PCAEmbedding
from recommender.embeddings.supervised import SupervisedEmbedding
from recommender.errors import ConfigurationError
from recommender.search import Metric

if TYPE_CHECKING:
    from recommender.catalog import Catalog
    from recommender.recommender import TrainingCurve

__all__ = ["COMMON_OPTIONS", "MODELS", "MODEL_NAMES", "ModelSpec", "resolve_options", "spec"]

Fit = Callable[
    [np.ndarray, "Catalog", dict[str, Any], bool], tuple[Embedding, "TrainingCurve | None"]
]

# Options every model takes: KMeans clusters over its catalog embedding (0: none) and a seed.
COMMON_OPTIONS: Mapping[str, Any] = {"clusters": 10, "seed": 0}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    summary: str
    metric: Metric
    fit: str  # "module:function", imported only to train
    load: Callable[[dict[str, np.ndarray]], Embedding] | None  # None: never saved
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # Nothing to learn: the service builds it from the catalog when it has no artifact.
    builds_in_place: bool = False
    # Trained on a label column; evaluation trains it on a split disjoint from its queries.
    needs_labels: bool = False

    def fitter(self) -> Fit:
        module, _, function = self.fit.partition(":")
        try:
            fitted: Fit = getattr(importlib.import_module(module), function)
        except ModuleNotFoundError as exc:  # torch or scikit-learn: the `train` extra
            raise ConfigurationError(
                f"training {self.name!r} needs {exc.name}: pip install 'encore[train]'"
            ) from exc
        return fitted


_AUTOENCODER_DEFAULTS = {
    f.name: getattr(AutoencoderConfig(), f.name)
    for f in fields(AutoencoderConfig)
    if f.name != "seed"
}

# The weight and the hidden layers: from the sweep over the development catalogs, on a split of
# their own (docs/quality.md, `benchmarks/quality.py --sweep supervised`): weights 4, 8 and 16
# are within noise in P@10 (their order flips between runs); 4 keeps the best MRR and coverage.
SUPERVISED_DEFAULTS: Mapping[str, Any] = {
    "label_column": "genre",
    "extra_label_columns": (),  # more label columns, one softmax head and block each
    "weight": 4.0,  # of each label block against the unit-variance features
    # "labels": catalog songs placed by their own labels, songs ranked by the chance they
    # share the seed's (recommender.embeddings.supervised); "hellinger", "probabilities".
    "geometry": "labels",
    "hidden": (256, 256),
    # Networks trained with seeds seed, seed + 1, ...; the served prediction is their mean.
    "members": 3,
    # An unlabelled song's prediction counts as this many of its artist's labelled songs
    # (0: its artist is not used); see `recommender.embeddings.supervised`.
    "artist_prior": 1.0,
    "quantile_inputs": True,  # the network sees quantile-normal features
    "dropout": 0.1,
    "epochs": 200,
    "batch_size": 1024,
    "learning_rate": 3e-3,
    "weight_decay": 1e-4,
    "validation_split": 0.1,
    "patience": 10,
}

MODELS: Mapping[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "knn",
            "nearest neighbours on standardised features (euclidean)",
            "euclidean",
            "recommender.registry:fit_identity",
            Identity.from_state,
            builds_in_place=True,
        ),
        ModelSpec(
            "knn-cosine",
            "nearest neighbours on standardised features (cosine)",
            "cosine",
            "recommender.registry:fit_identity",
            Identity.from_state,
            builds_in_place=True,
        ),
        ModelSpec(
            "pca",
            "neighbours on the leading principal axes",
            "euclidean",
            "recommender.embeddings.pca:fit",
            PCAEmbedding.from_state,
            {"components": 0.9, "metric": "euclidean"},
        ),
        ModelSpec(
            "autoencoder",
            "features beside a trained autoencoder's latent",
            "euclidean",
            "recommender.training.autoencoder:fit",
            EncoderEmbedding.from_state,
            {**_AUTOENCODER_DEFAULTS, "metric": "euclidean"},
        ),
        ModelSpec(
            "supervised",
            "features beside each song's labels (predicted for new songs and feature seeds) "
            "from a network trained on label columns",
            "euclidean",
            "recommender.training.supervised:fit",
            SupervisedEmbedding.from_state,
            SUPERVISED_DEFAULTS,
            needs_labels=True,
        ),
    )
}

# The models the service can serve, in the order `--help` lists them.
MODEL_NAMES: tuple[str, ...] = tuple(n for n, s in MODELS.items() if s.load is not None)


def spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ConfigurationError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    return MODELS[name]


def saved_options(name: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """An artifact manifest's options, resolved as the model saved with them behaves: one
    saved before `artist_prior` places songs without their artists (0), whatever the default
    is now."""
    saved = dict(options or {})  # (`resolve_options` renames older options)
    if name == "supervised" and saved:
        saved.setdefault("artist_prior", 0.0)
    return resolve_options(name, saved)


def _renamed(name: str, options: Mapping[str, Any]) -> Mapping[str, Any]:
    """Options of older artifacts' manifests as they are named now."""
    if name == "supervised" and "sqrt_probabilities" in options:  # before `geometry`
        renamed = {k: v for k, v in options.items() if k != "sqrt_probabilities"}
        sqrt = bool(options["sqrt_probabilities"])
        renamed.setdefault("geometry", "hellinger" if sqrt else "probabilities")
        return renamed
    return options


def resolve_options(name: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The model's defaults overlaid with `options`; unknown models or options are refused."""
    resolved = {**COMMON_OPTIONS, **spec(name).defaults}
    options = _renamed(name, options or {})
    unknown = sorted(set(options or {}) - set(resolved))
    if unknown:
        raise ConfigurationError(f"model {name!r} takes no option {', '.join(unknown)}")
    resolved.update(options or {})
    if "hidden" in resolved:
        resolved["hidden"] = tuple(int(h) for h in resolved["hidden"])
    if "extra_label_columns" in resolved:  # a manifest gives a list back
        resolved["extra_label_columns"] = tuple(str(c) for c in resolved["extra_label_columns"])
    return resolved


def metric_of(name: str, options: Mapping[str, Any]) -> Metric:
    """The distance a model searches by: its own, or the `metric` option where it has one."""
    metric: Metric = options.get("metric", spec(name).metric)
    return metric


def fit_identity(
    scaled: np.ndarray, catalog: Catalog, options: dict[str, Any], progress: bool
) -> tuple[Embedding, None]:
    """Plain KNN has nothing to fit."""
    return Identity(), None
