"""Load the configured models, and swap in new versions between batches (SIGHUP or polling)."""

from __future__ import annotations

import logging
import time

from consumer.models import ModelSet
from consumer.settings import Settings
from recommender.catalog import Catalog
from recommender.model import Recommender, knn
from recommender.synthetic import BUNDLED_CATALOG

log = logging.getLogger(__name__)


class ModelLoader:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._catalog: Catalog | None = None
        self._reload_requested = False
        self._next_check = 0.0

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog.from_csv(self.settings.catalog or BUNDLED_CATALOG)
        return self._catalog

    def request_reload(self) -> None:
        """Called from the SIGHUP handler: only sets a flag."""
        self._reload_requested = True

    def load(self) -> ModelSet:
        return ModelSet(self.catalog, [self._build(name) for name in self.settings.models])

    def _build(self, name: str) -> Recommender:
        if name == "knn":
            return knn(self.catalog, "euclidean")
        if name == "knn-cosine":
            return knn(self.catalog, "cosine")
        raise ValueError(f"unknown model {name!r}")

    def reload(self, current: ModelSet) -> ModelSet | None:
        """A new model set if a reload is due and something changed, else None."""
        now = time.monotonic()
        if not self._reload_requested and now < self._next_check:
            return None
        self._next_check = now + self.settings.reload_interval_s
        forced, self._reload_requested = self._reload_requested, False
        if not forced:
            return None
        fresh = self.load()
        return fresh if forced or fresh.versions() != current.versions() else None
