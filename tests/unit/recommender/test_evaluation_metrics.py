"""Metric functions on rankings small enough to score by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommender.evaluation import metrics

# Two queries, top 3: query 0 hits at ranks 1 and 3 (2 relevant in all); query 1 at rank 2 (4).
HITS = np.array([[True, False, True], [False, True, False]])
RELEVANT = np.array([2, 4])


def test_precision_at_k() -> None:
    assert metrics.precision_at_k(HITS) == pytest.approx([0.5, 0.5, 0.5])
    assert metrics.precision_at_k(HITS[:1]) == pytest.approx([1.0, 0.5, 2 / 3])


def test_recall_at_k_skips_queries_without_relevant_items() -> None:
    assert metrics.recall_at_k(HITS, RELEVANT) == pytest.approx([0.25, 0.375, 0.625])
    assert metrics.recall_at_k(HITS, np.array([2, 0])) == pytest.approx([0.5, 0.5, 1.0])


def test_mrr() -> None:
    assert metrics.mrr(HITS) == pytest.approx(0.75)
    assert metrics.mrr(np.array([[False, False]])) == 0.0


def test_ndcg_at_k() -> None:
    d2, d3 = 1 / math.log2(3), 0.5
    first = [1.0, 1.0 / (1 + d2), (1 + d3) / (1 + d2)]
    second = [0.0, d2 / (1 + d2), d2 / (1 + d2 + d3)]
    expected = [(a + b) / 2 for a, b in zip(first, second, strict=True)]
    assert metrics.ndcg_at_k(HITS, RELEVANT) == pytest.approx(expected)
    perfect = np.array([[True, True, False]])
    assert metrics.ndcg_at_k(perfect, np.array([2])) == pytest.approx([1.0, 1.0, 1.0])


def test_feature_agreement_at_k() -> None:
    seeds = np.array([[1.0, 0.0]])
    recommended = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    scores = metrics.feature_agreement_at_k(seeds, recommended, np.array([[True, True]]))
    assert scores["mae_at_k"] == pytest.approx([0.0, 0.5])
    assert scores["rmse_at_k"] == pytest.approx([0.0, math.sqrt(0.5)])
    assert scores["cosine_at_k"] == pytest.approx([1.0, 0.5])
    padded = metrics.feature_agreement_at_k(seeds, recommended, np.array([[True, False]]))
    assert padded["mae_at_k"] == pytest.approx([0.0, 0.0])


def test_intra_list_diversity() -> None:
    recommended = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]])
    valid = np.array([[True, True, True]])
    assert metrics.intra_list_diversity(recommended, valid) == pytest.approx(2 / 3)
    assert metrics.intra_list_diversity(recommended, np.array([[True, False, True]])) == 0.0


def test_coverage_and_artist_repetition() -> None:
    assert metrics.coverage(np.array([[0, 1], [1, -1]]), 4) == 0.5
    artists = np.array([["A", "B", "B", None]], dtype=object)
    assert metrics.artist_repetition(np.array(["A"], dtype=object), artists) == pytest.approx(2 / 3)


def test_latency_summary_in_milliseconds() -> None:
    summary = metrics.latency_summary(np.array([0.001, 0.002, 0.003]))
    assert summary["p50_ms"] == pytest.approx(2.0)
    assert summary["mean_ms"] == pytest.approx(2.0)
