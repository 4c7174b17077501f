"""`python -m recommender catalog ...`: inspect real exports, generate synthetic catalogs,
extract a catalog from audio files (`from-audio`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from recommender.commands import from_audio
from recommender.errors import CatalogError
from recommender.features import DEFAULT_FEATURE_SET
from recommender.ingest import HeaderError, load_catalog
from recommender.ingest.report import describe
from recommender.snapshot import SUFFIX, save_snapshot
from recommender.training.synthetic import FEATURE_MODEL, fit_feature_model, generate_catalog


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("catalog", help="catalog tools")
    actions = parser.add_subparsers(dest="action", required=True)

    inspect = actions.add_parser("inspect", help="show how a CSV export maps and cleans")
    inspect.add_argument("path", type=Path)
    inspect.add_argument(
        "--features",
        default="audio",
        help="audio (the catalog's audio features), auto, or a comma list; extras: key, "
        "mode, popularity, explicit, year, duration_ms",
    )
    inspect.set_defaults(handler=_inspect)

    compile_ = actions.add_parser(
        "compile", help="load, clean and write a snapshot the service starts from in seconds"
    )
    compile_.add_argument("path", type=Path)
    compile_.add_argument("--out", type=Path, required=True, help=f"a file ending {SUFFIX}")
    compile_.add_argument(
        "--features",
        default=DEFAULT_FEATURE_SET,
        help="auto (the nine audio features and every extra the catalog has), audio (the "
        "nine), or a comma list, as train, evaluate and the service take it; a service "
        "started from the snapshot must ask for the same (default: auto)",
    )
    compile_.add_argument(
        "--label-column",
        action="append",
        default=[],
        help="a label column to keep merged per song like the genre columns (which are kept "
        "anyway), e.g. for `train --model supervised --label-column`; repeatable",
    )
    compile_.set_defaults(handler=_compile)

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

    from_audio.register(actions)


def _inspect(args: argparse.Namespace) -> int:
    try:
        result = load_catalog(args.path, feature_names=args.features.split(","))
    except HeaderError as error:
        print(error)
        return 2
    print(describe(result))
    return 0


def _compile(args: argparse.Namespace) -> int:
    if not args.out.name.endswith(SUFFIX):
        raise SystemExit(f"--out must end with {SUFFIX}")
    features = tuple(f.strip() for f in args.features.split(",") if f.strip())
    result = load_catalog(args.path, features, extra_label_columns=args.label_column)
    missing = [c for c in args.label_column if c not in result.catalog.extra.columns]
    if missing:
        raise CatalogError(
            f"{args.path} has no label column {', '.join(map(repr, missing))}; "
            f"its columns: {', '.join(map(str, result.catalog.extra.columns))}"
        )
    catalog = result.catalog
    save_snapshot(catalog, args.out, ",".join(features))
    labels = ", ".join(result.label_columns) or "none"
    print(
        f"wrote {len(catalog)} tracks ({len(catalog.canonical_rows)} songs) to {args.out}: "
        f"{len(catalog.feature_names)} features ({', '.join(catalog.feature_names)}); "
        f"label columns {labels}"
    )
    return 0


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
    args.out.write_text(
        json.dumps(fit_feature_model(frame, args.genre_column), separators=(",", ":"))
    )
    print(f"wrote {args.out}")
    return 0
