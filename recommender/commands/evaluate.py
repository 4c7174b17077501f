"""`python -m recommender evaluate`: compare models on a labelled catalog, write a report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from recommender.commands import sessions
from recommender.errors import ConfigurationError
from recommender.evaluation import EvaluationPlan, builders, evaluate, plots, prepare, report
from recommender.features import DEFAULT_FEATURE_SET
from recommender.ingest import first_label, load_catalog


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("evaluate", help="side-by-side quality report of models")
    parser.add_argument("--catalog", type=Path, required=True, help="any CSV export")
    parser.add_argument(
        "--label-column",
        help="e.g. playlist_genre (required, except with --sessions for label-free models)",
    )
    parser.add_argument("--models", default="knn,pca,autoencoder", help="comma-separated")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--artifacts", type=Path, help="load models from here when present")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--train-fraction",
        type=float,
        default=0.0,
        help="0: label-trained models learn every song's label but the queries' (as deployed); "
        "above 0: only this share of the songs, never a query or a candidate",
    )
    parser.add_argument("--label-mode", choices=("all", "first"), default="all")
    parser.add_argument(
        "--features",
        default=DEFAULT_FEATURE_SET,
        help="auto (the nine audio features and every extra the catalog has), audio, or a list",
    )
    parser.add_argument(
        "--model-options",
        type=json.loads,
        default={},
        help='JSON per model, e.g. \'{"autoencoder": {"epochs": 40}}\'',
    )
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument(
        "--max-per-artist",
        type=int,
        default=0,
        help="score lists of at most this many songs per artist, the query's artist counting "
        "(0: no cap, the default; the service's default for version 2 selections is 2)",
    )
    parser.add_argument(
        "--diversity",
        type=float,
        default=0.0,
        help="re-rank by maximal marginal relevance at this diversity, 0..1 (0: similarity)",
    )
    parser.add_argument(
        "--pool", type=int, help="neighbours the rules and MMR choose from (default 10 x k)"
    )
    parser.add_argument(
        "--progress-file",
        type=Path,
        help='write {"done": i, "total": n} JSON here after each model (for the HTTP API)',
    )
    sessions.add_arguments(parser)
    parser.set_defaults(handler=_evaluate)


def _progress(path: Path | None, done: int, total: int) -> None:
    """Replace `path` atomically, so a reader never sees half a file."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps({"done": done, "total": total}))
    partial.replace(path)


def _evaluate(args: argparse.Namespace) -> int:
    if args.sessions is not None:
        return sessions.run(args)
    if args.label_column is None:
        raise ConfigurationError("--label-column is required (unless --sessions)")
    # The scored column keeps every label of a song's rows even if it is not a genre column.
    loaded = load_catalog(
        args.catalog,
        feature_names=args.features.split(","),
        extra_label_columns=[args.label_column],
    )
    spec = EvaluationPlan(
        args.label_column,
        args.k,
        args.queries,
        args.seed,
        args.train_fraction,
        args.label_mode,
        max_per_artist=args.max_per_artist,
        diversity=args.diversity,
        pool=args.pool,
    )
    data = prepare(loaded.catalog, spec)
    models: dict[str, Any] = {}
    maps: dict[str, Any] = {}
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    _progress(args.progress_file, 0, len(names))
    for done, name in enumerate(names, start=1):
        recommender, note = builders.evaluated_model(
            name,
            data,
            args.label_column,
            full_catalog=loaded.catalog,
            artifacts=args.artifacts,
            options=args.model_options.get(name),
        )
        models[name] = {**evaluate(recommender, data, args.k), "training": note}
        maps[name] = recommender
        p = models[name]["precision_at_k"][-1]
        print(f"{name}: P@{args.k} {p:.4f}  MRR {models[name]['mrr']:.4f}  ({note})")
        _progress(args.progress_file, done, len(names))
    description = {
        **spec.describe(),
        "catalog": str(args.catalog),
        "features": list(loaded.catalog.feature_names),
        "songs_evaluated": len(data.catalog.canonical_rows),
        "songs_held_out_for_training": len(data.train.canonical_rows),
        "queries_drawn": len(data.queries),
    }
    full = {"protocol": description, "models": models}
    json_path, _ = report.write(full, args.out)
    if not args.no_plots:
        _plot(full, maps, data, args)
    print(f"wrote {json_path} and {args.out / 'report.md'}")
    return 0


def _plot(full: dict[str, Any], maps: dict[str, Any], data: Any, args: argparse.Namespace) -> None:
    precision = {name: entry["precision_at_k"] for name, entry in full["models"].items()}
    plots.precision_plot(precision, args.out / "precision_at_k.png")
    labels = np.array([first_label(v) for v in data.catalog.labels(args.label_column)], object)
    for name, recommender in maps.items():
        clusters = builders.clusters_for_map(recommender, args.seed)
        plots.embedding_map(
            name, recommender.catalog_embedding, labels, clusters, args.out / f"map_{name}.png"
        )
