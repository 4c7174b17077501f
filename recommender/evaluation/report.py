"""Write an evaluation: `report.json` (the numbers) and `report.md` (models side by side)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

# (heading, report key, index into a per-k list or None for a scalar)
_ROWS: tuple[tuple[str, str, int | None], ...] = (
    ("P@1", "precision_at_k", 0),
    ("P@5", "precision_at_k", 4),
    ("P@K", "precision_at_k", -1),
    ("R@K", "recall_at_k", -1),
    ("nDCG@K", "ndcg_at_k", -1),
    ("MRR", "mrr", None),
    ("MAE@K", "mae_at_k", -1),
    ("RMSE@K", "rmse_at_k", -1),
    ("cosine@K", "cosine_at_k", -1),
    ("diversity", "diversity", None),
    ("coverage", "coverage", None),
    ("artist repetition", "artist_repetition", None),
)


def _cell(entry: dict[str, Any], key: str, index: int | None) -> str:
    value = entry[key]
    if index is not None:
        if len(value) <= abs(index) - (index < 0):
            return "–"
        value = value[index]
    return f"{value:.4f}"


def markdown(report: dict[str, Any]) -> str:
    models = report["models"]
    k = report["protocol"]["k"]
    lines = ["# Evaluation", "", "| metric | " + " | ".join(models) + " |"]
    lines.append("|---|" + "---:|" * len(models))
    for heading, key, index in _ROWS:
        cells = [_cell(entry, key, index) for entry in models.values()]
        lines.append(f"| {heading.replace('K', str(k))} | " + " | ".join(cells) + " |")
    latency = [f"{entry['latency']['p50_ms']:.2f}" for entry in models.values()]
    lines.append("| latency p50 (ms, 1 seed) | " + " | ".join(latency) + " |")
    lines += ["", "## Models", ""]
    lines += [f"- **{name}**: {entry['training']}" for name, entry in models.items()]
    lines += ["", "## Protocol", ""]
    lines += [f"- {key}: {value}" for key, value in report["protocol"].items()]
    lines += ["", "Plots: `precision_at_k.png`, `map_<model>.png`.", ""]
    return "\n".join(lines)


def sessions_markdown(report: dict[str, Any]) -> str:
    """The session evaluation (`evaluation.sessions`): per model and n, both seed modes and
    the paired difference session - track (± its standard error)."""
    k = report["protocol"]["k"]
    lines = ["# Session evaluation", ""]
    lines += [f"| model | n | seed_mode | hit rate@{k} | recall@{k} | nDCG@{k} | sessions |"]
    lines.append("|---|---:|---|---:|---:|---:|---:|")
    for name, entry in report["models"].items():
        for n, result in entry["lengths"].items():
            for mode in ("track", "session"):
                cells = [f"{result[mode][m]:.4f}" for m in ("hit_rate", "recall", "ndcg")]
                lines.append(
                    f"| {name} | {n} | {mode} | {' | '.join(cells)} | {entry['sessions']} |"
                )
            gain = result["session_minus_track"]
            cells = [
                f"{gain[m]['mean']:+.4f} ± {gain[m]['se']:.4f}"
                for m in ("hit_rate", "recall", "ndcg")
            ]
            lines.append(f"| {name} | {n} | session − track | {' | '.join(cells)} | |")
    lines += ["", "## Models", ""]
    lines += [f"- **{name}**: {entry['training']}" for name, entry in report["models"].items()]
    lines += ["", "## Protocol", ""]
    lines += [f"- {key}: {value}" for key, value in report["protocol"].items()]
    return "\n".join(lines) + "\n"


def write(
    report: dict[str, Any],
    out: Path,
    render: Callable[[dict[str, Any]], str] = markdown,
) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "report.json", out / "report.md"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    md_path.write_text(render(report))
    return json_path, md_path
