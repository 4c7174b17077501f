"""`python -m recommender evaluate` end to end on a small generated catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from recommender.__main__ import main
from recommender.training.synthetic import generate_catalog

PER_K = ("precision_at_k", "recall_at_k", "ndcg_at_k", "mae_at_k", "rmse_at_k", "cosine_at_k")


@pytest.fixture
def catalog_csv(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.csv"
    generate_catalog(800, seed=5).to_csv(path, index=False)
    return path


def _run(catalog_csv: Path, out: Path, models: str) -> dict[str, Any]:
    argv = ["evaluate", "--catalog", str(catalog_csv), "--label-column", "genre"]
    argv += ["--models", models, "--k", "5", "--queries", "120"]
    argv += ["--out", str(out), "--model-options", '{"autoencoder": {"epochs": 2}}']
    assert main(argv) == 0
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    assert set(report) == {"protocol", "models"}
    assert list(report["models"]) == models.split(",")
    return report


def test_evaluate_writes_report_and_plots(catalog_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    report = _run(catalog_csv, out, "knn,supervised")
    assert report["protocol"]["queries_drawn"] == 120
    for entry in report["models"].values():
        for key in PER_K:
            assert len(entry[key]) == 5
        assert 0.0 <= entry["mrr"] <= 1.0
        assert 0.0 < entry["coverage"] <= 1.0
        assert entry["diversity"] >= 0.0
    assert "the queries' labels are hidden" in report["models"]["supervised"]["training"]
    markdown = (out / "report.md").read_text()
    assert "| P@5 |" in markdown and "| metric | knn | supervised |" in markdown
    pngs = ["precision_at_k.png", *(f"map_{m}.png" for m in report["models"])]
    for png in pngs:
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_evaluate_trains_every_model_kind(catalog_csv: Path, tmp_path: Path) -> None:
    report = _run(catalog_csv, tmp_path / "all", "knn,pca,autoencoder,supervised")
    assert (tmp_path / "all" / "map_autoencoder.png").exists()
    assert all(len(e["precision_at_k"]) == 5 for e in report["models"].values())


def test_same_seed_same_numbers(catalog_csv: Path, tmp_path: Path) -> None:
    reports = []
    for run in ("a", "b"):
        argv = ["evaluate", "--catalog", str(catalog_csv), "--label-column", "genre"]
        argv += ["--models", "knn", "--queries", "50", "--out", str(tmp_path / run), "--no-plots"]
        assert main(argv) == 0
        reports.append(json.loads((tmp_path / run / "report.json").read_text()))
    first, second = (r["models"]["knn"] for r in reports)
    assert first["precision_at_k"] == second["precision_at_k"]


def test_a_train_fraction_keeps_the_label_trained_model_off_every_candidate(
    catalog_csv: Path, tmp_path: Path
) -> None:
    argv = ["evaluate", "--catalog", str(catalog_csv), "--label-column", "genre", "--models"]
    argv += ["supervised", "--train-fraction", "0.3", "--queries", "50"]
    assert main([*argv, "--out", str(tmp_path / "x"), "--no-plots"]) == 0
    report = json.loads((tmp_path / "x" / "report.json").read_text())
    assert "disjoint from every query and candidate" in report["models"]["supervised"]["training"]
    argv = ["evaluate", "--catalog", str(catalog_csv), "--label-column", "genre", "--models"]
    argv += ["supervised", "--queries", "5000", "--out", str(tmp_path / "y"), "--no-plots"]
    with pytest.raises(ValueError, match="no song is left to train on"):
        main(argv)


def test_evaluate_loads_a_saved_artifact(catalog_csv: Path, tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts"
    argv = ["train", "--model", "pca", "--catalog", str(catalog_csv), "--out", str(artifacts)]
    assert main([*argv, "--clusters", "0"]) == 0
    out = tmp_path / "report"
    argv = ["evaluate", "--catalog", str(catalog_csv), "--label-column", "genre", "--models"]
    argv += ["pca", "--queries", "50", "--out", str(out), "--artifacts", str(artifacts)]
    assert main([*argv, "--no-plots"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["models"]["pca"]["training"].startswith("artifact ")
