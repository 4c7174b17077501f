"""`python -m recommender catalog ...`: generate synthetic catalogs, fit their feature model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from recommender.synthetic import FEATURE_MODEL, fit_feature_model, generate_catalog


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("catalog", help="catalog tools")
    actions = parser.add_subparsers(dest="action", required=True)

    generate = actions.add_parser("generate", help="write a synthetic catalog CSV")
    generate.add_argument("--tracks", type=int, default=6000)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--out", type=Path, required=True)
    generate.set_defaults(handler=_generate)

    fit = actions.add_parser("fit-distribution", help="refit the synthetic feature model")
    fit.add_argument("source", type=Path, help="a real catalog with a genre column")
    fit.add_argument("--genre-column", default="playlist_genre")
    fit.add_argument("--out", type=Path, default=FEATURE_MODEL)
    fit.set_defaults(handler=_fit)


def _generate(args: argparse.Namespace) -> int:
    frame = generate_catalog(args.tracks, seed=args.seed)
    # mtime=0 keeps the gzip bytes reproducible for the same seed.
    compression = {"method": "gzip", "mtime": 0} if args.out.suffix == ".gz" else None
    frame.to_csv(args.out, index=False, compression=compression)
    print(f"wrote {len(frame)} tracks to {args.out}")
    return 0


def _fit(args: argparse.Namespace) -> int:
    frame = pd.read_csv(args.source)
    frame = frame.drop_duplicates(subset=["track_name", "track_artist"])
    args.out.write_text(json.dumps(fit_feature_model(frame, args.genre_column), separators=(",", ":")))
    print(f"wrote {args.out}")
    return 0
