"""`train --model supervised` and `evaluate --models ...,supervised` on awkward labelled exports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender.__main__ import main
from recommender.artifacts import load_artifact
from recommender.ingest import read_catalog
from recommender.training.synthetic import generate_catalog


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """Capitalised headers, no ids, extras, a genre held by one song, multi-label and
    unlabelled songs, and a second label column."""
    frame = generate_catalog(500, seed=8)
    rng = np.random.default_rng(0)
    frame["year"] = rng.integers(1960, 2021, len(frame))
    frame["key"] = rng.integers(-1, 12, len(frame))
    frame["mood"] = np.where(frame["valence"] > 0.5, "up", "down")
    frame.loc[0, "genre"] = "solo"
    frame.loc[1:20, "genre"] = frame.loc[1:20, "genre"] + "|pop"
    frame.loc[21:30, "genre"] = ""
    frame = frame.drop(columns=["track_id"]).rename(columns=str.title)
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    return path


def test_train_supervised_on_two_label_columns_and_serve_it(tmp_path, export, capsys):
    out = tmp_path / "artifacts"
    argv = ["train", "--model", "supervised", "--catalog", str(export), "--out", str(out)]
    argv += ["--label-column", "Genre", "--label-column", "Mood", "--epochs", "5"]
    assert main([*argv, "--clusters", "2"]) == 0
    assert "train cross-entropy" in capsys.readouterr().out
    catalog = read_catalog(export, "auto")
    assert catalog.feature_names[-3:] == ("year", "key_sin", "key_cos")
    model = load_artifact(out, "supervised", catalog)
    assert model.options["label_column"] == "Genre"
    assert model.options["extra_label_columns"] == ("Mood",)
    labels = model.training_curve.extra["labels"]
    assert "solo" in labels["Genre"] and labels["Mood"] == ["down", "up"]
    assert model.catalog_embedding.shape[1] == 12 + (len(labels["Genre"]) + 1) + (2 + 1)
    assert model.embedding.columns == ("Genre", "Mood") and model.query_zeroed.size == 2
    assert model.options["artist_prior"] == model.embedding.artist_prior == 1.0  # the default
    hellinger = tmp_path / "hellinger"
    argv = ["train", "--model", "supervised", "--catalog", str(export), "--out", str(hellinger)]
    argv += ["--label-column", "Genre", "--epochs", "2", "--geometry", "hellinger"]
    assert main([*argv, "--artist-prior", "0"]) == 0
    roots = load_artifact(hellinger, "supervised", catalog)
    assert roots.options["geometry"] == "hellinger" and roots.query_zeroed.size == 0
    assert roots.options["artist_prior"] == roots.embedding.artist_prior == 0.0


def test_label_columns_are_for_label_trained_models(tmp_path, export, capsys):
    argv = ["train", "--model", "knn", "--catalog", str(export), "--out", str(tmp_path)]
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--label-column", "Genre"])
    assert stopped.value.code == 2
    assert "learns no labels" in capsys.readouterr().err
    argv = ["train", "--model", "supervised", "--catalog", str(export), "--out", str(tmp_path)]
    assert main([*argv, "--label-column", "Style"]) == 2  # no such column: one line, exit 2
    assert "no column 'Style'" in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["first", "all"])
def test_evaluate_every_model_with_auto_features(tmp_path, export, mode):
    out = tmp_path / mode
    argv = ["evaluate", "--catalog", str(export), "--label-column", "Genre", "--features"]
    argv += ["auto", "--models", "knn,autoencoder,supervised", "--label-mode", mode]
    argv += ["--queries", "80", "--no-plots", "--out", str(out)]
    argv += ["--model-options", '{"autoencoder": {"epochs": 2}, "supervised": {"epochs": 3}}']
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert list(report["models"]) == ["knn", "autoencoder", "supervised"]
    assert report["protocol"]["features"][-3:] == ["year", "key_sin", "key_cos"]
    assert all(0 <= m["precision_at_k"][-1] <= 1 for m in report["models"].values())
