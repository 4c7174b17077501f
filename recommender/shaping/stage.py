"""The rules stage: one neighbour search per batch, then filters, artist cap, MMR and the cut.

Requests fetching the same number of neighbours (`batch.fetch_sizes`) share one search, and a
few requests of a smaller size join a larger size's search (each still sees only its own fetch). A
request whose filters and cap leave fewer than k songs is searched again, with the others
short, for four times as many (up to 1,000); one still short then is answered from an exact
scan of the catalog under its filters, so `exhausted` means that fewer than k songs of the
whole catalog meet its rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from recommender.search.exact import ExactIndex, distance_to_score, normalise_rows
from recommender.shaping import mmr, spread
from recommender.shaping.answers import Answers, ShapedNeighbours
from recommender.shaping.batch import Batch
from recommender.shaping.controls import MAX_POOL, MAX_SEEDS, Shape
from recommender.shaping.rules import Rules

if TYPE_CHECKING:
    from recommender.recommender import Recommender

_WIDEN = 4
_SIZES = 4  # distinct fetch sizes searched apart before rounding them up
# Neighbours fetched beyond their own fetch size that cost about one search and rules pass
# (100,000 songs, HNSW: ~0.7 us per extra neighbour per query, ~400 us per pass).
_FOLD = 512
_BLOCK = 4_000_000  # floats of candidate vectors per MMR chunk (~16 MB)


def shaped_recommend(recommender: Recommender, shapes: Sequence[Shape]) -> ShapedNeighbours:
    """Answer a batch of shaped requests (see the module docstring)."""
    catalog = recommender.catalog
    batch = Batch.of(shapes, len(catalog.feature_names))
    queries, reference = _queries(recommender, batch)
    rules = Rules.of(catalog, batch)
    answers = Answers(len(shapes), int(batch.k.max(initial=0)))
    _Stage(recommender, rules, batch, answers).run(queries)
    explained = [i for i in batch.custom if batch.controls[i].explain]
    because = answers.because(
        explained,
        catalog.features,
        reference if reference is not None else np.empty((0, 0)),
        recommender.scaler.scale,
        catalog.feature_names,
        len(shapes),
    )
    exhausted = answers.counts < batch.k
    return ShapedNeighbours(answers.rows, answers.scores, answers.counts, exhausted, because)


def _queries(recommender: Recommender, batch: Batch) -> tuple[np.ndarray, np.ndarray | None]:
    """Each request's query (n, e), and its blended, targeted seed in raw units (n, d) when
    some request targets or explains."""
    controls, rows = batch.controls, batch.seed_rows
    given = rows < 0
    vectors = recommender.catalog_embedding[np.maximum(rows, 0)]
    if given.any():
        vectors[given] = recommender.embed(batch.seed_features)
    queries = np.array(batch.mean(vectors), np.float32)
    if batch.blended:
        at = np.asarray(batch.blended)
        blends = np.stack([batch.shapes[i].blend for i in batch.blended])  # type: ignore[misc]
        weight = np.array([batch.shapes[i].blend_weight for i in batch.blended], np.float32)
        queries[at] = (1.0 - weight[:, None]) * queries[at] + weight[:, None] * blends
    if not any(controls[i].targets or controls[i].explain for i in batch.custom):
        return recommender.as_queries(queries), None
    raw = recommender.catalog.features[np.maximum(rows, 0)].astype(np.float64)
    raw[given] = batch.seed_features
    mean = np.array(batch.mean(raw))
    targeted = mean.copy()
    moved = [i for i in batch.custom if controls[i].targets]
    for i in moved:
        for column, value in controls[i].targets:
            targeted[i, column] = value
    if moved:
        queries[moved] += recommender.embed(targeted[moved]) - recommender.embed(mean[moved])
    return recommender.as_queries(queries), targeted


class _Stage:
    def __init__(
        self, recommender: Recommender, rules: Rules, batch: Batch, answers: Answers
    ) -> None:
        self.recommender = recommender
        self.catalog = recommender.catalog
        self.vectors = recommender.catalog_embedding
        self.metric = recommender.index.metric
        self.rules = rules
        self.batch = batch
        self.answers = answers
        self.songs = len(self.catalog.canonical_rows)
        self.exact = isinstance(recommender.index, ExactIndex)
        # Requests whose lists spread artists among tied songs (`spread`): capped, not
        # diverse (MMR has its own artist rule), of a model with tied coordinates.
        self.tied = recommender.tied_columns
        fetch = batch.fetch
        self.spreads = (batch.cap > 0) & (batch.diversity <= 0) & bool(self.tied.size)
        if self.spreads.any():
            pooled = np.fromiter((c.pool is not None for c in batch.controls), bool, len(fetch))
            wider = self.spreads & ~pooled
            seeds = (batch.seed_matrix >= 0).sum(axis=1)
            pool = np.ceil(spread.POOL * (batch.k + seeds)).astype(np.int64)
            fetch = np.where(wider, np.maximum(fetch, pool), fetch)
        widest = max(MAX_POOL + MAX_SEEDS, int(fetch.max(initial=0)))
        self.limit = max(1, min(widest, self.songs))
        self.fetch = np.minimum(fetch, self.limit)

    def run(self, queries: np.ndarray) -> None:
        todo = np.arange(len(queries))
        scan = [todo[:0]]
        while todo.size:
            retry = []
            for size, requests in _groups(self.fetch, todo, self.limit):
                short = self._search(requests, queries[requests], size)
                wider = self.fetch[short] < self.limit
                self.fetch[short] = np.minimum(self.fetch[short] * _WIDEN, self.limit)
                retry.append(short[wider])
                scan.append(short[~wider])
            todo = np.concatenate(retry)
        for i in np.concatenate(scan).tolist():
            self._scan(i, queries[i])

    def _search(self, requests: np.ndarray, queries: np.ndarray, size: int) -> np.ndarray:
        """Search; answer the requests whose candidates suffice, return the others."""
        positions, scores = self.recommender.index.search(queries, size)
        if positions.shape[1] < size:  # fewer songs than asked: pad, as `recommend` does
            pad = ((0, 0), (0, size - positions.shape[1]))
            positions = np.pad(positions, pad, constant_values=-1)
            scores = np.pad(scores, pad, constant_values=0)
        valid = self.rules.valid(requests, positions)
        own = self.fetch[requests]
        if (own < size).any():  # a search shared with larger fetches
            valid &= np.arange(size) < own[:, None]
        spreads = self.spreads[requests]
        if spreads.any():
            positions, scores, valid = self._spread(
                requests, queries, positions, scores, valid, spreads
            )
        kept = self.rules.kept(requests, positions, valid)
        short = kept.sum(axis=1) < self.rules.k[requests]
        if self.exact:  # a request that saw every song has its answer, short or not
            short &= own < self.songs
        if not short.any():
            self._select(requests, positions, scores, valid, kept)
            return requests[:0]
        done = ~short
        self._select(requests[done], positions[done], scores[done], valid[done], kept[done])
        again: np.ndarray = requests[short]
        return again

    def _spread(
        self,
        requests: np.ndarray,
        queries: np.ndarray,
        positions: np.ndarray,
        scores: np.ndarray,
        valid: np.ndarray,
        spreads: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows of `spreads` reordered by `spread.spread` (copies; the rest as given).
        A row whose first k valid candidates repeat no artist is its own answer already."""
        at = np.flatnonzero(spreads)
        chosen = np.maximum(positions[at], 0)
        artists = self.rules.song_artists[chosen]
        seen = self.rules.seed_counts(requests[at], artists)
        repeat = spread.repeats(artists, valid[at], seen)
        early = np.cumsum(valid[at], axis=1) <= self.rules.k[requests[at], None]
        needed = (repeat & early).any(axis=1)
        if not needed.any():
            return positions, scores, valid
        at, chosen, repeat = at[needed], chosen[needed], repeat[needed]
        rows = self.catalog.canonical_rows[chosen]
        tied = self.vectors[rows.ravel()[:, None], self.tied[None, :]]
        tier = spread.tiers(queries[at][:, self.tied], tied.reshape(*rows.shape, -1))
        order = spread.spread(tier, repeat, valid[at])
        positions, scores, valid = positions.copy(), scores.copy(), valid.copy()
        positions[at] = np.take_along_axis(positions[at], order, axis=1)
        scores[at] = np.take_along_axis(scores[at], order, axis=1)
        valid[at] = np.take_along_axis(valid[at], order, axis=1)
        return positions, scores, valid

    def _scan(self, i: int, query: np.ndarray) -> None:
        """Every song meeting request i's filters, best first, cut where its rules are met."""
        request = np.array([i])
        valid = self.rules.valid(request, np.arange(self.songs)[None, :])[0]
        positions = np.flatnonzero(valid)
        if not len(positions):  # nothing meets the filters: an empty answer
            return
        scores = _scores(query, self.vectors[self.catalog.canonical_rows[positions]], self.metric)
        order = np.argsort(-scores, kind="stable")
        positions, scores = positions[order][None, :], scores[order][None, :]
        valid = np.ones(positions.shape, dtype=bool)
        kept = self.rules.kept(request, positions, valid)
        enough = np.flatnonzero(np.cumsum(kept[0]) >= self.rules.k[i])
        width = int(enough[0]) + 1 if len(enough) else len(order)
        if self.batch.diversity[i] > 0:  # MMR still chooses from a pool
            width = max(width, min(int(self.fetch[i]), len(order)))
        cut = slice(0, width)
        self._select(request, positions[:, cut], scores[:, cut], valid[:, cut], kept[:, cut])

    def _select(
        self,
        requests: np.ndarray,
        positions: np.ndarray,
        scores: np.ndarray,
        valid: np.ndarray,
        kept: np.ndarray,
    ) -> None:
        rows = self.catalog.canonical_rows[np.maximum(positions, 0)]
        k = self.rules.k[requests]
        diverse = self.batch.diversity[requests] > 0
        if not diverse.all():
            plain = ~diverse
            take = kept[plain] & (np.cumsum(kept[plain], axis=1) <= k[plain, None])
            self.answers.put(requests[plain], rows[plain], scores[plain], take)
        if diverse.any():
            picked = np.flatnonzero(diverse)
            chunk = max(1, _BLOCK // max(1, positions.shape[1] * self.vectors.shape[1]))
            for start in range(0, len(picked), chunk):
                part = picked[start : start + chunk]
                columns = self._diverse(requests[part], positions[part], scores[part], valid[part])
                self.answers.put_picks(requests[part], rows[part], scores[part], columns)

    def _diverse(
        self, requests: np.ndarray, positions: np.ndarray, scores: np.ndarray, valid: np.ndarray
    ) -> np.ndarray:
        """MMR picks as columns of `positions`, -1 padded."""
        # Only valid candidates can be picked: move them left and leave the rest out.
        width = int(valid.sum(axis=1).max())
        if width == 0:
            return np.full((len(requests), int(self.rules.k[requests].max())), -1)
        order = np.argsort(~valid, axis=1, kind="stable")[:, :width]
        safe = np.maximum(np.take_along_axis(positions, order, axis=1), 0)
        artists = self.rules.song_artists[safe]
        picks = mmr.select(
            self.vectors[self.catalog.canonical_rows[safe]],
            np.take_along_axis(scores, order, axis=1),
            np.take_along_axis(valid, order, axis=1),
            artists,
            self.rules.seed_counts(requests, artists),
            self.rules.cap[requests],
            self.rules.k[requests],
            self.batch.diversity[requests],
            self.metric,
        )
        columns: np.ndarray = np.where(
            picks >= 0, np.take_along_axis(order, np.maximum(picks, 0), axis=1), -1
        )
        return columns


def _groups(fetch: np.ndarray, todo: np.ndarray, limit: int) -> Iterator[tuple[int, np.ndarray]]:
    """(size, requests) per fetch size among `todo`; beyond a few sizes, rounded up to powers
    of two (each request still sees only its own fetch), so a batch is a few searches. A small
    group is folded into the next larger size when its requests' extra neighbours cost less
    than a search and rules pass of its own (`_FOLD`)."""
    sizes = fetch[todo]
    if len(sizes) and sizes.min() == sizes.max():
        yield int(sizes[0]), todo
        return
    distinct = np.unique(sizes)
    if len(distinct) > _SIZES:
        sizes = np.minimum(2 ** np.ceil(np.log2(sizes)).astype(np.int64), limit)
        distinct = np.unique(sizes)
    ordered = distinct.tolist()
    carried = todo[:0]
    for size, larger in zip(ordered, [*ordered[1:], None], strict=True):
        carried = np.concatenate([carried, todo[sizes == size]])
        if larger is not None and len(carried) * (larger - size) <= _FOLD:
            continue
        yield size, carried
        carried = todo[:0]


def _scores(query: np.ndarray, vectors: np.ndarray, metric: str) -> np.ndarray:
    """The index's scores, exactly: cosine similarity, or 1 / (1 + euclidean distance)."""
    if metric == "cosine":
        products: np.ndarray = normalise_rows(vectors) @ normalise_rows(query[None, :])[0]
        return products
    return distance_to_score(np.linalg.norm(vectors - query[None, :], axis=1))
