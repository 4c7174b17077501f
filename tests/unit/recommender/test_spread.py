"""Artists spread among songs tied in `supervised`'s label coordinates (`shaping.spread`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.catalog import Catalog
from recommender.evaluation.metrics import artist_repetition
from recommender.recommender import Recommender
from recommender.shaping import Shape
from recommender.shaping.spread import repeats, spread
from recommender.training.supervised import train_supervised
from recommender.training.synthetic import generate_catalog


def test_a_tier_takes_its_new_artists_first_and_keeps_its_places() -> None:
    tier = np.array([[5, 5, 5, 3, 3]])
    artists = np.array([[1, 1, 2, 1, 3]])
    valid = np.ones((1, 5), bool)
    none = np.zeros((1, 5), np.int64)
    # Tier 5 holds places 0-2: artist 1, then the new artist 2, then artist 1 again; tier 3
    # holds places 3-4: artist 3 (new) before artist 1 (a repeat).
    repeat = repeats(artists, valid, none)
    assert repeat.tolist() == [[False, True, False, True, False]]
    assert spread(tier, repeat, valid).tolist() == [[0, 2, 1, 4, 3]]
    seed_by_2 = (artists == 2).astype(np.int64)  # a seed's artist is not new
    assert spread(tier, repeats(artists, valid, seed_by_2), valid).tolist() == [[0, 1, 2, 4, 3]]
    valid[0, 1] = False  # an invalid candidate stays where it is and is not an artist seen
    assert spread(tier, repeats(artists, valid, none), valid).tolist() == [[0, 1, 2, 4, 3]]


def _clustered_catalog() -> Catalog:
    """Songs whose nearest in sound within a genre are one artist's: each artist holds four
    consecutive songs of a genre ordered by energy."""
    frame = generate_catalog(1600, seed=4)
    frame = frame.sort_values(["genre", "energy"]).reset_index(drop=True)
    frame["artist"] = [f"artist {i // 4}" for i in range(len(frame))]
    frame["track_name"] = [f"song {i}" for i in range(len(frame))]
    return Catalog.from_frame(frame, extra_columns=["genre"])


def _answers(model: Recommender, rows: np.ndarray, **controls: object) -> list[list[int]]:
    catalog = model.catalog
    shapes = [
        Shape.resolve(catalog, {"track_id": str(catalog.track_ids[r]), **controls}, 10)
        for r in rows
    ]
    out = model.recommend_shaped(shapes)
    return [out.rows[i, : out.counts[i]].tolist() for i in range(len(rows))]


def test_supervised_lists_spread_artists_at_no_cost_in_genre() -> None:
    catalog = _clustered_catalog()
    model = train_supervised(catalog, options={"label_column": "genre", "epochs": 15})
    assert model.tied_columns.size  # the labels geometry: songs sit at their labels
    unspread = model.unspread()
    rows = np.random.default_rng(0).choice(len(catalog), 200, replace=False)
    genres = pd.Series(catalog.extra["genre"]).to_numpy()

    def measured(lists: list[list[int]]) -> tuple[float, float]:
        padded = np.full((len(lists), 10), None, dtype=object)
        for i, items in enumerate(lists):
            padded[i, : len(items)] = catalog.artists[items]
        pairs = zip(rows, lists, strict=True)
        hits = np.mean([np.mean(genres[items] == genres[r]) for r, items in pairs])
        return float(hits), artist_repetition(catalog.artists[rows], padded)

    spread_hits, spread_repeats = measured(_answers(model, rows))
    plain_hits, plain_repeats = measured(_answers(unspread, rows))
    assert plain_repeats > 0.05  # one artist's songs are the nearest: capped lists repeat
    assert spread_repeats < plain_repeats / 3
    assert spread_hits >= plain_hits - 0.01
    for items, seed in zip(_answers(model, rows), rows, strict=True):  # still at most 2 per artist
        artists = [catalog.artists[seed], *catalog.artists[items]]
        assert max(artists.count(a) for a in set(artists)) <= 2
    # Without a cap, or with diversity (MMR's own artist rule), lists are as searched.
    for controls in ({"max_per_artist": 0}, {"diversity": 0.3}):
        assert _answers(model, rows[:50], **controls) == _answers(unspread, rows[:50], **controls)
