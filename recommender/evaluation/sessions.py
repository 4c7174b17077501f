"""Offline session evaluation: playlists (or any grouping of rows) as listening sessions.

A session is the songs of one group (`playlist_id`, say) in the file's order. Its first n
songs are fed as selections, answered as the service answers a listener (`consumer.state`):
each answer withholds the songs heard so far and those shown in the last `shown` answers
(`exclude_heard`, `fresh`), and each selection then moves the taste profile
(`recommender.profile`). The answer to the n-th selection is scored against the rest of the
session, in two seed modes: `track` (the n-th song alone) and `session` (`session_query`, the
n-th song blended with the profile of the selections before it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommender.catalog import Catalog
from recommender.errors import CatalogError, ConfigurationError, MissingColumn
from recommender.evaluation import metrics, protocol
from recommender.evaluation.runner import EvaluationData
from recommender.features import AUDIO_FEATURES
from recommender.ingest.headers import match_headers
from recommender.ingest.loader import canonical_frame
from recommender.profile import (
    DEFAULT_HALF_LIFE,
    DEFAULT_SESSION_WEIGHT,
    TasteProfile,
    session_query,
)
from recommender.recommender import Recommender
from recommender.scaling import Standardizer

SEED_MODES = ("track", "session")
METRICS = ("hit_rate", "recall", "ndcg")
# Which selections enter the profile the n-th answer blends in: the n - 1 before the seed (the
# service answers, then moves the profile), or all n, the seed counted twice.
PROFILE_SONGS = ("before", "all")


@dataclass(frozen=True)
class SessionPlan:
    columns: tuple[str, ...] = ("playlist_id",)  # the rows of one session share these
    lengths: tuple[int, ...] = (1, 3, 5)  # n: selections fed before the answer scored
    k: int = 10
    sample: int = 2000  # sessions drawn (fixed seed) among those long enough
    seed: int = 0
    half_life: float = DEFAULT_HALF_LIFE
    session_weight: float = DEFAULT_SESSION_WEIGHT
    profile_songs: str = "before"
    shown: int = 3  # answers whose songs are withheld (the service's --shown); 0: heard only

    def __post_init__(self) -> None:
        if not self.columns:
            raise ConfigurationError("sessions need a column to group rows by")
        if not self.lengths or min(self.lengths) < 1:
            raise ConfigurationError(f"session lengths must be >= 1, got {self.lengths}")
        if self.k < 1 or self.sample < 1 or self.half_life <= 0 or self.shown < 0:
            raise ConfigurationError(
                "k and the sample must be >= 1, the half-life above 0, shown >= 0"
            )
        if not 0.0 <= self.session_weight <= 1.0:
            raise ConfigurationError(
                f"session weight must lie in [0, 1], not {self.session_weight}"
            )
        if self.profile_songs not in PROFILE_SONGS:
            raise ConfigurationError(f"profile songs must be one of {', '.join(PROFILE_SONGS)}")

    @property
    def min_length(self) -> int:
        """A session is used when it leaves a song to score after the longest prefix."""
        return max(self.lengths) + 1

    def describe(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "session": f"the rows sharing {', '.join(self.columns)}, in the file's order; "
            "tracks outside the catalog dropped, a song's repeats dropped",
            "eligible": f"sessions of at least {self.min_length} songs; the same sessions for "
            "every n, model and seed mode",
            "selections": "the first n songs, each updating the taste profile (an exponentially "
            "decayed mean of their embeddings, recommender.profile)",
            "answer": "the k nearest songs to the query, none of the songs heard so far nor "
            "shown in the last `shown` answers (the service's exclude_heard and fresh); every "
            "selection from the first is answered so, in the seed mode scored",
            "seed_modes": "track: the n-th song's embedding; session: session_query(n-th song, "
            "profile, session_weight), the profile of the selections before the n-th "
            "(profile_songs 'before', as the service) or of all n ('all')",
            "relevant": "the songs of the session after the n-th",
            "metrics": "hit_rate: share of sessions with a relevant song in the top k; recall: "
            "relevant songs in the top k over all relevant; ndcg: binary-gain nDCG@k; "
            "session_minus_track: paired mean difference and its standard error",
        }


def read_sessions(path: Path, columns: Sequence[str]) -> list[np.ndarray]:
    """The track ids of each session of an export, in the file's order (groups ordered by
    their first row); rows missing a session column belong to none."""
    try:
        raw = pd.read_csv(path, low_memory=False)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CatalogError(f"cannot read sessions from {path}: {exc}") from exc
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise MissingColumn(f"{path} has no session column {', '.join(missing)}")
    # The ids exactly as the catalog's loader reads them (a uri, a URL, or name+artist).
    ids = canonical_frame(raw, match_headers(raw.columns, AUDIO_FEATURES))["track_id"]
    groups = raw.assign(_track=ids.to_numpy()).groupby(list(columns), sort=False, dropna=True)
    return [group["_track"].to_numpy(dtype=object) for _, group in groups]


def session_data(
    catalog: Catalog, train_fraction: float, seed: int, label_column: str | None
) -> EvaluationData:
    """The songs the models search (and `builders.evaluated_model` builds them over): every
    song, or with `train_fraction` > 0 the evaluation share of `protocol.split_songs`, the
    rest kept for models trained on `label_column`."""
    if train_fraction > 0:
        train_rows, eval_rows = protocol.split_songs(catalog, train_fraction, seed)
    else:
        train_rows, eval_rows = np.empty(0, np.int64), np.arange(len(catalog))
    evaluated = protocol.subset(catalog, eval_rows)
    labels, names = np.zeros((len(evaluated), 0), bool), list[str]()
    if label_column is not None:
        labels, names = protocol.label_matrix(evaluated, label_column)
    return EvaluationData(
        catalog=evaluated,
        train=protocol.subset(catalog, train_rows),
        labels=labels,
        label_names=names,
        queries=np.empty(0, np.int64),  # sessions are the queries here
        scaled=Standardizer.fit(evaluated.features).transform(evaluated.features),
    )


def sessions_of(catalog: Catalog, tracks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each session as song positions (`Catalog.canonical_rows`), first occurrence kept."""
    sessions = []
    for ids in tracks:
        rows = [catalog.index[t] for t in ids if t in catalog.index]
        positions = catalog.canonical_position[np.asarray(rows, dtype=np.int64)]
        _, first = np.unique(positions, return_index=True)
        sessions.append(positions[np.sort(first)])
    return sessions


def sample_sessions(sessions: Sequence[np.ndarray], plan: SessionPlan) -> list[np.ndarray]:
    """A fixed-seed sample of the sessions long enough for every n, in their own order."""
    eligible = [s for s in sessions if len(s) >= plan.min_length]
    rng = np.random.default_rng(plan.seed)
    drawn = np.sort(rng.choice(len(eligible), size=min(plan.sample, len(eligible)), replace=False))
    return [eligible[i] for i in drawn]


def profile_of(embeddings: np.ndarray, half_life: float) -> TasteProfile:
    """The profile after selecting these songs in order (one embedding per row)."""
    profile = TasteProfile.empty(embeddings.shape[1])
    for embedding in embeddings:
        profile = profile.updated(embedding, "select", half_life)
    return profile


def queries(vectors: np.ndarray, heard: np.ndarray, mode: str, plan: SessionPlan) -> np.ndarray:
    """(S, e) query per session; `heard` (S, n) song positions, the seed last."""
    seeds = vectors[heard[:, -1]]
    if mode == "track":
        return np.asarray(seeds, np.float32)
    if mode != "session":
        raise ValueError(f"seed mode must be one of {SEED_MODES}, not {mode!r}")
    profiled = heard if plan.profile_songs == "all" else heard[:, :-1]
    return np.stack(
        [
            session_query(seed, profile_of(vectors[songs], plan.half_life), plan.session_weight)
            for seed, songs in zip(seeds, profiled, strict=True)
        ]
    )


def answers(
    recommender: Recommender,
    heard: np.ndarray,
    withheld: np.ndarray,
    mode: str,
    plan: SessionPlan,
) -> np.ndarray:
    """(S, k) song positions answered for the last song of each row of `heard`, none of the
    songs of its row of `withheld` (-1: none); -1 pads a catalog too small."""
    vectors = recommender.catalog_embedding[recommender.catalog.canonical_rows]
    wanted = plan.k + withheld.shape[1]  # every song withheld may come back: fetch enough
    searched = recommender.as_queries(queries(vectors, heard, mode, plan))
    positions, _ = recommender.index.search(searched, wanted)
    if positions.shape[1] < wanted:
        positions = np.pad(
            positions, ((0, 0), (0, wanted - positions.shape[1])), constant_values=-1
        )
    keep = (positions >= 0) & ~(positions[:, :, None] == withheld[:, None, :]).any(axis=2)
    order = np.argsort(~keep, axis=1, kind="stable")[:, : plan.k]
    kept = np.take_along_axis(keep, order, axis=1)
    return np.where(kept, np.take_along_axis(positions, order, axis=1), -1)


def walk(
    recommender: Recommender, sessions: Sequence[np.ndarray], mode: str, plan: SessionPlan
) -> dict[int, np.ndarray]:
    """The answers (S, k) to selections 1..max n of every session in one seed mode, each
    withholding the songs heard and those of the `plan.shown` answers before it."""
    songs = np.stack([s[: max(plan.lengths)] for s in sessions])
    answered: dict[int, np.ndarray] = {}
    for n in range(1, songs.shape[1] + 1):
        shown = [answered[j] for j in range(max(1, n - plan.shown), n)]
        withheld = np.concatenate([songs[:, :n], *shown], axis=1)
        answered[n] = answers(recommender, songs[:, :n], withheld, mode, plan)
    return answered


def scores(answered: np.ndarray, sessions: Sequence[np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Per session: hit (0/1), recall and nDCG of its answer against its songs after the n-th."""
    hits = np.array([np.isin(a, s[n:]) for a, s in zip(answered, sessions, strict=True)], bool)
    relevant = np.array([len(s) - n for s in sessions], dtype=np.int64)
    return {
        "hit_rate": hits.any(axis=1).astype(np.float64),
        "recall": hits.sum(axis=1) / relevant,
        "ndcg": metrics.ndcg_per_query(hits, relevant)[:, -1],
    }


def evaluate_sessions(
    recommender: Recommender, sessions: Sequence[np.ndarray], plan: SessionPlan
) -> dict[str, Any]:
    """The report entry of one model: per n, the mean metrics of each seed mode and the
    paired difference session - track with its standard error."""
    if not sessions:
        raise ConfigurationError(f"no session has the {plan.min_length} songs needed")
    entry: dict[str, Any] = {"sessions": len(sessions), "lengths": {}}
    walks = {mode: walk(recommender, sessions, mode, plan) for mode in SEED_MODES}
    for n in plan.lengths:
        per_mode = {mode: scores(walks[mode][n], sessions, n) for mode in SEED_MODES}
        result: dict[str, Any] = {
            mode: {name: float(values.mean()) for name, values in per_mode[mode].items()}
            for mode in SEED_MODES
        }
        result["session_minus_track"] = {
            name: _paired(per_mode["session"][name] - per_mode["track"][name]) for name in METRICS
        }
        entry["lengths"][str(n)] = result
    return entry


def _paired(difference: np.ndarray) -> dict[str, float]:
    spread = float(difference.std(ddof=1)) if len(difference) > 1 else 0.0
    return {"mean": float(difference.mean()), "se": spread / float(np.sqrt(len(difference)))}
