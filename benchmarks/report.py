"""BENCHMARKS.md from the runs of `python -m benchmarks`: medians, ranges and paired ratios."""

from __future__ import annotations

import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benchmarks.catalogs import Case
from benchmarks.service import Run

# The default stays on only if it wins on skewed load and costs at most this on uniform load.
CACHE_TOLERANCE = 0.03


@dataclass
class Cell:
    """Every repeat of one catalog x seed distribution: Encore with and without the cache, and
    the naive consumer, run in the same order each repeat (the order alternates)."""

    case: Case
    seeds: str
    tracks: int
    repeat_share: float
    cached: list[Run] = field(default_factory=list)
    uncached: list[Run] = field(default_factory=list)
    naive: list[Run] = field(default_factory=list)  # the faster try of each repeat
    naive_tries: list[list[Run]] = field(default_factory=list)  # default, 1 BLAS thread


@dataclass
class Extras:
    """Per catalog, on the headline load: exactly-once, recall and latency."""

    case: Case
    exactly_once: Run
    recall: float | None
    latency: dict[str, Any]


def spread(values: Sequence[float], digits: str = ",.0f") -> str:
    """'median (min–max)', or the value alone for one run."""
    median = statistics.median(values)
    if len(values) == 1:
        return format(median, digits)
    return f"{median:{digits}} ({min(values):{digits}}–{max(values):{digits}})"


def paired(a: Sequence[Run], b: Sequence[Run]) -> list[float]:
    """events/s of a over b, repeat by repeat (each pair ran minutes apart, not hours)."""
    return [x.events_per_s / y.events_per_s for x, y in zip(a, b, strict=True)]


def render(cells: list[Cell], extras: list[Extras], settings: dict[str, Any]) -> str:
    lines = _header(cells, extras, settings)
    lines += [
        "| catalog | seeds | answer cache | Encore events/s | from ready | cache hits "
        f"| Encore CPU µs/event | naive events/s ({settings['naive_events']:,} events) "
        "| speed-up | start → ready | peak RSS |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in cells:
        for label, runs in (("on", cell.cached), ("off", cell.uncached)):
            hits = spread([r.cache_hit_rate or 0.0 for r in runs], ".0%") if label == "on" else "–"
            lines.append(
                f"| {cell.case.label} | {cell.seeds} | {label} "
                f"| {spread([r.events_per_s for r in runs])} "
                f"| {spread([r.from_ready_per_s or 0.0 for r in runs])} | {hits} "
                f"| {spread([r.cpu_us_per_event or 0.0 for r in runs], '.1f')} "
                f"| {spread([r.events_per_s for r in cell.naive])} "
                f"| {spread(paired(runs, cell.naive), '.0f')}× "
                f"| {spread([r.ready_s or 0.0 for r in runs], '.1f')} s "
                f"| {spread([r.peak_rss_mb or 0.0 for r in runs])} MB |"
            )
    lines += _cache_section(cells)
    lines += _naive_section(cells)
    lines += _extras_section(extras)
    return "\n".join(lines) + "\n"


def _header(cells: list[Cell], extras: list[Extras], settings: dict[str, Any]) -> list[str]:
    runs = [r for c in cells for r in (*c.cached, *c.uncached, *c.naive)]
    runs += [e.exactly_once for e in extras]
    loads = [r.load_average for r in runs if r.load_average is not None]
    start = (
        "cold, as a new user's first start: the catalog CSV and an empty artifacts directory, "
        "so every start parses the CSV and builds knn (and its HNSW graph) in place"
        if settings["start"] == "cold"
        else "from an artifact trained beforehand (`python -m recommender train`)"
    )
    repeat_share = ", ".join(
        f"{c.case.label} {c.seeds} {c.repeat_share:.0%}" for c in cells if c.case.kind != "real"
    )
    return [
        "# Benchmarks",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on this project's machine ({platform.machine()}, "
        "2 cores shared with other work, 24 GiB), Tansu broker in memory on loopback, one Encore "
        f"instance (`knn`, k = 10, at-least-once), {settings['partitions']} input partitions, "
        f"{settings['events']:,} selections pre-loaded per run. Re-run with:",
        "",
        f"    {settings['command']}",
        "",
        f"Each start is {start}. Throughput counts from the first answer to the last (the "
        "answers' broker timestamps); Encore's CPU per event is the service process's CPU from "
        "ready to its last answer, which other work on the machine disturbs less than events/s. "
        "Every run has a broker of its own. Each figure is the median of "
        f"{settings['repeats']} run(s) with the range in brackets; the machine's 1-minute load "
        f"average at the runs' start was {min(loads):.1f}–{max(loads):.1f} (2 means both cores "
        "busy), so the ranges are mostly other work, not Encore.",
        "",
        "Selections: `uniform` picks every catalog track alike; `zipf` picks popularity rank r "
        "with P ∝ 1/r (exponent 1) over all tracks, the order being the catalog's `popularity` "
        "column where it has one (real and jitter) and a seeded random permutation otherwise "
        f"(`benchmarks/load.py`). Share of selections repeating an earlier seed: {repeat_share} "
        "(the hit rate of an unbounded cache that fills at once; Encore's fills after each "
        "batch, so repeats inside one batch miss). Events/s counts from the first answer to "
        "the last, as this file always has, which leaves the first batch's time out; "
        '"from ready" counts from the service being ready to its last answer. Catalogs: '
        "`copula` is the Gaussian-copula "
        "generator, `jitter` real rows of spotify_songs.csv drawn with replacement, 5 % of each "
        "feature's standard deviation of noise, new ids, names with take suffixes "
        "(`recommender/training/synthetic.py`).",
        "",
        "The naive consumer is the seed projects' way (`benchmarks/naive.py`): one message at a "
        "time, json, dict lookup, scikit-learn brute-force `kneighbors`, json, produce, "
        f"auto-commit; same catalog, the first {settings['naive_events']:,} of the same "
        "selections (it is slow: a full input would take minutes per run), run twice per "
        "repeat, with its BLAS/OpenMP threads capped at one and, on a tenth of those events, "
        "as installed; the faster counts (one query at a time, the pools' threads spin-wait for "
        "each other when other work holds the cores; see the table below the cache "
        "comparison). Speed-up is Encore over the naive consumer of the same repeat.",
        "",
    ]


def _cache_section(cells: list[Cell]) -> list[str]:
    lines = [
        "",
        "Answer cache on against off, repeat by repeat (events/s on / off; CPU per event off / "
        f"on). The rule for the default: on only if it wins on zipf and costs at most "
        f"{CACHE_TOLERANCE:.0%} on uniform, judged by the median paired ratio.",
        "",
        "| catalog | seeds | events/s on / off | CPU per event off / on |",
        "|---|---|---:|---:|",
    ]
    for cell in cells:
        cpu = [
            (off.cpu_us_per_event or 0.0) / (on.cpu_us_per_event or 1.0)
            for on, off in zip(cell.cached, cell.uncached, strict=True)
        ]
        rate = spread(paired(cell.cached, cell.uncached), ".3f")
        lines.append(f"| {cell.case.label} | {cell.seeds} | {rate} | {spread(cpu, '.3f')} |")
    return lines


def _naive_section(cells: list[Cell]) -> list[str]:
    lines = [
        "",
        "The naive consumer's two tries (events/s): BLAS/OpenMP threads as installed (on a "
        "tenth of the events), and one.",
        "",
        "| catalog | seeds | threads as installed | one thread |",
        "|---|---|---:|---:|",
    ]
    for cell in cells:
        default = spread([tries[0].events_per_s for tries in cell.naive_tries])
        single = spread([tries[-1].events_per_s for tries in cell.naive_tries])
        lines.append(f"| {cell.case.label} | {cell.seeds} | {default} | {single} |")
    return lines


def _extras_section(extras: list[Extras]) -> list[str]:
    if not extras:
        return []
    lines = [
        "",
        "On the headline load (zipf, answer cache on), one run each: exactly-once throughput, "
        "the graph's recall@10 against exact search (2,000 catalog queries), and latency with "
        "selections offered at a fixed rate to a running instance (end to end is the input "
        "message's timestamp to its answer's).",
        "",
        "| catalog | exactly-once events/s | recall@10 | offered events/s | answered | p50 | p95 "
        "| p99 | p99 by third of the run | Encore's own p99 (consumed → acknowledged) "
        "| broker CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for e in extras:
        lat = e.latency
        recall = "exact" if e.recall is None else f"{e.recall:.3f}"
        lines.append(
            f"| {e.case.label} | {e.exactly_once.events_per_s:,.0f} | {recall} "
            f"| {lat['offered']:,.0f} | {lat['answered']:,} | {lat['p50']:.0f} ms "
            f"| {lat['p95']:.0f} ms | {lat['p99']:.0f} ms "
            f"| {' / '.join(f'{p:.0f}' for p in lat['p99_thirds'])} ms "
            f"| ≤ {lat['processing_p99_ms']:.0f} ms | {lat['broker_cpu']:.0%} |"
        )
    return lines
