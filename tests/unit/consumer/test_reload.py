"""ModelLoader: what it refuses at start, and how a new artifact version (or SIGHUP) swaps in."""

from __future__ import annotations

import time

import pytest
from fakes.kafka import FakeClock
from model_catalogs import grouped_catalog

from consumer.reload import ModelLoader
from consumer.serving import ModelSet
from consumer.settings import Settings
from recommender.artifacts import save_artifact
from recommender.build import build
from recommender.errors import ConfigurationError, ModelError

CATALOG = grouped_catalog()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def loader_for(root, interval_s=5.0, models=("pca",), clock=None) -> ModelLoader:
    settings = Settings(models=list(models), artifacts=root, reload_interval_s=interval_s)
    return ModelLoader(settings, CATALOG, clock or FakeClock())


def reloaded(loader: ModelLoader, current: ModelSet, timeout_s: float = 30.0) -> ModelSet:
    """Ask as the loop does, once per batch, until the background load has finished."""
    deadline = time.monotonic() + timeout_s
    while (fresh := loader.reload(current)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("no reload")
        time.sleep(0.005)
    return fresh


def test_a_missing_artifact_is_refused_with_the_command_that_fixes_it(tmp_path):
    loader = loader_for(tmp_path / "empty", models=("knn", "pca"))
    with pytest.raises(ModelError) as refused:
        loader.check()
    message = str(refused.value)
    assert f"python -m recommender train --model pca --out {tmp_path / 'empty'}" in message
    assert "--train-missing" in message
    assert isinstance(refused.value, ConfigurationError)  # exit 2, one line
    loader_for(tmp_path / "empty", models=("knn",)).check()  # knn is built in place


def test_an_unknown_model_is_refused_with_the_choices(tmp_path):
    with pytest.raises(ModelError, match=r"unknown model.*choose from"):
        loader_for(tmp_path, models=("nope",)).check()


def test_a_new_artifact_version_is_picked_up_at_the_next_check(tmp_path, clock):
    old = save_artifact(build("pca", CATALOG), tmp_path).name
    loader = loader_for(tmp_path, interval_s=5.0, clock=clock)
    try:
        current = loader.load()
        assert current.versions() == {"pca": old}
        new = save_artifact(build("pca", CATALOG, {"components": 3}), tmp_path).name
        assert loader.reload(current) is None  # not time to look yet
        clock.now += 5.0
        fresh = reloaded(loader, current)
        assert fresh.versions() == {"pca": new} and fresh is not current
        clock.now += 5.0
        assert loader.reload(fresh) is None  # nothing newer: nothing loads
        assert loader._pending is None
    finally:
        loader.close()


def test_sighup_asks_for_a_reload_at_once(tmp_path, clock):
    save_artifact(build("pca", CATALOG), tmp_path)
    loader = loader_for(tmp_path, interval_s=3600, clock=clock)
    try:
        current = loader.load()
        assert loader.reload(current) is None and loader._pending is None
        loader.request_reload()  # what the SIGHUP handler calls
        fresh = reloaded(loader, current)
        assert fresh is not current and fresh.versions() == current.versions()
        assert loader.reload(fresh) is None and loader._pending is None  # the flag was used up
    finally:
        loader.close()
