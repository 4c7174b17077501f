"""The evaluation protocol: which songs are candidates, which are queries, what counts as a hit.

Queries are a fixed-seed sample of the songs (rows grouped by name+artist); a query never
gets its own song back. A hit is a recommendation whose label set intersects the query's.

A model that learns from labels is evaluated as it is deployed: trained on the catalog's label
column, but never on a query's label. By default (`train_fraction` 0) it trains on every song
but the queries, and knows every candidate's label except the queries' (a query is a song the
catalog has no label for, like a feature seed). With `train_fraction` above 0 the songs are
split once by the seed instead: it trains on that share alone, which holds no query and no
candidate, and places every candidate by its prediction (a model trained elsewhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from recommender.catalog import Catalog
from recommender.errors import ConfigurationError
from recommender.ingest import first_label, split_labels
from recommender.shaping import MAX_POOL


@dataclass(frozen=True)
class EvaluationPlan:
    label_column: str
    k: int = 10
    queries: int = 2000
    seed: int = 0
    train_fraction: float = 0.0
    # "all": a song's labels are all those of its rows; "first": only its first row's label
    # (the single-label view that the data README's reference figures use).
    label_mode: str = "all"
    # The lists scored are shaped as served (`recommender.shaping`): at most this many songs
    # per artist, the query's artist counting (0: no cap), and MMR at this diversity over a
    # pool of this many neighbours (None: 10 x k). The defaults score pure similarity.
    max_per_artist: int = 0
    diversity: float = 0.0
    pool: int | None = None

    def __post_init__(self) -> None:
        if self.max_per_artist < 0:
            raise ConfigurationError(f"max_per_artist must be >= 0, got {self.max_per_artist}")
        if not 0.0 <= self.diversity <= 1.0:
            raise ConfigurationError(f"diversity must lie in [0, 1], got {self.diversity}")
        if self.pool is not None and not self.k <= self.pool <= MAX_POOL:
            raise ConfigurationError(f"pool must lie in [k, {MAX_POOL}], got {self.pool}")

    @property
    def shaped(self) -> bool:
        """Whether the lists scored go through the rules stage (a cap or diversity)."""
        return self.max_per_artist > 0 or self.diversity > 0 or self.pool is not None

    def describe(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "dedup": "rows with the same normalised name+artist are one song; one row per song "
            "is a candidate",
            "split": "songs split by seed: train_fraction of them only for models trained on "
            "labels; queries and candidates come from the rest, placed by prediction"
            if self.train_fraction > 0
            else "none: models trained on labels learn every song's label except the "
            "queries' (hidden everywhere, as for songs the catalog has no label for)",
            "exclusions": "a query's own song (and its duplicates) is never a candidate",
            "hit": "the recommendation's label set intersects the query's (label_mode 'all': "
            "a song's labels are those of all its rows; 'first': its first row's only)",
            "relevant": "every other candidate song whose label set intersects the query's",
            "feature_metrics": "MAE, RMSE, cosine between the query's and each recommendation's "
            "standardised features, averaged over the top k",
            "intra_list_diversity": "the metric `diversity`: mean pairwise 1 - cosine of "
            "standardised features within a list",
            "coverage": "share of candidate songs recommended at least once",
            "artist_repetition": "share of recommendations by the seed's artist or an artist "
            "already in the list",
            "shaping": "lists as served by the rules stage: at most max_per_artist songs per "
            "artist, the query's artist counting (0: no cap); maximal marginal relevance at "
            "`diversity` over the `pool` nearest songs (None: 10 x k)"
            if self.shaped
            else "none: the k most similar songs",
        }


def subset(catalog: Catalog, rows: np.ndarray) -> Catalog:
    """The catalog restricted to `rows` (in the given order)."""
    rows = np.asarray(rows, dtype=np.int64)
    return Catalog(
        track_ids=catalog.track_ids[rows],
        names=catalog.names[rows],
        artists=catalog.artists[rows],
        features=np.ascontiguousarray(catalog.features[rows]),
        feature_names=catalog.feature_names,
        extra=catalog.extra.iloc[rows].reset_index(drop=True),
    )


def rows_of_songs(catalog: Catalog, rows: np.ndarray) -> np.ndarray:
    """(len(catalog),) bool: the row belongs to the song of one of `rows`."""
    return np.isin(catalog.song_ids, catalog.song_ids[np.asarray(rows, dtype=np.int64)])


def without_labels(catalog: Catalog, rows: np.ndarray, columns: Sequence[str]) -> Catalog:
    """The catalog with `columns` emptied on every row of the songs of `rows`."""
    hidden = rows_of_songs(catalog, rows)
    extra = catalog.extra.copy()
    for column in columns:
        if column in extra.columns:
            values = extra[column].to_numpy(dtype=object).copy()
            values[hidden] = None
            extra[column] = values
    return replace(catalog, extra=extra)


def split_songs(
    catalog: Catalog, train_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, evaluation rows): every row of a song lands on the same side."""
    songs = np.unique(catalog.song_ids)
    rng = np.random.default_rng(seed)
    train_songs = rng.choice(songs, size=round(train_fraction * len(songs)), replace=False)
    in_train = np.isin(catalog.song_ids, train_songs)
    return np.flatnonzero(in_train), np.flatnonzero(~in_train)


def sample_queries(catalog: Catalog, n: int, seed: int) -> np.ndarray:
    """A fixed-seed sample of canonical rows (one row per song), sorted."""
    songs = catalog.canonical_rows
    rng = np.random.default_rng(seed + 1)
    return np.sort(rng.choice(songs, size=min(n, len(songs)), replace=False))


def label_matrix(catalog: Catalog, column: str, mode: str = "all") -> tuple[np.ndarray, list[str]]:
    """(rows, labels) bool membership of each row's label set, and the label names."""
    if mode not in ("all", "first"):
        raise ValueError(f"label mode must be 'all' or 'first', not {mode!r}")
    values = catalog.labels(column)
    pick = first_label if mode == "first" else (lambda value: value)
    sets = [split_labels(pick(v)) for v in values]
    names = sorted(set().union(*sets)) if sets else []
    position = {name: j for j, name in enumerate(names)}
    matrix = np.zeros((len(sets), len(names)), dtype=bool)
    for i, labels in enumerate(sets):
        matrix[i, [position[name] for name in labels]] = True
    return matrix, names


def hits(labels: np.ndarray, query_rows: np.ndarray, recommended_rows: np.ndarray) -> np.ndarray:
    """(n, K) bool: recommendation shares a label with its query; padding (-1) is no hit."""
    valid = recommended_rows >= 0
    shared = labels[np.maximum(recommended_rows, 0)] & labels[query_rows][:, None, :]
    return np.asarray(shared.any(axis=2) & valid)


def relevant_counts(catalog: Catalog, labels: np.ndarray, query_rows: np.ndarray) -> np.ndarray:
    """Per query: candidate songs, other than its own, whose labels intersect the query's."""
    # Candidates grouped by their distinct label sets keep the product small.
    sets, counts = np.unique(labels[catalog.canonical_rows], axis=0, return_counts=True)
    overlap = (labels[query_rows].astype(np.float32) @ sets.T.astype(np.float32)) > 0
    own = labels[query_rows].any(axis=1)  # a labelled query matches its own song: not relevant
    return np.asarray(overlap.astype(np.int64) @ counts - own)
