"""The catalogs the benchmark runs on: the real export, and synthetic ones of any size.

`copula` keeps the real marginals and correlations per genre (`generate_catalog`, from the
model shipped in the repository); `jitter` draws real rows again with 5 % noise
(`jittered_catalog`, needs the real export). Generated CSVs are kept under the work directory.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recommender.training.synthetic import generate_catalog, jittered_catalog

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "spotify_songs.csv"
CATALOG_KINDS = ("copula", "jitter")
SEED = 2026


@dataclass(frozen=True)
class Case:
    label: str
    csv: Path
    kind: str  # real, copula or jitter


def catalogs(sizes: list[str], kinds: list[str], work: Path, real: Path = REAL) -> list[Case]:
    """'real' is the export itself; a number is one synthetic catalog of each kind."""
    unknown = [k for k in kinds if k not in CATALOG_KINDS]
    if unknown:
        raise SystemExit(f"unknown catalog kind(s) {unknown}; choose from {CATALOG_KINDS}")
    cases = []
    for size in sizes:
        if size == "real":
            if real.exists():
                cases.append(Case(f"real ({real.name})", real, "real"))
            else:
                print(f"skipping the real catalog: {real} not found", file=sys.stderr)
            continue
        for kind in kinds:
            case = synthetic(kind, int(size), work, real)
            if case is not None:
                cases.append(case)
    return cases


def synthetic(kind: str, n: int, work: Path, real: Path) -> Case | None:
    path = work / f"{kind}-{n}.csv"
    if kind == "jitter" and not real.exists():
        print(f"skipping the jitter catalog: {real} not found", file=sys.stderr)
        return None
    if not path.exists():
        if kind == "copula":
            frame = generate_catalog(n, seed=SEED)
        else:
            frame = jittered_catalog(pd.read_csv(real, low_memory=False), n, seed=SEED)
        tmp = path.with_suffix(".tmp")
        frame.to_csv(tmp, index=False)
        tmp.replace(path)
    return Case(f"{kind} {n:,}", path, kind)
