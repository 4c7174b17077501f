"""Load the configured models, and swap in new versions between batches.

New versions are looked for every `reload_interval_s` (or at once on SIGHUP) and loaded on a
background thread, so the loop keeps serving the old set until the new one is complete.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from consumer.models import ModelSet
from consumer.settings import Settings
from recommender.ann import HnswIndex, load_index
from recommender.artifacts import (
    ArtifactMismatch,
    ArtifactNotFound,
    latest_version,
    load_artifact,
    save_artifact,
)
from recommender.catalog import Catalog
from recommender.model import Recommender
from recommender.models import MODEL_NAMES, train_model
from recommender.snapshot import CATALOG_CACHE, load_catalog_cached
from recommender.synthetic import BUNDLED_CATALOG

log = logging.getLogger(__name__)

# Models with nothing to learn: built in place when there is no artifact.
_BUILT_IN_PLACE = ("knn", "knn-cosine")


class ModelError(Exception):
    """A configured model cannot be served."""


class ModelLoader:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._catalog: Catalog | None = None
        self._reload_requested = False
        self._next_check = time.monotonic() + settings.reload_interval_s
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encore-reload")
        self._pending: Future[ModelSet] | None = None

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            path = self.settings.catalog or BUNDLED_CATALOG
            cache = self.settings.artifacts / CATALOG_CACHE
            self._catalog = load_catalog_cached(path, cache, tuple(self.settings.features))
        return self._catalog

    def request_reload(self) -> None:
        """Called from the SIGHUP handler: only sets a flag."""
        self._reload_requested = True

    def check(self) -> None:
        """Fail fast, before joining the group, on names and missing artifacts."""
        unknown = [n for n in self.settings.models if n not in MODEL_NAMES]
        if unknown:
            raise ModelError(f"unknown model(s) {unknown}; choose from {', '.join(MODEL_NAMES)}")
        if self.settings.train_missing:
            return
        for name in self.settings.models:
            if (
                name not in _BUILT_IN_PLACE
                and latest_version(self.settings.artifacts, name) is None
            ):
                raise self._missing(name)

    def _missing(self, name: str) -> ModelError:
        root = self.settings.artifacts
        return ModelError(
            f"no artifact for {name!r} under {root}: train one with "
            f"`python -m recommender train --model {name} --out {root}` "
            "or start with --train-missing"
        )

    def load(self) -> ModelSet:
        self.check()
        models = [self._load_one(name) for name in self.settings.models]
        return ModelSet(self.catalog, models, self.settings.answer_cache)

    def load_in_background(self) -> Future[ModelSet]:
        return self._pool.submit(self.load)

    def _load_one(self, name: str) -> Recommender:
        model = self._load_or_build(name)
        kind = self.settings.index
        # A graph saved with the artifact is used as is; otherwise search as configured.
        if kind == "exact" or not isinstance(model.index, HnswIndex):
            model.use_index(kind)
        return model

    def _load_or_build(self, name: str) -> Recommender:
        root: Path = self.settings.artifacts
        loader = None if self.settings.index == "exact" else load_index
        try:
            return load_artifact(root, name, self.catalog, index_loader=loader)
        except ArtifactNotFound:
            if name in _BUILT_IN_PLACE:
                model = train_model(name, self.catalog)
                # Same catalog, same model: every instance reports the same version.
                model.version = f"{name}-{self.catalog.fingerprint[:12]}"
                return model
            if not self.settings.train_missing:
                raise self._missing(name) from None
        except ArtifactMismatch as exc:
            if not self.settings.train_missing:
                raise ModelError(f"{exc} (or start with --train-missing)") from exc
        log.info("training %s (no usable artifact under %s)", name, root)
        model = train_model(name, self.catalog)
        save_artifact(model, root)
        return model

    def _changed(self, current: ModelSet) -> bool:
        root = self.settings.artifacts
        return any(
            (latest := latest_version(root, name)) is not None and latest != version
            for name, version in current.versions().items()
        )

    def reload(self, current: ModelSet) -> ModelSet | None:
        """A new model set once one has finished loading, else None; cheap to call per batch."""
        if self._pending is not None:
            if not self._pending.done():
                return None
            pending, self._pending = self._pending, None
            try:
                return pending.result()
            except Exception:
                log.exception("reload failed; serving %s", current.versions())
                return None
        now = time.monotonic()
        if not self._reload_requested and now < self._next_check:
            return None
        self._next_check = now + self.settings.reload_interval_s
        forced, self._reload_requested = self._reload_requested, False
        if forced or self._changed(current):
            log.info("loading new model versions in the background")
            self._pending = self._pool.submit(self.load)
        return None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
