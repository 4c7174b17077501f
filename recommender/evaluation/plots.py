"""PNG figures of an evaluation: precision@k per model, and each model's embedding in 2-D."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never open a window

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

# Points drawn per map: enough to see structure, few enough to stay readable and fast.
_MAP_POINTS = 3000


def precision_plot(precision: dict[str, list[float]], path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(6, 4))
    for name, values in precision.items():
        axes.plot(np.arange(1, len(values) + 1), values, marker="o", label=name)
    axes.set_xlabel("k")
    axes.set_ylabel("precision@k")
    axes.set_title("Precision@k by model")
    axes.grid(alpha=0.3)
    axes.legend()
    return _save(figure, path)


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def project_2d(embedding: np.ndarray) -> np.ndarray:
    """The first two principal components (the embedding itself when it has fewer dims)."""
    centred = np.asarray(embedding, np.float64) - embedding.mean(axis=0)
    if centred.shape[1] < 2:
        return np.hstack([centred, np.zeros((len(centred), 2 - centred.shape[1]))])
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return np.asarray(centred @ vt[:2].T)


def embedding_map(
    name: str, embedding: np.ndarray, labels: np.ndarray, clusters: np.ndarray, path: Path
) -> Path:
    """Side by side: the 2-D projection coloured by label, and by cluster."""
    rng = np.random.default_rng(0)
    pick = rng.choice(len(embedding), size=min(_MAP_POINTS, len(embedding)), replace=False)
    points = project_2d(embedding[pick])
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8))
    for axes, values, title in ((left, labels[pick], "label"), (right, clusters[pick], "cluster")):
        for value in sorted({str(v) for v in values}):
            mask = np.array([str(v) == value for v in values])
            axes.scatter(points[mask, 0], points[mask, 1], s=4, alpha=0.6, label=value)
        axes.set_title(f"{name}: coloured by {title}")
        axes.legend(markerscale=3, fontsize=7, loc="best")
    return _save(figure, path)
