"""Many files analysed in parallel: a process pool over the cores, results as they finish.

Workers are forked from a parent that has already run one extraction, so none of them pays
librosa's import and numba's compilation again (seconds each). A worker that dies (a decoder
crash) breaks the pool: the files not finished by then are reported as skipped for that
reason, and the run keeps every track it has.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path

import numpy as np

from audio.analyse import Skipped, TrackAnalysis, analyse_or_skip
from audio.decode import MAX_SECONDS, SAMPLE_RATE
from audio.extract import extract_features

# Extensions looked at; libsndfile decides what it can decode (MP3 needs libsndfile >= 1.1).
AUDIO_SUFFIXES = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif"}
)

Result = TrackAnalysis | Skipped


def audio_files(root: Path) -> list[Path]:
    """Every file under `root` with an audio extension, in a stable (sorted) order."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def warm_up() -> None:
    """Import librosa and compile its numba kernels on a second of noise (seconds, once)."""
    rng = np.random.default_rng(0)
    extract_features((0.1 * rng.standard_normal(SAMPLE_RATE)).astype(np.float32))


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def analyse_files(
    paths: Sequence[Path],
    jobs: int = 0,
    max_seconds: float = MAX_SECONDS,
    warm: Callable[[], None] = warm_up,
) -> Iterator[Result]:
    """One result per path, in the order they finish; `jobs` 0 means one per core."""
    jobs = jobs or default_jobs()
    work = partial(analyse_or_skip, max_seconds=max_seconds)
    warm()
    if jobs == 1 or len(paths) <= 1:
        yield from map(work, paths)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(min(jobs, len(paths)), mp_context=context) as pool:
        futures: dict[Future[Result], Path] = {pool.submit(work, p): p for p in paths}
        for future in as_completed(futures):
            try:
                yield future.result()
            except BrokenProcessPool:
                yield Skipped(futures[future], "unreadable", "the decoder crashed on it")
