"""`python -m recommender evaluate --sessions`: seed modes `track` and `session` on listening
sessions (the rows of a playlist, in the file's order); see `recommender.evaluation.sessions`."""

from __future__ import annotations

import argparse
from typing import Any

from recommender.errors import ConfigurationError
from recommender.evaluation import builders, report
from recommender.evaluation.sessions import (
    PROFILE_SONGS,
    SessionPlan,
    evaluate_sessions,
    read_sessions,
    sample_sessions,
    session_data,
    sessions_of,
)
from recommender.ingest import load_catalog
from recommender.profile import DEFAULT_HALF_LIFE, DEFAULT_SESSION_WEIGHT
from recommender.registry import spec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sessions (with --sessions)")
    group.add_argument(
        "--sessions",
        nargs="?",
        const="playlist_id",
        metavar="COLUMNS",
        help="score listening sessions instead: the rows sharing these columns (comma list; "
        "default playlist_id) in the file's order, seed_mode track against session",
    )
    group.add_argument(
        "--sessions-sample", type=int, default=2000, help="sessions drawn (fixed seed)"
    )
    group.add_argument(
        "--session-lengths",
        default="1,3,5",
        help="n: the selections fed before the answer scored (comma list)",
    )
    group.add_argument(
        "--session-weight",
        type=float,
        default=DEFAULT_SESSION_WEIGHT,
        help="the taste profile's share of a session query, 0..1",
    )
    group.add_argument(
        "--profile-half-life",
        type=float,
        default=DEFAULT_HALF_LIFE,
        help="selections after which one weighs half in the profile (as the service's flag)",
    )
    group.add_argument(
        "--profile-songs",
        choices=PROFILE_SONGS,
        default="before",
        help="the selections in the profile a session answer blends in: the n - 1 before the "
        "seed (as the service: it answers, then moves the profile) or all n",
    )
    group.add_argument(
        "--session-shown",
        type=int,
        default=3,
        help="answers whose songs later answers withhold, as the service's --shown (0: only "
        "the songs heard)",
    )


def run(args: argparse.Namespace) -> int:
    if args.max_per_artist or args.diversity or args.pool is not None:
        raise ConfigurationError("--sessions scores plain similarity: no artist cap or MMR")
    plan = SessionPlan(
        columns=tuple(c.strip() for c in args.sessions.split(",") if c.strip()),
        lengths=tuple(int(n) for n in args.session_lengths.split(",")),
        k=args.k,
        sample=args.sessions_sample,
        seed=args.seed,
        half_life=args.profile_half_life,
        session_weight=args.session_weight,
        profile_songs=args.profile_songs,
        shown=args.session_shown,
    )
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    labelled = any(spec(name).needs_labels for name in names)
    if labelled and args.label_column is None:
        raise ConfigurationError("a model trained on labels needs --label-column")
    extra = [args.label_column] if args.label_column else []
    loaded = load_catalog(
        args.catalog, feature_names=args.features.split(","), extra_label_columns=extra
    )
    # Only a label-trained model takes songs away from the sessions, for its training split.
    train_fraction = args.train_fraction if labelled else 0.0
    data = session_data(loaded.catalog, train_fraction, args.seed, args.label_column)
    every = sessions_of(data.catalog, read_sessions(args.catalog, plan.columns))
    sessions = sample_sessions(every, plan)
    models: dict[str, Any] = {}
    for name in names:
        recommender, note = builders.evaluated_model(
            name,
            data,
            args.label_column or "",
            full_catalog=loaded.catalog,
            artifacts=args.artifacts,
            options=args.model_options.get(name),
        )
        models[name] = {**evaluate_sessions(recommender, sessions, plan), "training": note}
        _print(name, models[name], plan.k)
    description = {
        **plan.describe(),
        "catalog": str(args.catalog),
        "features": list(loaded.catalog.feature_names),
        "songs_searched": len(data.catalog.canonical_rows),
        "songs_held_out_for_training": len(data.train.canonical_rows),
        "sessions_in_file": len(every),
        "sessions_long_enough": sum(len(s) >= plan.min_length for s in every),
        "sessions_scored": len(sessions),
    }
    json_path, md_path = report.write(
        {"protocol": description, "models": models}, args.out, report.sessions_markdown
    )
    print(f"wrote {json_path} and {md_path}")
    return 0


def _print(name: str, entry: dict[str, Any], k: int) -> None:
    for n, result in entry["lengths"].items():
        cells = [
            f"{mode} HR@{k} {result[mode]['hit_rate']:.4f} R@{k} {result[mode]['recall']:.4f} "
            f"nDCG@{k} {result[mode]['ndcg']:.4f}"
            for mode in ("track", "session")
        ]
        print(f"{name} n={n}: {' | '.join(cells)}  ({entry['sessions']} sessions)")
