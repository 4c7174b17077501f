"""Score one trained recommender under an `EvaluationPlan`: ranking, features, beyond accuracy."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from recommender.catalog import Catalog
from recommender.evaluation import metrics, protocol
from recommender.evaluation.protocol import EvaluationPlan
from recommender.recommender import Recommender
from recommender.scaling import Standardizer
from recommender.shaping import Controls, Shape

# Single-seed calls timed per model: enough for a stable p95 without slowing the run.
_LATENCY_SAMPLES = 200


@dataclass(frozen=True)
class EvaluationData:
    """Everything shared by the models under evaluation, built once per run."""

    catalog: Catalog  # evaluation songs: every query and every candidate
    train: Catalog  # the songs (with labels) models trained on labels learn from
    labels: np.ndarray  # (len(catalog), n_labels) bool
    label_names: list[str]
    queries: np.ndarray  # catalog rows
    scaled: np.ndarray  # catalog features standardised on the catalog (feature metrics)
    plan: EvaluationPlan | None = None  # its shaping applies to every list scored
    # Whether label-trained models know the candidates' labels (every one but the queries'),
    # or place every candidate by prediction (`train` disjoint from `catalog`).
    candidate_labels: bool = False


def prepare(catalog: Catalog, spec: EvaluationPlan) -> EvaluationData:
    """The queries, the candidates and the songs label-trained models learn from (see
    `protocol`: every song but the queries, or a disjoint share)."""
    split = spec.train_fraction > 0
    if split:
        train_rows, eval_rows = protocol.split_songs(catalog, spec.train_fraction, spec.seed)
        evaluated = protocol.subset(catalog, eval_rows)
    else:
        evaluated = catalog
    queries = protocol.sample_queries(evaluated, spec.queries, spec.seed)
    if not split:
        train_rows = np.flatnonzero(~protocol.rows_of_songs(catalog, queries))
    labels, names = protocol.label_matrix(evaluated, spec.label_column, spec.label_mode)
    scaler = Standardizer.fit(evaluated.features)
    return EvaluationData(
        catalog=evaluated,
        train=protocol.subset(catalog, train_rows),
        labels=labels,
        label_names=names,
        queries=queries,
        scaled=scaler.transform(evaluated.features),
        plan=spec,
        candidate_labels=not split,
    )


def evaluate(recommender: Recommender, data: EvaluationData, k: int) -> dict[str, Any]:
    """The report entry of one model; `recommender` must search `data.catalog`."""
    if recommender.catalog is not data.catalog:
        raise ValueError("the recommender must be built over the evaluation catalog")
    queries = data.queries
    lists = _lists(recommender, data.plan, k)
    started = time.perf_counter()
    rows = lists(queries)
    batch_seconds = time.perf_counter() - started
    valid = rows >= 0
    hits = protocol.hits(data.labels, queries, rows)
    relevant = protocol.relevant_counts(data.catalog, data.labels, queries)
    recommended = data.scaled[np.maximum(rows, 0)]
    artists = np.asarray(np.where(valid, data.catalog.artists[np.maximum(rows, 0)], None))
    return {
        "precision_at_k": metrics.precision_at_k(hits).tolist(),
        "recall_at_k": metrics.recall_at_k(hits, relevant).tolist(),
        "ndcg_at_k": metrics.ndcg_at_k(hits, relevant).tolist(),
        "mrr": metrics.mrr(hits),
        **{
            name: values.tolist()
            for name, values in metrics.feature_agreement_at_k(
                data.scaled[queries], recommended, valid
            ).items()
        },
        "diversity": metrics.intra_list_diversity(recommended, valid),
        "coverage": metrics.coverage(rows, len(data.catalog.canonical_rows)),
        "artist_repetition": metrics.artist_repetition(data.catalog.artists[queries], artists),
        "latency": {
            **metrics.latency_summary(_single_seed_seconds(lists, queries)),
            "batch_ms_per_query": 1000.0 * batch_seconds / max(1, len(queries)),
        },
    }


def _lists(
    recommender: Recommender, plan: EvaluationPlan | None, k: int
) -> Callable[[np.ndarray], np.ndarray]:
    """The (n, k) lists of a batch of query rows: plain search, or shaped as `plan` says."""
    if plan is None or not plan.shaped:
        return lambda queries: recommender.recommend(queries, k).rows

    controls = Controls(
        max_per_artist=plan.max_per_artist, diversity=plan.diversity, pool=plan.pool
    )

    def shaped(queries: np.ndarray) -> np.ndarray:
        shapes = [Shape(k, (row,), controls=controls) for row in queries.tolist()]
        return recommender.recommend_shaped(shapes).rows

    return shaped


def _single_seed_seconds(
    lists: Callable[[np.ndarray], np.ndarray], queries: np.ndarray
) -> np.ndarray:
    seconds = []
    for row in queries[:_LATENCY_SAMPLES]:
        started = time.perf_counter()
        lists(np.array([row]))
        seconds.append(time.perf_counter() - started)
    return np.asarray(seconds)
