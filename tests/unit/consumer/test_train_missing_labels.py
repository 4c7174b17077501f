"""`--train-missing` trains `supervised` on the label columns `--label-column` names, and says
in one line what to give when the catalog lacks the label column it would train on."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from model_catalogs import grouped_catalog

from consumer.reload import ModelLoader
from consumer.settings import Settings, settings_from_args
from embedded.broker import free_port
from recommender.artifacts import latest_version
from recommender.catalog import Catalog
from recommender.errors import ConfigurationError, ModelError


def styled_catalog() -> Catalog:
    """Six well-separated groups whose label column is `style`, not the default `genre`."""
    catalog = grouped_catalog()
    extra = catalog.extra.rename(columns={"genre": "style"})
    extra["mood"] = [f"m{i // 20}" for i in range(len(catalog))]  # two groups a mood
    return Catalog(catalog.track_ids, catalog.names, catalog.artists, catalog.features,
                   catalog.feature_names, extra)  # fmt: skip


def loader(root, catalog: Catalog, *labels: str) -> ModelLoader:
    settings = Settings(
        models=["knn", "supervised"], artifacts=root, train_missing=True, label_column=list(labels)
    )
    return ModelLoader(settings, catalog)


def supervised_version(models: ModelLoader) -> str:
    """Load (training if the loader may), then close: the served supervised version."""
    try:
        return models.load().versions()["supervised"]
    finally:
        models.close()


def test_the_flag_repeats_and_the_variable_takes_a_comma_list(monkeypatch):
    assert Settings().label_column == []
    given = settings_from_args(["--label-column", "style", "--label-column", "mood"])
    assert given.label_column == ["style", "mood"]
    monkeypatch.setenv("ENCORE_LABEL_COLUMN", "style, mood")
    assert settings_from_args([]).label_column == ["style", "mood"]


def test_supervised_is_trained_on_the_label_columns_given(tmp_path):
    models = loader(tmp_path, styled_catalog(), "style", "mood")
    try:
        served = models.load()
    finally:
        models.close()
    version = latest_version(tmp_path, "supervised")
    assert version is not None and served.versions()["supervised"] == version
    manifest = json.loads((tmp_path / "supervised" / version / "manifest.json").read_text())
    assert manifest["options"]["label_column"] == "style"
    assert manifest["options"]["extra_label_columns"] == ["mood"]


@pytest.mark.parametrize("labels", [(), ("nosuch",)], ids=["none given", "not in the catalog"])
def test_training_without_a_usable_label_column_is_one_clear_error(tmp_path, labels):
    models = loader(tmp_path, styled_catalog(), *labels)
    try:
        with pytest.raises(ModelError) as refused:
            models.load()
    finally:
        models.close()
    message = str(refused.value)
    assert isinstance(refused.value, ConfigurationError)  # exit 2, one line
    assert "\n" not in message
    assert "--label-column COLUMN" in message
    assert repr(labels[0] if labels else "genre") in message
    assert ("no --label-column given" in message) == (not labels)
    assert latest_version(tmp_path, "supervised") is None


def test_an_existing_artifact_needs_no_label_column(tmp_path):
    catalog = styled_catalog()
    version = supervised_version(loader(tmp_path, catalog, "style"))
    # no --label-column: nothing to train
    assert supervised_version(loader(tmp_path, catalog)) == version


def test_the_service_exits_2_with_one_line(tmp_path):
    csv = tmp_path / "styled.csv"
    catalog = styled_catalog()
    frame = catalog.extra.assign(
        track_id=catalog.track_ids, track_name=catalog.names, artist=catalog.artists
    )
    for j, name in enumerate(catalog.feature_names):
        frame[name] = catalog.features[:, j]
    frame.to_csv(csv, index=False)
    done = subprocess.run(
        [sys.executable, "-m", "consumer", "--bootstrap-servers", "127.0.0.1:1",
         "--catalog", str(csv), "--artifacts", str(tmp_path / "artifacts"),
         "--models", "supervised", "--train-missing", "--no-state",
         "--metrics-port", str(free_port())],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    # librdkafka may log its refused connection too; the service's error is one line.
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("encore: error:")]
    assert "--label-column COLUMN" in line and "its other columns: style, mood" in line


def test_a_label_column_other_than_the_artifacts_is_trained_or_refused(tmp_path):
    """--label-column mood never serves the newest artifact trained on style: with
    --train-missing a mood model is trained, without it the start is refused in one line."""
    catalog = styled_catalog()
    style = supervised_version(loader(tmp_path, catalog, "style"))
    refusing = ModelLoader(
        Settings(models=["supervised"], artifacts=tmp_path, label_column=["mood"]), catalog
    )
    try:
        with pytest.raises(ModelError) as refused:
            refusing.load()
    finally:
        refusing.close()
    assert "\n" not in str(refused.value)
    assert "'style'" in str(refused.value) and "'mood'" in str(refused.value)
    assert "--train-missing" in str(refused.value)
    mood = supervised_version(loader(tmp_path, catalog, "mood"))
    assert mood > style
    manifest = json.loads((tmp_path / "supervised" / mood / "manifest.json").read_text())
    assert manifest["options"]["label_column"] == "mood"
