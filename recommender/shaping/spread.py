"""Artists spread among equally likely songs, for a model that places songs by their labels.

`supervised` (its `labels` geometry) puts every catalog song with a label at that label: all
the songs of one genre share their label coordinates, so for any query they are equally
likely to share its genre and differ only in sound. Among such songs the nearest in sound are
often one artist's, and a list drawn from one genre would repeat artists up to the cap. Here
a list keeps the positions each tier (songs tied in the label coordinates) holds, and fills a
tier's positions with its songs by artists new to the list first (neither a seed's nor an
earlier candidate's), each group in order of distance. Which tiers a list draws on, and so
its precision at any k, are unchanged; only which songs of a tier come first.

Models without tied coordinates (every other model, and songs placed by prediction) have no
ties and lists stay as searched.
"""

from __future__ import annotations

import numpy as np

from recommender.shaping.rules import occurrences

POOL = 2.0  # a list that spreads fetches (k + seeds) x POOL candidates, to find new artists
_DECIMALS = 5  # tier values (dot products of weighted label blocks) equal to this precision


def tiers(queries: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """(m, F) int64: each candidate's tier for its row's query, from the label coordinates of
    the queries (m, L) and of the candidates (m, F, L): equal values, equally likely."""
    dots = np.einsum("ml,mfl->mf", queries, candidates)
    tier: np.ndarray = np.round(dots * 10**_DECIMALS).astype(np.int64)
    return tier


def repeats(artists: np.ndarray, valid: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """(m, F) bool: valid candidates whose artist is a seed's (`seen` (m, F): how many seeds
    are by the candidate's artist) or an earlier valid candidate's."""
    repeat: np.ndarray = valid & ((seen > 0) | (occurrences(artists, valid) > 0))
    return repeat


def spread(tier: np.ndarray, repeat: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(m, F) column order per row: within each tier, the candidates that are not `repeat`s
    first, each group in its order. Invalid candidates keep their places."""
    m, width = tier.shape
    columns = np.broadcast_to(np.arange(width), (m, width))
    rows = np.broadcast_to(np.arange(m)[:, None], (m, width))
    # An invalid candidate is a tier of its own, so it neither moves nor is moved over.
    group = np.where(valid, tier, np.iinfo(np.int64).min + columns)
    members = np.lexsort((columns.ravel(), repeat.ravel(), group.ravel(), rows.ravel()))
    slots = np.lexsort((columns.ravel(), group.ravel(), rows.ravel()))
    order = np.empty(m * width, np.int64)
    order[slots] = members
    columns_order: np.ndarray = (order % width).reshape(m, width)
    return columns_order
