"""`python -m recommender clusters`: the cluster sizes and mean features of saved models."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from recommender.artifacts import latest_version, read_cluster_table
from recommender.registry import MODEL_NAMES


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("clusters", help="print the cluster table of saved models")
    parser.add_argument("--artifacts", type=Path, required=True, help="artifacts root directory")
    parser.add_argument("--model", choices=MODEL_NAMES, help="default: every saved model")
    parser.add_argument("--version", help="default: the newest")
    parser.set_defaults(handler=_clusters)


def _clusters(args: argparse.Namespace) -> int:
    names = [args.model] if args.model else list(MODEL_NAMES)
    found = [(n, args.version or latest_version(args.artifacts, n)) for n in names]
    found = [(n, v) for n, v in found if v is not None]
    if not found:
        print(f"no artifacts of {', '.join(names)} under {args.artifacts}")
        return 1
    for name, version in found:
        table = read_cluster_table(args.artifacts, name, version)
        print(f"{name} {version}")
        if table is None:
            print("  trained without clusters\n")
            continue
        with pd.option_context("display.width", 200, "display.max_columns", None):
            print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"), end="\n\n")
    return 0
