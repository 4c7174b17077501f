"""`knn` and `supervised` served through the broker at 100,000 tracks, side by side in one run.

One synthetic copula catalog (`benchmarks.catalogs.synthetic`: the nine audio features and a
`genre` column of 6 genres, the label `supervised` trains on), both models trained once with
`python -m recommender train` into one artifacts directory (kept under `--work`, so a second
run skips training), then for each kind of seed and each model the same number of pre-loaded
selections naming that model (`"model": "knn"` / `"supervised"`), answered by one service of
its own (`--models NAME`, from the artifact and its saved HNSW graph) on a fresh broker, the
models taking turns, `--repeats` times. Seeds are `catalog` (a track id, uniform over the
catalog: the embedding is looked up) or `features` (the raw nine audio features of a catalog
track and no id: the model's embedding of the seed runs per event, a network pass for
`supervised`). `--wide` adds `supervised x114`: the same model trained on `wide_genre`, the
6 genres crossed with 19 random groups (114 labels, the width a hundred-genre catalog gives its
embedding: 9 + 114 dimensions), served by a service of its own.

Measured per run: events/s (first answer to last, as BENCHMARKS.md counts), the service's
CPU µs per event from ready to its last answer (less disturbed by other work than events/s),
and the machine's 1-minute load average at the start. Every answer is checked to come from
the model the event named, with k items. Stateless (`--no-state`) and without the answer
cache (`--answer-cache 0`), so a figure is the model's own cost; `--state` and `--cache` serve
with the service's defaults instead.

    python -m benchmarks.served_models [--tracks 100000] [--events 30000] [--repeats 2] [--wide]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from safetensors.numpy import load_file

from benchmarks.catalogs import REAL, synthetic
from benchmarks.load import seed_rows
from benchmarks.service import Bench, Run, on_fresh_broker
from producer.events import encode, selection
from recommender.artifacts import ENCODED, latest_version
from recommender.catalog import Catalog
from recommender.ingest import read_catalog
from tests.harness import ServiceProcess, produce

K = 10
WIDE_GROUPS = 19  # 6 synthetic genres x 19 groups = 114 labels
SEED_KINDS = ("catalog", "features")


@dataclass(frozen=True)
class Served:
    label: str  # as the table shows it
    model: str  # the name events ask for
    root: Path  # its artifacts directory
    dims: int = 0


def with_wide_labels(csv: Path) -> Path:
    """The catalog with a `wide_genre` column of 114 labels (seeded), written once."""
    path = csv.with_name(csv.stem + "-wide.csv")
    if not path.exists():
        frame = pd.read_csv(csv)
        groups = np.random.default_rng(0).integers(0, WIDE_GROUPS, len(frame))
        frame["wide_genre"] = [f"{g}-{i}" for g, i in zip(frame["genre"], groups, strict=True)]
        tmp = path.with_suffix(".tmp")
        frame.to_csv(tmp, index=False)
        tmp.replace(path)
    return path


def train(csv: Path, root: Path, model: str, *labels: str) -> float | None:
    """Train `model` into `root` with the CLI; None when an artifact is already there."""
    if (root / model).is_dir():
        return None
    root.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "recommender", "train", "--model", model,
               "--catalog", str(csv), "--out", str(root)]  # fmt: skip
    for label in labels:
        command += ["--label-column", label]
    started = time.monotonic()
    with (root / f"train-{model}.log").open("wb") as log:
        subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT)
    return time.monotonic() - started


def events(catalog: Catalog, model: str, kind: str, n: int, tag: str) -> list[tuple[bytes, bytes]]:
    rows = seed_rows("uniform", catalog, n, seed=3)
    users = np.random.default_rng(3).integers(0, 10_000, n)
    names = catalog.feature_names
    out = []
    for i, (row, user) in enumerate(zip(rows.tolist(), users.tolist(), strict=True)):
        user_id, event_id = f"user-{user}", f"{tag}-{i}"
        if kind == "catalog":
            track_id = str(catalog.track_ids[row])
            event = selection(user_id, track_id=track_id, model=model, event_id=event_id)
        else:
            values = dict(zip(names, catalog.features[row].tolist(), strict=True))
            features = {name: round(value, 6) for name, value in values.items()}
            event = selection(user_id, features=features, model=model, event_id=event_id)
        out.append(encode(event))
    return out


class ServedBench(Bench):
    def __init__(self, work: Path, service_args: list[str]) -> None:
        super().__init__(work, partitions=4)
        self.service_args = service_args

    @on_fresh_broker
    def serve(self, csv: Path, served: Served, batch: list[tuple[bytes, bytes]]) -> Run:
        topics = self.topics()
        produce(self.servers, topics[0], batch)
        service = ServiceProcess(
            self.servers, topics, f"served-{uuid.uuid4().hex[:6]}",
            ["--catalog", str(csv), "--artifacts", str(served.root), "--models", served.model,
             *self.service_args],
            log_dir=self.work,
        )  # fmt: skip
        answers, run = self.drain(service, topics[1], len(batch))
        decoded = [json.loads(m.value()) for m in answers]
        wrong = [a for a in decoded if a["model"] != served.model or len(a["items"]) != K]
        if len(answers) != len(batch) or wrong:
            raise RuntimeError(
                f"{served.label}: {len(answers)} answers of {len(batch)}, {len(wrong)} not "
                f"{K} items from {served.model!r}; log {service.log_path}"
            )
        return run


def _dims(root: Path, model: str) -> int:
    """The embedding's width, from the newest artifact's encoded catalog."""
    version = latest_version(root, model)
    assert version is not None
    return int(load_file(root / model / version / ENCODED)["embedding"].shape[1])


def _cell(values: list[float], digits: int) -> str:
    median = float(np.median(values))
    runs = " / ".join(f"{v:,.{digits}f}" for v in values)
    return f"{median:,.{digits}f} ({runs})" if len(values) > 1 else f"{median:,.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.served_models", description=__doc__)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=30_000, help="pre-loaded per run")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--seeds", default="catalog,features", help="comma list of catalog,features"
    )
    parser.add_argument("--wide", action="store_true", help="also supervised on 114 labels")
    parser.add_argument("--state", action="store_true", help="listener state on (the default)")
    parser.add_argument("--cache", action="store_true", help="answer cache on (the default)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/encore-served"))
    args = parser.parse_args(argv)
    kinds = [k for k in args.seeds.split(",") if k]
    if unknown := set(kinds) - set(SEED_KINDS):
        parser.error(f"unknown seeds {sorted(unknown)}; choose from {', '.join(SEED_KINDS)}")
    args.work.mkdir(parents=True, exist_ok=True)
    case = synthetic("copula", args.tracks, args.work, REAL)
    assert case is not None
    csv = with_wide_labels(case.csv) if args.wide else case.csv
    root = args.work / "artifacts" / csv.stem
    served = [Served("knn", "knn", root), Served("supervised", "supervised", root)]
    trainings = [("knn", root, "knn", ()), ("supervised", root, "supervised", ("genre",))]
    if args.wide:
        wide = args.work / "artifacts" / f"{csv.stem}-x114"
        served.append(Served("supervised x114", "supervised", wide))
        trainings.append(("supervised x114", wide, "supervised", ("wide_genre",)))
    for label, where, model, labels in trainings:
        seconds = train(csv, where, model, *labels)
        done = "already trained" if seconds is None else f"trained in {seconds:.0f} s"
        print(f"{label}: {done} ({where})", flush=True)
    served = [Served(s.label, s.model, s.root, _dims(s.root, s.model)) for s in served]
    catalog = read_catalog(csv)
    service_args = [*([] if args.state else ["--no-state"])]
    service_args += [] if args.cache else ["--answer-cache", "0"]
    bench = ServedBench(args.work, service_args)
    results: dict[tuple[str, str], list[Run]] = {}
    for repeat in range(args.repeats):
        for kind in kinds:
            for s in served:
                batch = events(catalog, s.model, kind, args.events, f"{kind}-{repeat}")
                run = bench.serve(csv, s, batch)
                results.setdefault((s.label, kind), []).append(run)
                print(
                    f"  {s.label}, {kind} seeds: {run.events_per_s:,.0f} events/s, "
                    f"{run.cpu_us_per_event:.1f} µs CPU/event (load {run.load_average:.1f})",
                    flush=True,
                )
    state = "listener state on" if args.state else "--no-state"
    cache = "answer cache on" if args.cache else "--answer-cache 0"
    print(
        f"\n{len(catalog):,} tracks ({csv.name}), {args.events:,} selections per run, "
        f"k = {K}, 4 partitions, at-least-once, {state}, {cache}; median of {args.repeats} "
        "run(s), each run in brackets\n"
    )
    print("| model | dims | seeds | events/s | CPU µs/event | load average |")
    print("|---|---:|---|---:|---:|---:|")
    for kind in kinds:
        for s in served:
            runs = results[(s.label, kind)]
            loads = [r.load_average or 0.0 for r in runs]
            print(
                f"| `{s.label}` | {s.dims} | {kind} | "
                f"{_cell([r.events_per_s for r in runs], 0)} | "
                f"{_cell([r.cpu_us_per_event or 0.0 for r in runs], 1)} | "
                f"{min(loads):.1f}–{max(loads):.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
