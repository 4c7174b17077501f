"""A request's controls, checked against a catalog and resolved to rows, columns and ids.

`Shape.resolve(catalog, controls, k)` reads the flat controls of one request (the fields a
`SongSelected` or an HTTP body carries, None meaning absent) and raises `RequestError` naming
the field at fault; `Shape(k, (row,))` is a plain request built without checks.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from numbers import Integral, Real
from typing import Any, TypeGuard

import numpy as np

from recommender.catalog import Catalog
from recommender.errors import RequestError, UnknownTrack
from recommender.text import normalise_text

MAX_SEEDS = 5
MAX_EXCLUDED_TRACKS = 500
MAX_EXCLUDED_ARTISTS = 100
MAX_POOL = 1_000
DEFAULT_MAX_PER_ARTIST = 2
POOL_PER_K = 10  # the default pool of a diverse request is 10 x k

# Controls by name; `target_<feature>`, `min_<column>` and `max_<column>` besides.
CONTROLS = frozenset(
    {
        "track_id",
        "features",
        "seed_track_ids",
        "seed_weights",
        "exclude_track_ids",
        "exclude_artists",
        "max_per_artist",
        "explicit",
        "diversity",
        "pool",
        "explain",
    }
)
# Answered from a listener's state by the service (`consumer.state`), not by the rules: a
# request without a listener (a direct HTTP answer) may carry them, and they change nothing.
LISTENER_CONTROLS = frozenset({"exclude_heard", "fresh", "seed_mode", "session_weight"})
_PREFIXES = ("target_", "min_", "max_")


@dataclass(frozen=True)
class Controls:
    """What a request sets beside its seeds and k, resolved: columns, song positions, ids.

    `seed_weights` (one per seed, summing to 1; empty: equal) weigh the seeds' embeddings into
    one seed. `targets` move it by embed(x_targeted) - embed(x_mean), x_mean being the weighted
    mean of the seeds' raw features and x_targeted the same with the targeted values put in:
    exact for linear embeddings (knn, pca) and for one seed, first-order for the autoencoder's
    blends. `ranges` are inclusive bounds in each column's own units.
    """

    seed_weights: tuple[float, ...] = ()
    targets: tuple[tuple[int, float], ...] = ()  # (feature column, value in raw units)
    ranges: tuple[tuple[str, float, float], ...] = ()  # (numeric column, low, high)
    exclude_songs: tuple[int, ...] = ()  # positions in `Catalog.canonical_rows`
    exclude_artists: tuple[int, ...] = ()  # `Catalog.artist_ids`
    max_per_artist: int = DEFAULT_MAX_PER_ARTIST  # 0: no cap; the seeds' artists count
    explicit: bool = True  # False drops explicit songs when the catalog knows them
    diversity: float = 0.0  # the MMR trade-off: 0 is pure similarity
    pool: int | None = None  # neighbours fetched for the rules; None: see `batch.fetch_sizes`
    explain: bool = False


# A request without controls: the default artist cap, nothing else. The stage tells it apart
# by identity, so that plain requests cost next to nothing.
PLAIN = Controls()


@dataclass(frozen=True)
class Shape:
    """One request: k, its seeds (catalog rows; -1 is the feature seed, given by its raw
    values in the catalog's feature order) and its controls.

    `blend` (a session answer): a vector in the model's embedding space, the listener's taste
    profile, mixed into the query with `blend_weight` (`recommender.profile.session_query`).
    `withheld`: song positions (`Catalog.canonical_position`) excluded beside the controls'
    `exclude_songs`, as an int64 array (what listener state withholds, built without Python
    sets or sorting per request).
    """

    k: int
    seed_rows: tuple[int, ...]
    seed_features: tuple[float, ...] | None = None
    controls: Controls = PLAIN
    blend: np.ndarray | None = dataclasses.field(default=None, compare=False)
    blend_weight: float = 0.0
    withheld: np.ndarray | None = dataclasses.field(default=None, compare=False)

    @classmethod
    def resolve(cls, catalog: Catalog, controls: Mapping[str, Any], k: int) -> Shape:
        """Check and resolve a request's controls; `RequestError` names the first bad field."""
        if not isinstance(k, Integral) or isinstance(k, bool) or k < 1:
            raise RequestError("k", f"must be a positive integer, got {k!r}")
        given = {
            key: value
            for key, value in controls.items()
            if value is not None and key not in LISTENER_CONTROLS
        }
        per_feature = [key for key in given if key not in CONTROLS]
        for key in per_feature:
            if not key.startswith(_PREFIXES):
                raise RequestError(key, "unknown control")
        rows, features = _seeds(catalog, given)
        fields: dict[str, Any] = {}  # only what the request sets: the rest keeps its default
        if "seed_weights" in given:
            fields["seed_weights"] = _weights(given["seed_weights"], len(rows))
        if per_feature:
            fields["targets"] = _targets(catalog, given, per_feature)
            fields["ranges"] = _ranges(catalog, given, per_feature)
        if "exclude_track_ids" in given:
            fields["exclude_songs"] = _excluded_songs(catalog, given)
        if "exclude_artists" in given:
            fields["exclude_artists"] = _excluded_artists(catalog, given)
        if "max_per_artist" in given:
            fields["max_per_artist"] = _integer(given, "max_per_artist", 0)
        if "diversity" in given:
            fields["diversity"] = _diversity(given)
        if "pool" in given:
            fields["pool"] = _pool(given, int(k))
        for flag in ("explicit", "explain"):
            if flag in given:
                fields[flag] = _flag(given, flag)
        shaped = Controls(**fields)
        return cls(int(k), rows, features, PLAIN if shaped == PLAIN else shaped)


def _seeds(
    catalog: Catalog, given: dict[str, Any]
) -> tuple[tuple[int, ...], tuple[float, ...] | None]:
    """The seed rows (-1 first for a feature seed) and the feature seed's values."""
    features = given.get("features")
    if features is not None and "track_id" in given:
        raise RequestError("features", "give track_id or features, not both")
    ids = _strings(given, "seed_track_ids", MAX_SEEDS)
    if "seed_track_ids" in given and not ids:
        raise RequestError("seed_track_ids", f"give 1 to {MAX_SEEDS} track ids")
    if "track_id" in given:
        track_id = given["track_id"]
        if not isinstance(track_id, str):
            raise RequestError("track_id", "must be a string")
        ids = [track_id, *ids]
    rows = [-1] if features is not None else []
    for track_id in dict.fromkeys(ids):  # track_id first, then seed_track_ids, each once
        row = catalog.index.get(track_id)
        if row is None:
            field = "seed_track_ids" if track_id in given.get("seed_track_ids", ()) else "track_id"
            raise UnknownTrack(field, f"{track_id!r} is not in the catalog")
        rows.append(row)
    if not rows:
        raise RequestError("track_id", "a seed is required: track_id, features or seed_track_ids")
    if len(rows) > MAX_SEEDS:
        raise RequestError("seed_track_ids", f"at most {MAX_SEEDS} seeds in all, got {len(rows)}")
    return tuple(rows), None if features is None else _feature_seed(catalog, features)


def _feature_seed(catalog: Catalog, features: object) -> tuple[float, ...]:
    if not isinstance(features, Mapping):
        raise RequestError("features", "must map feature names to values")
    unknown = sorted(set(features) - set(catalog.feature_names))
    missing = [name for name in catalog.feature_names if name not in features]
    if unknown or missing:
        problem = f"unknown {unknown}" if unknown else f"missing {missing}"
        raise RequestError(
            "features", f"{problem}; the catalog's are {list(catalog.feature_names)}"
        )
    return tuple(_number(features, name, field="features") for name in catalog.feature_names)


def _weights(raw: object, seeds: int) -> tuple[float, ...]:
    if not _is_list(raw) or len(raw) != seeds:
        raise RequestError(
            "seed_weights", f"give one weight per distinct seed ({seeds}, track_id first)"
        )
    weights = [_number({"w": w}, "w", field="seed_weights") for w in raw]
    total = sum(weights)
    if min(weights) < 0 or total <= 0:
        raise RequestError("seed_weights", "weights must be >= 0 and not all 0")
    return tuple(w / total for w in weights)


def _targets(
    catalog: Catalog, given: dict[str, Any], keys: list[str]
) -> tuple[tuple[int, float], ...]:
    columns = {name: j for j, name in enumerate(catalog.feature_names)}
    targets = []
    for key in sorted(k for k in keys if k.startswith("target_")):
        name = key.removeprefix("target_")
        if name not in columns:
            raise RequestError(key, f"{name!r} is not a model feature: {list(columns)}")
        targets.append((columns[name], _number(given, key)))
    return tuple(targets)


def _ranges(
    catalog: Catalog, given: dict[str, Any], keys: list[str]
) -> tuple[tuple[str, float, float], ...]:
    bounds: dict[str, list[float]] = {}
    for key in sorted(k for k in keys if k.startswith(("min_", "max_"))):
        name = key[4:]
        if name not in catalog.numeric_columns:
            known = list(catalog.numeric_columns)
            raise RequestError(key, f"unknown feature {name!r}; the catalog's are {known}")
        bound = bounds.setdefault(name, [-math.inf, math.inf])
        bound[key.startswith("max_")] = _number(given, key)
    for name, (low, high) in bounds.items():
        if low > high:
            raise RequestError(f"min_{name}", f"{low} is above max_{name} {high}")
    return tuple((name, low, high) for name, (low, high) in bounds.items())


def _excluded_songs(catalog: Catalog, given: dict[str, Any]) -> tuple[int, ...]:
    # An id not in the catalog cannot come back anyway; excluding a release excludes its song.
    index = catalog.index
    ids = _strings(given, "exclude_track_ids", MAX_EXCLUDED_TRACKS)
    rows = [row for row in map(index.get, ids, repeat(-1)) if row >= 0]
    if not rows:
        return ()
    return tuple(sorted(set(catalog.canonical_position[rows].tolist())))


def _excluded_artists(catalog: Catalog, given: dict[str, Any]) -> tuple[int, ...]:
    names = _strings(given, "exclude_artists", MAX_EXCLUDED_ARTISTS)
    ids = {catalog.artist_index.get(normalise_text(name), -1) for name in names}
    return tuple(sorted(ids - {-1}))


def _diversity(given: dict[str, Any]) -> float:
    diversity = _number(given, "diversity")
    if not 0.0 <= diversity <= 1.0:
        raise RequestError("diversity", f"must lie in [0, 1], got {diversity}")
    return diversity


def _pool(given: dict[str, Any], k: int) -> int:
    pool = _integer(given, "pool", 1)
    if not k <= pool <= MAX_POOL:
        raise RequestError("pool", f"must lie in [k, {MAX_POOL}] = [{k}, {MAX_POOL}], got {pool}")
    return pool


def _is_list(value: object) -> TypeGuard[Sequence[Any]]:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _strings(given: Mapping[str, Any], field: str, most: int) -> list[str]:
    value = given.get(field, ())
    if not _is_list(value) or not all(map(isinstance, value, repeat(str))):
        raise RequestError(field, "must be a list of strings")
    if len(value) > most:
        raise RequestError(field, f"at most {most} entries, got {len(value)}")
    return list(value)


def _number(given: Mapping[str, Any], key: str, field: str = "") -> float:
    value = given[key]
    if type(value) is float or type(value) is int:  # the common case, without ABC checks
        if math.isfinite(value):
            return float(value)
    elif not isinstance(value, bool) and isinstance(value, Real) and math.isfinite(value):
        return float(value)
    raise RequestError(field or key, f"must be a finite number, got {value!r}")
    return float(value)


def _integer(given: Mapping[str, Any], key: str, least: int) -> int:
    value = given[key]
    if isinstance(value, bool) or not isinstance(value, Integral) or value < least:
        raise RequestError(key, f"must be an integer >= {least}, got {value!r}")
    return int(value)


def _flag(given: Mapping[str, Any], key: str) -> bool:
    value = given[key]
    if not isinstance(value, bool):
        raise RequestError(key, f"must be true or false, got {value!r}")
    return value
