"""The session evaluation's choices, side by side on every view of the data: which songs enter
the taste profile, its half-life and the session weight, for each model.

Each view is a catalog and the columns that make its sessions (`recommender.evaluation.
sessions`); models are built once per view, then every choice is scored on the same sessions.
A choice is worth making only if it holds on every view and model (mean rank below), never
because it wins one number. Track mode does not depend on the profile, so within one `shown`
every choice is measured against the same track answers.

    .venv/bin/python benchmarks/sessions.py \\
        --view ../shared/data/spotify_songs.csv:playlist_id \\
        --view ../shared/data/spotify_tracks_114k.csv:album_name,artists \\
        --models knn,autoencoder --json out/sessions.json
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from recommender.evaluation.builders import evaluated_model
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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/sessions.py", description=__doc__)
    parser.add_argument("--view", action="append", required=True, help="CSV:COLUMN[,COLUMN]")
    parser.add_argument("--models", default="knn,autoencoder")
    parser.add_argument("--profile-songs", default=",".join(PROFILE_SONGS))
    parser.add_argument("--half-lives", default="2,5,10,20")
    parser.add_argument("--session-weights", default="0.5")
    parser.add_argument("--shown", default="3", help="answers withheld (the service's --shown)")
    parser.add_argument("--lengths", default="3,5", help="n the choices are ranked on")
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write every cell here")
    return parser.parse_args(argv)


def plans(args: argparse.Namespace, columns: tuple[str, ...]) -> list[SessionPlan]:
    base = SessionPlan(
        columns=columns,
        lengths=tuple(int(n) for n in args.lengths.split(",")),
        sample=args.sample,
        seed=args.seed,
    )
    grid = itertools.product(
        args.profile_songs.split(","),
        [float(h) for h in args.half_lives.split(",")],
        [float(w) for w in args.session_weights.split(",")],
        [int(s) for s in args.shown.split(",")],
    )
    return [
        replace(base, profile_songs=songs, half_life=half, session_weight=weight, shown=shown)
        for songs, half, weight, shown in grid
    ]


def view_cells(
    path: Path, columns: tuple[str, ...], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """One cell per model x choice x n: session mode's metrics and the gain over track."""
    loaded = load_catalog(path, feature_names=["auto"])
    data = session_data(loaded.catalog, 0.0, args.seed, None)
    sessions = sample_sessions(
        sessions_of(data.catalog, read_sessions(path, columns)), plans(args, columns)[0]
    )
    cells = []
    for name in args.models.split(","):
        recommender, _ = evaluated_model(name, data, "", full_catalog=loaded.catalog)
        for plan in plans(args, columns):
            entry = evaluate_sessions(recommender, sessions, plan)
            for n, result in entry["lengths"].items():
                cells.append(
                    {
                        "view": f"{path.stem}:{','.join(columns)}",
                        "model": name,
                        "n": int(n),
                        "profile_songs": plan.profile_songs,
                        "half_life": plan.half_life,
                        "session_weight": plan.session_weight,
                        "shown": plan.shown,
                        "sessions": entry["sessions"],
                        "track": result["track"],
                        "session": result["session"],
                        "gain": result["session_minus_track"],
                    }
                )
                print(_line(cells[-1]), flush=True)
    return cells


def _line(cell: dict[str, Any]) -> str:
    gain = cell["gain"]["ndcg"]
    return (
        f"{cell['view']} {cell['model']} n={cell['n']} songs={cell['profile_songs']} "
        f"half-life={cell['half_life']:g} weight={cell['session_weight']:g} "
        f"shown={cell['shown']}: "
        f"nDCG@10 track {cell['track']['ndcg']:.4f} session {cell['session']['ndcg']:.4f} "
        f"({gain['mean']:+.4f} ± {gain['se']:.4f}), HR@10 session {cell['session']['hit_rate']:.4f}"
    )


def _choice(cell: dict[str, Any]) -> str:
    return (
        f"songs={cell['profile_songs']} half-life={cell['half_life']:g} "
        f"weight={cell['session_weight']:g} shown={cell['shown']}"
    )


def mean_ranks(cells: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """Each choice's mean rank of session nDCG@10 over every view x model x n (1 = best)."""
    ranks: dict[str, list[float]] = {}
    groups = itertools.groupby(
        sorted(cells, key=lambda c: (c["view"], c["model"], c["n"])),
        key=lambda c: (c["view"], c["model"], c["n"]),
    )
    for _, group in groups:
        members = list(group)
        order = np.argsort(np.argsort([-m["session"]["ndcg"] for m in members])) + 1
        for member, rank in zip(members, order, strict=True):
            ranks.setdefault(_choice(member), []).append(float(rank))
    return sorted(((name, float(np.mean(r))) for name, r in ranks.items()), key=lambda x: x[1])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cells = []
    with threadpool_limits(1):  # a shared machine
        for view in args.view:
            path, _, columns = view.partition(":")
            cells += view_cells(Path(path), tuple(columns.split(",")), args)
    print("\nmean rank of session nDCG@10 across views, models and n:")
    for name, rank in mean_ranks(cells):
        print(f"  {rank:5.2f}  {name}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(cells, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
