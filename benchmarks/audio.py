"""Audio in, measured: extraction speed per core on 30-second clips, and P@10 by style of the
models on a labelled catalog of generated clips (`tests/audio_clips.py` styles: techno,
ambient, chiptune, ballad; each clip its own seed, tempo, key and notes).

    .venv/bin/python -m benchmarks.audio --out out/audio [--per-style 25] [--seconds 30]

It writes the clips under OUT/clips/<style>/, builds OUT/clips.csv with the same command a
user runs (`python -m recommender catalog from-audio OUT/clips --out OUT/clips.csv`) and
scores it with `python -m recommender evaluate --catalog OUT/clips.csv --label-column genre
--models knn,knn-cosine,pca --k 10`; the table goes to stdout and OUT/audio.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

# Run as a script, this file's folder comes first on the path and its name hides the `audio`
# package: put the repository there instead (and tests/, for the clip generators).
HERE, ROOT = Path(__file__).resolve().parent, Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), str(ROOT / "tests")] + [
    p for p in sys.path if Path(p or ".").resolve() != HERE
]
from audio_clips import style_folder  # noqa: E402

from audio.analyse import analyse_file  # noqa: E402
from audio.batch import warm_up  # noqa: E402
from audio.decode import read_clip  # noqa: E402
from recommender.__main__ import main as recommender  # noqa: E402

MODELS = "knn,knn-cosine,pca"


def speed(paths: list[Path]) -> dict[str, float]:
    """One process, one core: seconds of audio analysed per second of wall time."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, honestly
    warm_up()
    decode_s, total_s, audio_s = 0.0, 0.0, 0.0
    for path in paths:
        started = time.perf_counter()
        read_clip(path)
        decode_s += time.perf_counter() - started
        started = time.perf_counter()
        track = analyse_file(path)
        total_s += time.perf_counter() - started
        audio_s += track.seconds_analysed
    return {
        "clips": len(paths),
        "audio_s": audio_s,
        "seconds": total_s,
        "realtime": audio_s / total_s,
        "decode_share": decode_s / total_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out/audio"))
    parser.add_argument("--per-style", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--speed-clips", type=int, default=8)
    args = parser.parse_args()
    clips = args.out / "clips"
    shutil.rmtree(clips, ignore_errors=True)
    paths = style_folder(clips, args.per_style, args.seconds, seed=1)
    csv, report = args.out / "clips.csv", args.out / "report"
    started = time.perf_counter()
    assert recommender(["catalog", "from-audio", str(clips), "--out", str(csv)]) == 0
    catalog_s = time.perf_counter() - started
    argv = ["evaluate", "--catalog", str(csv), "--label-column", "genre", "--models", MODELS]
    argv += ["--k", "10", "--queries", str(len(paths)), "--no-plots", "--out", str(report)]
    assert recommender(argv) == 0
    scores = json.loads((report / "report.json").read_text())["models"]
    step = max(1, len(paths) // args.speed_clips)
    measured = speed(paths[::step][: args.speed_clips])
    lines = [
        f"Extraction, one core, {measured['clips']} clips of {args.seconds:g} s: "
        f"{measured['realtime']:.1f}x real time ({measured['audio_s']:.0f} s of audio in "
        f"{measured['seconds']:.1f} s; decoding {100 * measured['decode_share']:.0f} %)",
        f"from-audio on every core: {len(paths)} clips in {catalog_s:.1f} s (with librosa's start)",
        "",
        f"| model | P@10 by style ({len(paths)} clips, {args.per_style} per style) | MRR |",
        "|---|---:|---:|",
    ]
    for name, entry in scores.items():
        p10 = float(np.asarray(entry["precision_at_k"])[9])
        lines.append(f"| `{name}` | {p10:.3f} | {entry['mrr']:.3f} |")
    text = "\n".join(lines)
    print(text)
    (args.out / "audio.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
