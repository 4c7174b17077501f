"""A catalog compiled to one binary file, so a service starts on a million tracks in seconds.

Parsing and cleaning a CSV costs ~25 s per million rows; a snapshot of a million tracks loads
in ~1.3 s (README, "Catalog snapshots"). It is an uncompressed `.npz` (read with
`allow_pickle=False`): numeric columns as arrays, text columns as one UTF-8 blob plus offsets,
and the song grouping precomputed.
`load_catalog_cached` keeps snapshots keyed by the source file's content, so only the first
start on a new catalog pays for parsing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from recommender.catalog import Catalog
from recommender.errors import CatalogError
from recommender.features import (
    EXTRA_FEATURES,
    audio_features,
    requested_features,
    source_role,
)
from recommender.ingest import load_catalog

log = logging.getLogger(__name__)

FORMAT = "encore-catalog/1"
SUFFIX = ".catalog.npz"
# Where, under an artifacts directory, snapshots of CSV catalogs are cached.
CATALOG_CACHE = "catalogs"


def _pack_text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    encoded = [str(v).encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def _unpack_text(blob: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    data = blob.tobytes()
    bounds = offsets.tolist()
    out = np.empty(len(bounds) - 1, dtype=object)
    out[:] = [data[a:b].decode("utf-8") for a, b in itertools.pairwise(bounds)]
    return out


def save_snapshot(catalog: Catalog, path: Path, feature_set: str | None = None) -> Path:
    """Write atomically (temp file, then rename): a reader never sees half a snapshot.

    `feature_set` is the `--features` value the catalog was loaded with (`auto`, `audio` or
    a comma list), recorded so that a service asking for other features is told, not served
    a different feature list than the CSV would give it (`check_features`)."""
    catalog = catalog.compacted()  # a live catalog: its living tracks only
    arrays: dict[str, np.ndarray] = {
        "features": catalog.features,
        "song_ids": catalog.song_ids,
    }
    text_columns = {
        "track_ids": catalog.track_ids,
        "names": catalog.names,
        "artists": catalog.artists,
    }
    extra_kinds = {}
    for column in catalog.extra.columns:
        series = catalog.extra[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            arrays[f"extra.{column}"] = series.to_numpy()
            extra_kinds[column] = "number"
        else:
            text_columns[f"extra.{column}"] = series.fillna("").astype(str).to_numpy(dtype=object)
            extra_kinds[column] = "text"
    for name, values in text_columns.items():
        arrays[f"{name}.blob"], arrays[f"{name}.offsets"] = _pack_text(values)
    meta = {
        "format": FORMAT,
        "feature_names": list(catalog.feature_names),
        "extra": extra_kinds,
        "fingerprint": catalog.fingerprint,
    }
    if feature_set is not None:
        meta["feature_set"] = _spec_text(feature_set)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".snapshot-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]  # the stub types kwargs as bool
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_snapshot(path: Path) -> Catalog:
    return _load(path)[0]


def _load(path: Path) -> tuple[Catalog, str | None]:
    """The catalog and the feature set it was compiled with (None: not recorded)."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(data["meta"].tobytes())
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not an Encore catalog snapshot ({meta.get('format')})")

        def text(name: str) -> np.ndarray:
            return _unpack_text(data[f"{name}.blob"], data[f"{name}.offsets"])

        extra = pd.DataFrame(
            {
                column: data[f"extra.{column}"] if kind == "number" else text(f"extra.{column}")
                for column, kind in meta["extra"].items()
            }
        )
        catalog = Catalog(
            track_ids=text("track_ids"),
            names=text("names"),
            artists=text("artists"),
            features=np.ascontiguousarray(data["features"], dtype=np.float32),
            feature_names=tuple(meta["feature_names"]),
            extra=extra,
        )
        # Precomputed: normalising a million names is the slow part of a CSV load.
        catalog.__dict__["song_ids"] = np.asarray(data["song_ids"], dtype=np.int64)
        catalog.__dict__["fingerprint"] = meta["fingerprint"]
    recorded = meta.get("feature_set")
    return catalog, recorded if isinstance(recorded, str) else None


def _spec_text(features: str | tuple[str, ...] | list[str]) -> str:
    requested = requested_features(features)
    return requested if isinstance(requested, str) else ",".join(requested)


def check_features(
    path: Path, catalog: Catalog, recorded: str | None, feature_names: tuple[str, ...]
) -> None:
    """A compiled catalog serves the features it was compiled with: the `--features` asked
    for must be that set (or name its features), else `CatalogError` says how to recompile.
    `audio` and `auto` match each other where the catalog has no extra's column at all. A
    snapshot that does not record its set (written before it did) counts as `audio` when it
    holds the audio features alone, as `compile` then always loaded."""
    names = catalog.feature_names
    if recorded is not None:
        compiled = recorded
    else:
        compiled = "audio" if names == audio_features(names) else ",".join(names)
    asked = _spec_text(feature_names)
    if asked == compiled or requested_features(asked) == names:
        return
    # Where the catalog has no extra at all, `auto` and `audio` are the same features.
    no_extras = names == audio_features(names) and not any(
        source_role(f) in catalog.extra.columns for f in EXTRA_FEATURES
    )
    if {asked, compiled} == {"audio", "auto"} and no_extras:
        return
    raise CatalogError(
        f"{path} was compiled with --features {compiled} ({len(names)} features: "
        f"{', '.join(names)}), not {asked}: recompile it with `python -m recommender catalog "
        f"compile SOURCE --features {asked} --out {path}`, or ask for --features {compiled}"
    )


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def load_catalog_cached(
    path: Path,
    cache_dir: Path | None,
    feature_names: tuple[str, ...] = ("audio",),
    label_columns: tuple[str, ...] = (),
) -> Catalog:
    """A snapshot file loads directly (if it was compiled with `feature_names`); a CSV loads
    through its cached snapshot when there is one for this exact content, feature list and
    label columns (else it is parsed, and the snapshot written). `label_columns`: columns
    merged per song like the genre columns loading recognises by itself (see `load_catalog`)."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"catalog file not found: {path}")
    if path.name.endswith(SUFFIX):
        try:
            catalog, recorded = _load(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise CatalogError(f"cannot read catalog snapshot {path}: {exc}") from exc
        check_features(path, catalog, recorded, feature_names)
        return catalog

    def parse() -> Catalog:
        return load_catalog(path, feature_names, extra_label_columns=label_columns).catalog

    if cache_dir is None:
        return parse()
    # Label columns join the key only when given, so existing caches keep their names.
    labels = f":{','.join(label_columns)}" if label_columns else ""
    key = hashlib.sha256(
        f"{file_digest(path)}:{','.join(feature_names)}{labels}".encode()
    ).hexdigest()
    cached = Path(cache_dir) / f"{key[:24]}{SUFFIX}"
    if cached.is_file():
        try:
            return load_snapshot(cached)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            log.warning("ignoring unreadable catalog snapshot %s: %s", cached, exc)
    catalog = parse()
    try:
        save_snapshot(catalog, cached, ",".join(feature_names))
    except OSError as exc:  # a read-only cache only costs the next start time
        log.warning("cannot write catalog snapshot %s: %s", cached, exc)
    return catalog
