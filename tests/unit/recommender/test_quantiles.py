"""The quantile-normal map: order kept, ties shared, unit scale, range clamped, state restored."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.embeddings.quantiles import QuantileNormal


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    skewed = rng.exponential(size=4000)  # a long tail, like speechiness
    mostly_zero = np.where(rng.random(4000) < 0.6, 0.0, rng.random(4000))  # instrumentalness
    return np.column_stack([skewed, mostly_zero, rng.normal(size=4000)])


def test_each_feature_gets_zero_mean_unit_variance_and_keeps_its_order(data):
    mapped = QuantileNormal.fit(data).transform(data)
    np.testing.assert_allclose(mapped.mean(axis=0), 0.0, atol=1e-3)
    np.testing.assert_allclose(mapped.std(axis=0), 1.0, atol=1e-3)
    for j in range(data.shape[1]):
        order = np.argsort(data[:, j], kind="stable")
        assert (np.diff(mapped[order, j]) >= -1e-6).all()
    # The long tail is pulled in: no score sits far beyond a normal's range.
    assert np.abs(mapped[:, 0]).max() < 4.0
    assert data[:, 0].max() > 6.0 * data[:, 0].std()


def test_tied_values_share_one_score(data):
    mapped = QuantileNormal.fit(data).transform(data)
    zeros = data[:, 1] == 0.0
    assert np.unique(mapped[zeros, 1]).size == 1
    assert mapped[zeros, 1][0] < mapped[~zeros, 1].min()


def test_values_beyond_the_fitted_range_take_the_end_scores(data):
    fitted = QuantileNormal.fit(data)
    lowest, highest = fitted.transform(data).min(axis=0), fitted.transform(data).max(axis=0)
    outside = np.vstack([data.min(axis=0) - 10.0, data.max(axis=0) + 10.0])
    np.testing.assert_allclose(fitted.transform(outside), np.vstack([lowest, highest]), atol=1e-6)


def test_state_round_trip(data):
    fitted = QuantileNormal.fit(data)
    again = QuantileNormal.from_state(fitted.state("inputs"), "inputs")
    assert again is not None
    np.testing.assert_array_equal(again.transform(data), fitted.transform(data))
    assert QuantileNormal.from_state({}, "inputs") is None
