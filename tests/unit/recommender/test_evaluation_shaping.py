"""The evaluation scores lists as the rules stage shapes them: an artist cap, diversity."""

from __future__ import annotations

import numpy as np
import pytest
from model_catalogs import grouped_catalog

from recommender.catalog import Catalog
from recommender.errors import ConfigurationError
from recommender.evaluation import EvaluationPlan, evaluate, prepare
from recommender.recommender import knn


def few_artists() -> Catalog:
    """Six tight groups of ten songs (label `genre`); two artists share each group."""
    catalog = grouped_catalog(6, 10, seed=1)
    artists = np.array([f"Artist {i // 10}-{i % 2}" for i in range(len(catalog))], dtype=object)
    return Catalog(
        catalog.track_ids,
        catalog.names,
        artists,
        catalog.features,
        catalog.feature_names,
        catalog.extra,
    )


def scored(**shaping: float | int | None) -> dict[str, object]:
    plan = EvaluationPlan("genre", k=5, queries=30, train_fraction=0.0, **shaping)  # type: ignore[arg-type]
    data = prepare(few_artists(), plan)
    return evaluate(knn(data.catalog), data, k=5)


def test_without_shaping_the_lists_are_the_plain_search() -> None:
    plan = EvaluationPlan("genre", k=5, queries=30, train_fraction=0.0)
    data = prepare(few_artists(), plan)
    model = knn(data.catalog)
    assert not plan.shaped
    rows = model.recommend(data.queries, 5).rows
    hits = data.labels[rows] & data.labels[data.queries][:, None, :]
    assert evaluate(model, data, 5)["precision_at_k"][-1] == pytest.approx(hits.any(axis=2).mean())


def test_an_artist_cap_of_one_leaves_no_artist_repeated() -> None:
    plain, capped = scored(), scored(max_per_artist=1)
    assert plain["artist_repetition"] > 0.5  # the seed's group is the seed's two artists
    assert capped["artist_repetition"] == 0.0
    assert capped["precision_at_k"][-1] < plain["precision_at_k"][-1]


def test_diversity_raises_intra_list_diversity() -> None:
    plain, diverse = scored(), scored(diversity=0.9, pool=30)
    assert diverse["diversity"] > plain["diversity"]
    assert diverse["precision_at_k"][0] == plain["precision_at_k"][0]  # MMR's first pick


def test_the_protocol_names_the_shaping() -> None:
    plan = EvaluationPlan("genre", max_per_artist=2, diversity=0.3)
    described = plan.describe()
    assert (described["max_per_artist"], described["diversity"], described["pool"]) == (
        2,
        0.3,
        None,
    )
    assert "max_per_artist" in described["shaping"]
    assert EvaluationPlan("genre").describe()["shaping"].startswith("none")


@pytest.mark.parametrize(
    "shaping",
    [{"max_per_artist": -1}, {"diversity": 1.5}, {"diversity": -0.5}, {"pool": 5}, {"pool": 2000}],
)
def test_impossible_shaping_is_a_configuration_error(shaping: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError):
        EvaluationPlan("genre", k=10, **shaping)  # type: ignore[arg-type]
