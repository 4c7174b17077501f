"""`python -m recommender catalog from-audio DIR --out PATH`: a catalog from audio files.

Every audio file under DIR is decoded and analysed (`audio`), in parallel over the cores, with
a progress bar on stderr. A file that gives no features (empty, not audio, corrupt, too short,
silent) is skipped and reported with its reason. The CSV is an ordinary Encore catalog:
`track_id` (from the file's content), `track_name`, `artist`, `genre` when the files sit in a
folder per genre, `duration_ms`, `file` (the path under DIR) and the extracted features.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from tqdm import tqdm

from recommender.errors import CatalogError
from recommender.features import EXTRACTED_FEATURES

if TYPE_CHECKING:
    from audio.analyse import Skipped, TrackAnalysis


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = actions.add_parser(
        "from-audio", help="extract audio features from a folder of audio files into a catalog"
    )
    parser.add_argument("dir", type=Path, help="searched recursively: wav, flac, ogg, mp3, ...")
    parser.add_argument("--out", type=Path, required=True, help="the catalog CSV to write")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0: one per core)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=60.0,
        help="analyse at most this much of each file, from its middle (0: all of it)",
    )
    parser.set_defaults(handler=_from_audio)


def _from_audio(args: argparse.Namespace) -> int:
    # Imported here: the other commands run without the `audio` extra.
    from audio.analyse import Skipped
    from audio.batch import analyse_files, audio_files, default_jobs, warm_up

    if not args.dir.is_dir():
        raise CatalogError(f"no folder at {args.dir}")
    paths = audio_files(args.dir)
    if not paths:
        raise CatalogError(f"no audio files under {args.dir}")
    started = time.perf_counter()
    warm_up()  # once here, and the forked workers inherit it
    warm_s = time.perf_counter() - started
    tracks: list[TrackAnalysis] = []
    skipped: list[Skipped] = []
    bar = tqdm(total=len(paths), unit="file", file=sys.stderr, desc="extracting")
    with bar:
        for result in analyse_files(paths, args.jobs, args.max_seconds, warm=_warm):
            if isinstance(result, Skipped):
                skipped.append(result)
            else:
                tracks.append(result)
            bar.update()
    frame, duplicates = _catalog_frame(tracks, args.dir)
    skipped += duplicates
    for skip in sorted(skipped, key=lambda s: s.path):
        print(f"skipped {skip.path}: {skip.reason}: {skip.message}", file=sys.stderr)
    if frame.empty:
        raise CatalogError(f"none of the {len(paths)} files under {args.dir} gave features")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    elapsed = time.perf_counter() - started - warm_s
    audio_s = sum(t.seconds_analysed for t in tracks)
    print(
        f"wrote {len(frame)} tracks ({len(EXTRACTED_FEATURES)} features) to {args.out}; "
        f"skipped {len(skipped)}; {audio_s:.0f} s of audio in {elapsed:.1f} s, "
        f"{audio_s / elapsed:.1f}x real time on {args.jobs or default_jobs()} processes "
        f"(after {warm_s:.1f} s loading librosa)"
    )
    return 0


def _warm() -> None:
    """Already warm: `_from_audio` warmed up before starting the clock."""


def _catalog_frame(tracks: list[TrackAnalysis], root: Path) -> tuple[pd.DataFrame, list[Skipped]]:
    """Rows in path order, one per content id (a copy is skipped as a duplicate); `genre`
    when any file is in a sub-folder of `root`."""
    from audio.analyse import Skipped

    rows: list[dict[str, object]] = []
    seen: dict[str, Path] = {}
    duplicates: list[Skipped] = []
    for track in sorted(tracks, key=lambda t: t.path):
        relative = track.path.relative_to(root)
        if track.track_id in seen:
            same = f"same content as {seen[track.track_id]}"
            duplicates.append(Skipped(track.path, "duplicate", same))
            continue
        seen[track.track_id] = relative
        row = {
            "track_id": track.track_id,
            "track_name": track.track_name,
            "artist": track.artist,
            "genre": relative.parts[0] if len(relative.parts) > 1 else "",
            "duration_ms": track.duration_ms,
            "file": relative.as_posix(),
        }
        rows.append({**row, **{name: track.features[name] for name in EXTRACTED_FEATURES}})
    frame = pd.DataFrame(rows)
    if not frame.empty and not frame["genre"].astype(bool).any():
        frame = frame.drop(columns="genre")
    return frame, duplicates
