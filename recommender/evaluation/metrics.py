"""Ranking and recommendation metrics: pure numpy over (queries, K) arrays, best first.

Every "_at_k" function returns a (K,) array whose entry k-1 is the metric over the top k,
averaged over queries. `hits[i, j]` is True when recommendation j of query i is relevant;
padding (fewer than K recommendations) is simply not a hit.
"""

from __future__ import annotations

import numpy as np


def precision_at_k(hits: np.ndarray) -> np.ndarray:
    hits = np.asarray(hits, dtype=np.float64)
    ranks = np.arange(1, hits.shape[1] + 1)
    return np.asarray((np.cumsum(hits, axis=1) / ranks).mean(axis=0))


def recall_at_k(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Hits in the top k over all relevant candidates; queries with none relevant are skipped."""
    hits = np.asarray(hits, dtype=np.float64)
    n_relevant = np.asarray(n_relevant, dtype=np.float64)
    some = n_relevant > 0
    if not some.any():
        return np.zeros(hits.shape[1])
    return np.asarray((np.cumsum(hits[some], axis=1) / n_relevant[some, None]).mean(axis=0))


def mrr(hits: np.ndarray) -> float:
    """Mean reciprocal rank of the first hit within the list; 0 for a list without one."""
    hits = np.asarray(hits, dtype=bool)
    first = np.argmax(hits, axis=1)
    return float(np.where(hits.any(axis=1), 1.0 / (first + 1), 0.0).mean())


def hit_rate_at_k(hits: np.ndarray) -> np.ndarray:
    """Share of queries with at least one hit in the top k."""
    hits = np.asarray(hits, dtype=bool)
    return np.asarray(np.logical_or.accumulate(hits, axis=1).mean(axis=0, dtype=np.float64))


def ndcg_per_query(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """(n, K) binary-gain nDCG of each query over its top k, k = 1..K; the ideal list holds
    min(k, relevant) hits. Every query needs at least one relevant candidate."""
    hits = np.asarray(hits, dtype=np.float64)
    n_relevant = np.asarray(n_relevant)
    if (n_relevant <= 0).any():
        raise ValueError("every query needs a relevant candidate")
    discounts = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    dcg = np.cumsum(hits * discounts, axis=1)
    ideal_hits = np.arange(1, hits.shape[1] + 1)[None, :] <= n_relevant[:, None]
    idcg = np.cumsum(ideal_hits * discounts, axis=1)
    return np.asarray(dcg / idcg)


def ndcg_at_k(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Binary-gain nDCG (`ndcg_per_query`) averaged over queries; queries without any
    relevant candidate are skipped."""
    hits = np.asarray(hits, dtype=np.float64)
    n_relevant = np.asarray(n_relevant)
    some = n_relevant > 0
    if not some.any():
        return np.zeros(hits.shape[1])
    return np.asarray(ndcg_per_query(hits[some], n_relevant[some]).mean(axis=0))


def _mean_over_top_k(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(n, K) per-item values -> (K,): mean over each query's valid top k, then over queries."""
    valid = np.asarray(valid, dtype=np.float64)
    totals = np.cumsum(np.where(valid > 0, values, 0.0), axis=1)
    counts = np.cumsum(valid, axis=1)
    per_query = np.divide(totals, counts, out=np.full_like(totals, np.nan), where=counts > 0)
    return (
        np.nanmean(per_query, axis=0) if np.isfinite(per_query).any() else np.zeros(len(totals[0]))
    )


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity along the last axis (0 where a vector is zero)."""
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    dots = (a * b).sum(axis=-1)
    return np.asarray(np.divide(dots, norms, out=np.zeros(norms.shape), where=norms > 0))


def feature_agreement_at_k(
    seeds: np.ndarray, recommended: np.ndarray, valid: np.ndarray
) -> dict[str, np.ndarray]:
    """MAE, RMSE and cosine similarity between each seed (n, d) and its recommendations (n, K, d).

    MAE and RMSE pool the features and the top k items of a query; cosine is per item.
    """
    diff = np.asarray(recommended, np.float64) - np.asarray(seeds, np.float64)[:, None, :]
    mae = _mean_over_top_k(np.abs(diff).mean(axis=2), valid)
    rmse = np.sqrt(_mean_over_top_k((diff**2).mean(axis=2), valid))
    cos = _mean_over_top_k(cosine(seeds[:, None, :], recommended), valid)
    return {"mae_at_k": mae, "rmse_at_k": rmse, "cosine_at_k": cos}


def intra_list_diversity(recommended: np.ndarray, valid: np.ndarray) -> float:
    """Mean pairwise (1 - cosine similarity) inside each list, averaged over lists."""
    sims = cosine(recommended[:, :, None, :], recommended[:, None, :, :])
    pairs = valid[:, :, None] & valid[:, None, :]
    pairs &= ~np.eye(valid.shape[1], dtype=bool)[None]
    counts = pairs.sum(axis=(1, 2))
    totals = np.where(pairs, 1.0 - sims, 0.0).sum(axis=(1, 2))
    some = counts > 0
    return float((totals[some] / counts[some]).mean()) if some.any() else 0.0


def coverage(rows: np.ndarray, n_candidates: int) -> float:
    """Share of the candidate songs that appear in at least one list (padding -1 ignored)."""
    shown = np.unique(rows[rows >= 0])
    return float(len(shown) / n_candidates) if n_candidates else 0.0


def artist_repetition(seed_artists: np.ndarray, recommended_artists: np.ndarray) -> float:
    """Share of recommended tracks whose artist is the seed's or already earlier in the list.

    `recommended_artists` is (n, K) object with None for padding; empty artists never repeat.
    """
    repeats = total = 0
    for seed, artists in zip(seed_artists, recommended_artists, strict=True):
        seen = {seed} if seed else set()
        for artist in artists:
            if artist is None:
                continue
            total += 1
            repeats += artist in seen
            if artist:
                seen.add(artist)
    return repeats / total if total else 0.0


def latency_summary(seconds: np.ndarray) -> dict[str, float]:
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "mean_ms": float(ms.mean()),
    }
