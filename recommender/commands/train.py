"""`python -m recommender train`: fit a model on a catalog and save it as a versioned artifact."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from recommender.artifacts import save_artifact
from recommender.catalog import BUNDLED_CATALOG, Catalog
from recommender.embeddings.supervised import GEOMETRIES
from recommender.features import DEFAULT_FEATURE_SET
from recommender.ingest import load_catalog
from recommender.ingest.headers import label_columns
from recommender.registry import MODEL_NAMES, resolve_options, spec
from recommender.search import DEFAULT_THRESHOLD
from recommender.snapshot import CATALOG_CACHE, load_catalog_cached
from recommender.training import train_model

# Flags that set a model option of the same name; a flag left out keeps the model's default.
_OPTION_FLAGS = (
    "epochs",
    "latent_dim",
    "hidden",
    "batch_size",
    "learning_rate",
    "validation_split",
    "patience",
    "quantile_inputs",
    "input_dropout",
    "keep_features",
    "latent_weight",
    "components",
    "clusters",
    "seed",
    "metric",
    "weight",
    "members",
    "artist_prior",
    "geometry",
    "dropout",
    "weight_decay",
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("train", help="train a model and save a versioned artifact")
    parser.add_argument("--model", choices=MODEL_NAMES, required=True)
    parser.add_argument("--catalog", type=Path, default=BUNDLED_CATALOG)
    parser.add_argument(
        "--features",
        default=DEFAULT_FEATURE_SET,
        help="auto (the nine audio features and every extra the catalog has), audio (the "
        "nine), or a comma list of names (recommender/features.py)",
    )
    parser.add_argument(
        "--label-column",
        action="append",
        help="supervised: the label column to learn (default genre); repeat it for more "
        "columns, one softmax head each",
    )
    parser.add_argument("--out", type=Path, required=True, help="artifacts root directory")
    parser.add_argument(
        "--index",
        choices=("auto", "exact", "hnsw"),
        default="auto",
        help=f"neighbour search saved with the model (auto: HNSW above {DEFAULT_THRESHOLD} songs)",
    )
    parser.add_argument("--clusters", type=int, help="KMeans clusters (0: none; default 10)")
    parser.add_argument("--seed", type=int, help="seed for training and clustering (default 0)")
    parser.add_argument("--metric", choices=("euclidean", "cosine"), help="pca/autoencoder")
    parser.add_argument("--components", type=_components, help="pca: a count or a share")
    parser.add_argument("--epochs", type=int, help="autoencoder, supervised")
    parser.add_argument("--latent-dim", type=int, help="autoencoder")
    parser.add_argument("--hidden", type=_sizes, help="hidden sizes, e.g. 32,12")
    parser.add_argument("--batch-size", type=int, help="autoencoder, supervised")
    parser.add_argument("--learning-rate", type=float, help="autoencoder, supervised")
    parser.add_argument("--validation-split", type=float, help="autoencoder, supervised")
    parser.add_argument("--patience", type=int, help="early stopping (autoencoder, supervised)")
    parser.add_argument(
        "--quantile-inputs",
        action=argparse.BooleanOptionalAction,
        help="map features to normal scores of their ranks first (default on)",
    )
    parser.add_argument("--input-dropout", type=float, help="autoencoder masking (default 0.1)")
    parser.add_argument(
        "--keep-features",
        action=argparse.BooleanOptionalAction,
        help="autoencoder: search the features beside the latent (default on)",
    )
    parser.add_argument(
        "--latent-weight", type=float, help="autoencoder: the latent's spread beside them (1)"
    )
    parser.add_argument("--weight", type=float, help="supervised: weight of each label block")
    parser.add_argument(
        "--geometry",
        choices=GEOMETRIES,
        help="supervised: labels (songs at their labels, the default), hellinger, probabilities",
    )
    parser.add_argument(
        "--members",
        type=int,
        help="supervised: networks trained with seeds seed, seed + 1, ...; served as the "
        "mean of their predictions (default 3)",
    )
    parser.add_argument(
        "--artist-prior",
        type=float,
        help="supervised: how many of an unlabelled song's artist's labelled songs the "
        "prediction counts as when placing it (default 1; 0: the prediction alone)",
    )
    parser.add_argument("--dropout", type=float, help="supervised: dropout after hidden layers")
    parser.add_argument("--weight-decay", type=float, help="supervised: Adam weight decay")
    parser.set_defaults(handler=_train, parser=parser)


def _components(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def _train(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {
        flag: getattr(args, flag) for flag in _OPTION_FLAGS if getattr(args, flag) is not None
    }
    labels = args.label_column or []
    if labels:
        if not spec(args.model).needs_labels:
            args.parser.error(f"model {args.model!r} learns no labels: drop --label-column")
        options["label_column"], options["extra_label_columns"] = labels[0], tuple(labels[1:])
    try:
        resolve_options(args.model, options)
    except ValueError as error:
        args.parser.error(str(error))
    catalog = _catalog(args, labels)
    print(
        f"training {args.model} on {len(catalog)} tracks from {args.catalog} "
        f"({len(catalog.feature_names)} features: {', '.join(catalog.feature_names)})"
    )
    recommender = train_model(args.model, catalog, options=options, progress=True)
    recommender = recommender.with_search(args.index)
    path = save_artifact(recommender, args.out)
    curve = recommender.training_curve
    if curve is not None:
        best = curve.best_epoch
        loss = curve.extra.get("loss", "MSE")
        val = f", validation {loss} {curve.validation[best]:.4f}" if curve.validation else ""
        print(
            f"best epoch {best + 1} of {len(curve.train)}: train {loss} "
            f"{curve.train[best]:.4f}{val} ({curve.seconds:.1f} s)"
        )
    print(f"saved {args.model} version {recommender.version} to {path}")
    return 0


def _catalog(args: argparse.Namespace, labels: list[str]) -> Catalog:
    """The catalog through the snapshot cache under the artifacts, so that a service on the
    same --artifacts starts fast; reparsed when a label column asked for is not one that
    loading merges by itself (a song's rows then keep the union of its labels)."""
    features = tuple(args.features.split(","))
    catalog = load_catalog_cached(args.catalog, args.out / CATALOG_CACHE, features)
    merged = set(label_columns(catalog.extra.columns, {}))
    if any(column not in merged for column in labels) and args.catalog.suffix == ".csv":
        catalog = load_catalog(args.catalog, features, extra_label_columns=labels).catalog
    return catalog
