"""Every model on every labelled catalog, under both feature sets, as the service answers.

The protocol is `recommender.evaluation`'s (2,000 fixed-seed queries; a label-trained model
learns every song's label but the queries', or with `--train-fraction` only a disjoint share;
a hit shares a label with the query), with the
serving default of the request controls applied to every list by the service's own rules
stage (`recommender.shaping`): at most `--max-per-artist` (2) songs of one artist, the seed's
artist included. Artist repetition is reported beside precision, under both label modes.

    .venv/bin/python benchmarks/quality.py \\
        --catalog A.csv --label-column genre --catalog B.csv --label-column style

`--sweep supervised|autoencoder` instead ranks candidate options of one model on every
catalog, on a validation split and query sample of their own (`--seed 1`), and prints each
candidate's mean rank across catalogs: how the defaults in `recommender.registry` were chosen.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from recommender.catalog import Catalog
from recommender.evaluation import EvaluationPlan, evaluate, prepare, protocol
from recommender.evaluation.builders import evaluated_model
from recommender.evaluation.runner import EvaluationData
from recommender.ingest import load_catalog

LABEL_MODES = ("first", "all")


@dataclass(frozen=True)
class Case:
    path: Path
    label_column: str

    @property
    def name(self) -> str:
        return self.path.stem


def views(data: EvaluationData, column: str) -> dict[str, EvaluationData]:
    """The same queries and candidates scored under each label mode, shaped as served, and
    (`<mode>.plain`) as the plain nearest neighbours."""
    out = {}
    for mode in LABEL_MODES:
        labels, names = protocol.label_matrix(data.catalog, column, mode)
        assert data.plan is not None
        plan = replace(data.plan, label_mode=mode)
        out[mode] = replace(data, labels=labels, label_names=names, plan=plan)
        plain = replace(plan, max_per_artist=0, diversity=0.0, pool=None)
        out[f"{mode}.plain"] = replace(out[mode], plan=plain)
    return out


def load(case: Case, features: str) -> Catalog:
    return load_catalog(case.path, features, extra_label_columns=[case.label_column]).catalog


def evaluate_case(
    case: Case,
    features: str,
    models: dict[str, dict[str, Any]],
    args: argparse.Namespace,
) -> Iterator[dict[str, Any]]:
    """One row per model: its scores on this catalog and feature set."""
    catalog = load(case, features)
    plan = EvaluationPlan(
        case.label_column,
        args.k,
        args.queries,
        args.seed,
        train_fraction=args.train_fraction,
        max_per_artist=args.max_per_artist,
        pool=args.pool,
    )
    data = prepare(catalog, plan)
    scored = views(data, case.label_column)
    for label, (name, options) in ((label, _model(label, o)) for label, o in models.items()):
        started = time.perf_counter()
        model, _ = evaluated_model(
            name, data, case.label_column, full_catalog=catalog, options=dict(options)
        )
        seconds = time.perf_counter() - started
        yield {
            "catalog": case.name,
            "features": features,
            "model": label,
            "dims": model.catalog_embedding.shape[1],
            "fit_s": seconds,
            **{
                f"{mode}.{key}": value
                for mode, view in scored.items()
                for key, value in _scores(evaluate(model, view, args.k)).items()
            },
        }


def _scores(entry: dict[str, Any]) -> dict[str, float]:
    return {
        "p_at_k": entry["precision_at_k"][-1],
        "mrr": entry["mrr"],
        "ndcg_at_k": entry["ndcg_at_k"][-1],
        "artist_repetition": entry["artist_repetition"],
        "coverage": entry["coverage"],
        "latency_p50_ms": entry["latency"]["p50_ms"],
    }


def _model(label: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A candidate's label is `model` or `model:variant`; options may name `model`."""
    # Clusters do not change a list; skipping them saves a k-means per model.
    options = {"clusters": 0, **options}
    return str(options.pop("model", label.split(":")[0])), options


def table(rows: Sequence[dict[str, Any]], mode: str) -> str:
    """Markdown: one line per catalog x features x model."""
    keys = ("p_at_k", "mrr", "ndcg_at_k", "artist_repetition", "coverage")
    head = "| catalog | features | model | P@10 | MRR | nDCG@10 | artist rep. | coverage |"
    lines = [head, "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        cells = " | ".join(f"{r[f'{mode}.{k}']:.4f}" for k in keys)
        lines.append(f"| {r['catalog']} | {r['features']} | `{r['model']}` | {cells} |")
    return "\n".join(lines)


def mean_ranks(rows: Sequence[dict[str, Any]], metric: str) -> pd.DataFrame:
    """Each candidate's rank by `metric` on every catalog and feature set (1 = best), and their
    mean: the candidate with the lowest mean rank is the default."""
    frame = pd.DataFrame(rows)
    wide = frame.pivot_table(index="model", columns=["catalog", "features"], values=metric)
    wide.columns = [f"{c} {f}" for c, f in wide.columns]
    ranks = wide.rank(ascending=False, method="average")
    ranks.columns = [f"rank {c}" for c in ranks.columns]
    out = pd.concat([wide, ranks], axis=1)
    out["mean rank"] = ranks.mean(axis=1)
    return out.sort_values("mean rank")


def candidates(model: str, grid: Path | None) -> dict[str, dict[str, Any]]:
    """The options a sweep compares: a JSON file {label: options}, or the built-in grid."""
    if grid is not None:
        loaded: dict[str, dict[str, Any]] = json.loads(grid.read_text())
        return loaded
    if model == "supervised":
        grid = [
            ("labels", 16.0, (256, 256)),
            ("labels", 4.0, (256, 256)),
            ("labels", 16.0, (512, 512)),
            ("labels", 16.0, (128,)),
            ("hellinger", 16.0, (256, 256)),
        ]
        return {
            f"supervised:{g}:w{w:g}:h{','.join(map(str, h))}": {
                "geometry": g,
                "weight": w,
                "hidden": h,
            }
            for g, w, h in grid
        }
    # Latent None: one fewer than the catalog's features (9 -> 8, 16 -> 15); beside the
    # standardised features at a latent spread of `latent_weight`, or alone.
    return {
        f"autoencoder:{'latent alone' if weight is None else f'beside features w{weight}'}": {
            "keep_features": weight is not None,
            "latent_weight": weight or 1.0,
        }
        for weight in (None, 0.5, 1.0, 2.0)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, action="append", required=True)
    parser.add_argument("--label-column", action="append", required=True, help="per catalog")
    parser.add_argument("--features", default="audio,auto", help="feature sets, comma list")
    parser.add_argument("--models", default="knn,autoencoder,supervised")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0, help="split and query sample")
    parser.add_argument(
        "--train-fraction",
        type=float,
        default=0.0,
        help="0: label-trained models learn every song's label but the queries'; above 0: "
        "only this share, disjoint from every query and candidate",
    )
    parser.add_argument("--max-per-artist", type=int, default=2, help="0: no cap")
    parser.add_argument("--pool", type=int, help="neighbours before the cap (default: served)")
    parser.add_argument("--sweep", choices=("supervised", "autoencoder"))
    parser.add_argument("--grid", type=Path, help="JSON {label: options} for --sweep")
    parser.add_argument("--json", type=Path, help="also write every row here")
    args = parser.parse_args()
    if len(args.catalog) != len(args.label_column):
        parser.error("give one --label-column per --catalog")
    cases = [Case(p, c) for p, c in zip(args.catalog, args.label_column, strict=True)]
    if args.sweep:
        models = {"knn": {}, **candidates(args.sweep, args.grid)}
    else:
        models = {name: {} for name in args.models.split(",")}
    rows: list[dict[str, Any]] = []
    with threadpool_limits(1):  # a shared machine: one BLAS thread keeps timings honest
        for case in cases:
            for features in args.features.split(","):
                for row in evaluate_case(case, features, models, args):
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    for mode in LABEL_MODES:
        print(f"\n## label mode {mode}, at most {args.max_per_artist} songs per artist\n")
        print(table(rows, mode))
        print(f"\n## label mode {mode}, plain nearest neighbours (no cap)\n")
        print(table(rows, f"{mode}.plain"))
    if args.sweep:
        candidates_only = [r for r in rows if r["model"] != "knn"]
        for mode in LABEL_MODES:
            print(f"\n## {args.sweep} candidates by P@{args.k}, label mode {mode}\n")
            ranked = mean_ranks(candidates_only, f"{mode}.p_at_k")
            print(ranked.to_string(float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
