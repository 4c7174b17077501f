"""`python -m recommender train`: fit a model on a catalog and save it as a versioned artifact."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from recommender.artifacts import save_artifact
from recommender.catalog import BUNDLED_CATALOG
from recommender.features import AUDIO_FEATURES
from recommender.registry import MODEL_NAMES, resolve_options
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
    "components",
    "clusters",
    "seed",
    "metric",
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("train", help="train a model and save a versioned artifact")
    parser.add_argument("--model", choices=MODEL_NAMES, required=True)
    parser.add_argument("--catalog", type=Path, default=BUNDLED_CATALOG)
    parser.add_argument(
        "--features",
        default=",".join(AUDIO_FEATURES),
        help="comma list; extras: key, mode, popularity, explicit, year, duration_ms",
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
    parser.add_argument("--epochs", type=int, help="autoencoder")
    parser.add_argument("--latent-dim", type=int, help="autoencoder")
    parser.add_argument("--hidden", type=_sizes, help="autoencoder hidden sizes, e.g. 32,12")
    parser.add_argument("--batch-size", type=int, help="autoencoder")
    parser.add_argument("--learning-rate", type=float, help="autoencoder")
    parser.add_argument("--validation-split", type=float, help="autoencoder")
    parser.add_argument("--patience", type=int, help="autoencoder early stopping")
    parser.add_argument(
        "--quantile-inputs",
        action=argparse.BooleanOptionalAction,
        help="autoencoder: map features to normal scores of their ranks first (default on)",
    )
    parser.add_argument("--input-dropout", type=float, help="autoencoder masking (default 0.2)")
    parser.set_defaults(handler=_train, parser=parser)


def _components(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def _train(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {
        flag: getattr(args, flag) for flag in _OPTION_FLAGS if getattr(args, flag) is not None
    }
    try:
        resolve_options(args.model, options)
    except ValueError as error:
        args.parser.error(str(error))
    # The snapshot cache under the artifacts lets a service on the same --artifacts start fast.
    features = tuple(args.features.split(","))
    catalog = load_catalog_cached(args.catalog, args.out / CATALOG_CACHE, features)
    print(f"training {args.model} on {len(catalog)} tracks from {args.catalog}")
    recommender = train_model(args.model, catalog, options=options, progress=True)
    recommender = recommender.with_search(args.index)
    path = save_artifact(recommender, args.out)
    curve = recommender.training_curve
    if curve is not None:
        best = curve.best_epoch
        val = f", validation MSE {curve.validation[best]:.4f}" if curve.validation else ""
        print(
            f"best epoch {best + 1} of {len(curve.train)}: train MSE {curve.train[best]:.4f}"
            f"{val} ({curve.seconds:.1f} s)"
        )
    print(f"saved {args.model} version {recommender.version} to {path}")
    return 0
