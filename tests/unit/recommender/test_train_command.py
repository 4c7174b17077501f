"""`python -m recommender train` and `clusters`, end to end on a small generated catalog."""

from __future__ import annotations

import pytest

from recommender.__main__ import main
from recommender.artifacts import latest_version, load_artifact
from recommender.ingest import read_catalog
from recommender.training.synthetic import generate_catalog


@pytest.fixture
def catalog_csv(tmp_path):
    path = tmp_path / "catalog.csv"
    generate_catalog(400, seed=3).to_csv(path, index=False)
    return path


def test_train_then_clusters(tmp_path, catalog_csv, capsys):
    out = tmp_path / "artifacts"
    common = ["--catalog", str(catalog_csv), "--out", str(out), "--clusters", "4"]
    assert (
        main(["train", "--model", "autoencoder", "--epochs", "3", "--hidden", "10", *common]) == 0
    )
    assert main(["train", "--model", "pca", "--components", "0.8", *common]) == 0
    model = load_artifact(out, "autoencoder", read_catalog(catalog_csv))
    assert model.options["hidden"] == (10,)
    assert len(model.training_curve.train) == 3
    capsys.readouterr()

    assert main(["clusters", "--artifacts", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"autoencoder {latest_version(out, 'autoencoder')}" in printed
    assert f"pca {latest_version(out, 'pca')}" in printed
    assert "size" in printed and "top_genre" in printed
    assert main(["clusters", "--artifacts", str(out), "--model", "knn"]) == 1


def test_an_option_the_model_does_not_take_is_a_usage_error(tmp_path, catalog_csv, capsys):
    argv = ["train", "--model", "pca", "--epochs", "3", "--catalog", str(catalog_csv)]
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--out", str(tmp_path)])
    assert stopped.value.code == 2
    assert "takes no option epochs" in capsys.readouterr().err


def test_the_original_autoencoder_is_a_set_of_flags(tmp_path, catalog_csv):
    argv = ["train", "--model", "autoencoder", "--catalog", str(catalog_csv), "--out"]
    flags = ["--hidden", "12", "--latent-dim", "6", "--no-quantile-inputs", "--input-dropout", "0"]
    flags += ["--no-keep-features"]
    assert main([*argv, str(tmp_path), "--epochs", "2", "--clusters", "0", *flags]) == 0
    model = load_artifact(tmp_path, "autoencoder", read_catalog(catalog_csv))
    assert (model.options["hidden"], model.options["latent_dim"]) == ((12,), 6)
    assert not model.options["quantile_inputs"] and model.options["input_dropout"] == 0
    assert model.embedding.inputs is None and not model.embedding.keep_features
    assert model.catalog_embedding.shape[1] == 6
