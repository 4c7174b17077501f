"""Versioned model artifacts on disk: `root/<model>/<version>/`, written atomically.

A version directory holds `manifest.json` (name, version, creation time, metric, features,
catalog fingerprint, options, training curve), `model.safetensors` (scaler and embedding
weights), `catalog.safetensors` (the encoded catalog and cluster ids), `clusters.csv` (the
cluster table) and, when the index can save itself, `index/`. Nothing is pickled.

Errors (see `recommender.errors`): `ArtifactError` > `ArtifactNotFound`, `ArtifactMismatch`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from safetensors.numpy import load_file, save_file

from recommender.build import build, in_place_version
from recommender.catalog import Catalog
from recommender.clusters import cluster_table
from recommender.errors import ArtifactError, ArtifactMismatch, ArtifactNotFound
from recommender.recommender import Recommender, TrainingCurve
from recommender.registry import resolve_options, saved_options, spec
from recommender.scaling import Standardizer
from recommender.search import Metric, NeighbourIndex

FORMAT = 1
MANIFEST = "manifest.json"
WEIGHTS = "model.safetensors"
ENCODED = "catalog.safetensors"
CLUSTERS = "clusters.csv"
INDEX_DIR = "index"

# Given the index directory, the metric and the encoded canonical rows, rebuild a saved index.
IndexLoader = Callable[[Path, Metric, np.ndarray], NeighbourIndex]


def latest_version(root: Path, name: str) -> str | None:
    """The newest complete version of `name` under `root`, or None; one directory listing."""
    try:
        entries = os.scandir(Path(root) / name)
    except FileNotFoundError:
        return None
    with entries:
        # Versions in progress live in dot-directories until renamed into place.
        versions = [e.name for e in entries if e.is_dir() and not e.name.startswith(".")]
    return max(versions, default=None)


def save_artifact(recommender: Recommender, root: Path) -> Path:
    """Write the model to `root/<name>/<version>/` and return that directory.

    Only timestamp versions (`new_version`) are saved, so a model's versions sort by creation
    time; a model built in place for one catalog (`in_place_version`) is never saved.
    """
    if not _is_timestamp(recommender.version):
        raise ArtifactError(
            f"version {recommender.version!r} of {recommender.name!r} is not a timestamp: "
            "only trained models are saved"
        )
    if spec(recommender.name).load is None:
        raise ArtifactError(f"model {recommender.name!r} is never saved as an artifact")
    model_dir = Path(root) / recommender.name
    final = model_dir / recommender.version
    if final.exists():
        raise FileExistsError(f"artifact {final} already exists")
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{recommender.version}-", dir=model_dir))
    staging.chmod(0o755)  # mkdtemp makes it private; readers may be other users
    try:
        _write(recommender, staging)
        # The rename is atomic: a reader sees no directory or a complete one.
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _write(recommender: Recommender, directory: Path) -> None:
    weights = {**recommender.scaler.state(), **recommender.embedding.state()}
    save_file({k: np.ascontiguousarray(v) for k, v in weights.items()}, directory / WEIGHTS)
    encoded: dict[str, np.ndarray] = {"embedding": recommender.catalog_embedding}
    if recommender.clusters is not None:
        encoded["clusters"] = recommender.clusters
        table = cluster_table(recommender.catalog, recommender.clusters)
        table.to_csv(directory / CLUSTERS, index=False, float_format="%.6g")
    save_file(encoded, directory / ENCODED)
    index_files = _save_index(recommender.index, directory / INDEX_DIR)
    curve = recommender.training_curve
    manifest = {
        "format": FORMAT,
        "name": recommender.name,
        "version": recommender.version,
        "created_at": datetime.now(UTC).isoformat(),
        "metric": recommender.metric,
        "feature_names": list(recommender.catalog.feature_names),
        "catalog_fingerprint": recommender.catalog.fingerprint,
        "n_tracks": len(recommender.catalog),
        "options": recommender.options,
        "training_curve": curve.to_dict() if curve is not None else None,
        "index": index_files,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, default=_jsonable))


def _save_index(index: NeighbourIndex, directory: Path) -> dict[str, Any] | None:
    save: Callable[[Path], object] | None = getattr(index, "save", None)
    if save is None:
        return None
    directory.mkdir()
    save(directory)
    return {"type": type(index).__name__, "path": INDEX_DIR}


def load_artifact(
    root: Path,
    name: str,
    catalog: Catalog,
    version: str | None = None,
    *,
    index_loader: IndexLoader | None = None,
) -> Recommender:
    """Load the newest (or the given) version of `name`, refusing one made for another catalog.

    A saved index is used only when `index_loader` is given; otherwise an exact index is built
    over the stored encoded catalog.
    """
    version = version or latest_version(root, name)
    directory = Path(root) / name / (version or "")
    if version is None or not (directory / MANIFEST).is_file():
        raise ArtifactNotFound(f"no artifact {name!r} version {version} under {root}")
    manifest = json.loads((directory / MANIFEST).read_text())
    _check(manifest, name, catalog, directory)
    weights = load_file(directory / WEIGHTS)
    encoded = load_file(directory / ENCODED)
    metric: Metric = manifest["metric"]
    index = None
    if index_loader is not None and manifest.get("index"):
        canonical = encoded["embedding"][catalog.canonical_rows]
        index = index_loader(directory / manifest["index"]["path"], metric, canonical)
    curve = manifest.get("training_curve")
    return Recommender(
        name,
        catalog,
        Standardizer.from_state(weights),
        _loader(name)(weights),
        metric,
        version=manifest["version"],
        catalog_embedding=encoded["embedding"],
        index=index,
        clusters=encoded.get("clusters"),
        options=saved_options(name, manifest.get("options")),
        training_curve=TrainingCurve.from_dict(curve) if curve else None,
    )


def _loader(name: str) -> Callable[[dict[str, np.ndarray]], Any]:
    load = spec(name).load
    if load is None:
        raise ArtifactError(f"model {name!r} is never saved as an artifact")
    return load


def _check(manifest: dict[str, Any], name: str, catalog: Catalog, directory: Path) -> None:
    if manifest.get("format") != FORMAT or manifest.get("name") != name:
        raise ArtifactMismatch(
            f"{directory} holds {manifest.get('name')!r} in format {manifest.get('format')}, "
            f"expected {name!r} in format {FORMAT}"
        )
    if tuple(manifest["feature_names"]) != tuple(catalog.feature_names):
        raise ArtifactMismatch(
            f"{directory} was trained on features {manifest['feature_names']}, "
            f"the catalog has {list(catalog.feature_names)}"
        )
    if manifest["catalog_fingerprint"] != catalog.fingerprint:
        raise ArtifactMismatch(
            f"{directory} was trained on another catalog ({manifest['n_tracks']} tracks, "
            f"fingerprint {manifest['catalog_fingerprint'][:12]}); this one has {len(catalog)} "
            f"tracks, fingerprint {catalog.fingerprint[:12]}: retrain it"
        )


def load_or_train(
    names: Iterable[str],
    root: Path,
    catalog: Catalog,
    train_missing: bool,
    *,
    build_in_place: bool = False,
    index_loader: IndexLoader | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Recommender]:
    """The newest artifact of each model for this catalog, or else (the one policy for it):

    - a model with nothing to learn is built in place when `build_in_place` (never saved; its
      version is the same on every instance for the same catalog);
    - with `train_missing`, any other model is trained (with `options[name]`, if given) and
      saved;
    - otherwise `ArtifactNotFound` / `ArtifactMismatch` is raised.

    An artifact trained with other values of the options given (`--label-column` asking for
    another label than the newest artifact learned) does not fit either.
    """
    models = {}
    for name in names:
        asked = dict((options or {}).get(name, {}))
        try:
            models[name] = load_artifact(root, name, catalog, index_loader=index_loader)
            _check_options(models[name], asked)
        except (ArtifactNotFound, ArtifactMismatch):
            if build_in_place and spec(name).builds_in_place:
                models[name] = build(name, catalog, version=in_place_version(name, catalog))
            elif train_missing:
                models[name] = build(name, catalog, asked)
                save_artifact(models[name], root)
            else:
                raise
    return models


def _check_options(model: Recommender, asked: Mapping[str, Any]) -> None:
    resolved = resolve_options(model.name, asked) if asked else {}
    differing = {k: v for k, v in resolved.items() if k in asked and model.options.get(k) != v}
    if differing:
        trained = {k: model.options.get(k) for k in differing}
        raise ArtifactMismatch(
            f"the newest {model.name!r} artifact ({model.version}) was trained with {trained}, "
            f"not the {differing} asked"
        )


def read_cluster_table(root: Path, name: str, version: str | None = None) -> pd.DataFrame | None:
    """The stored cluster table of a version (newest by default); None if trained without."""
    version = version or latest_version(root, name)
    if version is None:
        raise ArtifactNotFound(f"no artifact {name!r} under {root}")
    path = Path(root) / name / version / CLUSTERS
    return pd.read_csv(path) if path.is_file() else None


def _is_timestamp(version: str) -> bool:
    try:
        datetime.strptime(version, "%Y%m%dT%H%M%S%fZ")
    except ValueError:
        return False
    return True


def _jsonable(value: object) -> object:
    if isinstance(value, tuple | np.ndarray):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a manifest")
