"""Smaller catalogs of other shapes, drawn from a labelled one: the defaults checked at the
sizes and label counts of catalogs nobody here has seen (issue 12 met two: 15,000 songs of
19 genres with capitalised headers and no ids, and 5,000 songs of 35 genres).

Each is a seeded sample of the rows of `--genres` labels chosen at random (all of them if
omitted), `--rows` long; `--unseen-headers` drops the id column and writes the headers as a
spreadsheet export would ("Track Name", "Danceability", the label as "Genre"), so the loader's
header matching is part of what is checked. Not a catalog nobody has seen: its songs are the
source's; what changes is how many songs each label has and how many labels share a catalog.

    .venv/bin/python benchmarks/catalog_shapes.py ../shared/data/spotify_tracks_114k.csv \\
        --label-column track_genre --genres 35 --rows 5000 --seed 11 --out /tmp/b_like.csv
    .venv/bin/python benchmarks/quality.py --catalog /tmp/b_like.csv --label-column track_genre
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def shaped(
    frame: pd.DataFrame,
    label: str,
    rows: int,
    genres: int | None,
    seed: int,
    unseen_headers: bool = False,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = frame[label].dropna().unique()
    if genres is not None:
        labels = rng.choice(labels, min(genres, len(labels)), replace=False)
    pool = frame[frame[label].isin(labels)]
    sample = pool.sample(min(rows, len(pool)), random_state=seed)
    if not unseen_headers:
        return sample
    sample = sample.drop(columns=[c for c in sample.columns if c.lower() == "track_id"])
    return sample.rename(columns=lambda c: "Genre" if c == label else _exported(c))


def _exported(column: str) -> str:
    """A header as a spreadsheet export writes it: "track_name" -> "Track Name"."""
    return column.replace("_", " ").title()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalog", type=Path)
    parser.add_argument("--label-column", required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--genres", type=int, help="labels kept, chosen at random (default all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--unseen-headers", action="store_true")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    frame = pd.read_csv(args.catalog)
    out = shaped(frame, args.label_column, args.rows, args.genres, args.seed, args.unseen_headers)
    out.to_csv(args.out, index=False)
    label = "Genre" if args.unseen_headers else args.label_column
    print(f"{args.out}: {len(out)} rows, {out[label].nunique()} labels")


if __name__ == "__main__":
    main()
