"""What the API serves from: the loaded model set, loaded in the background, hot-reloaded
like the service's, updated by the catalog topic, and what is derived from it (the search
index, rebuilt in the background when the catalog changed)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from consumer.serving import ModelSet
from recommender.catalog import Catalog
from web.catalog_search import TrackSearch
from web.problems import ProblemError

log = logging.getLogger(__name__)


# A living catalog's search index is rebuilt at most this often (O(n): seconds at 1M tracks).
SEARCH_REBUILD_S = 2.0


@dataclass(frozen=True)
class Loaded:
    """One model set and a search index: of its catalog, or of an earlier one while a
    catalog update waits for the index to be rebuilt (`search_catalog` says which)."""

    models: ModelSet
    search: TrackSearch
    search_catalog: Catalog


class ModelState:
    """`current()` is the set being served; a reload swaps in a whole new one atomically."""

    def __init__(
        self,
        load: Callable[[], ModelSet],
        reload: Callable[[ModelSet], ModelSet | None] | None = None,
        reload_every_s: float = 1.0,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        # Set by the catalog follower: reloaded models go to it (to get the topic's records
        # applied on the event loop) instead of straight into service.
        self.on_reloaded: Callable[[ModelSet], None] | None = None
        self._lock = threading.Lock()
        self._stale_since: float | None = None
        self._load = load
        self._on_error = on_error
        self._reload = reload
        self._reload_every_s = reload_every_s
        self._loaded: Loaded | None = None
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        return self._loaded is not None

    def current(self) -> Loaded:
        loaded = self._loaded
        if loaded is None:
            detail = "the catalog and models are still loading"
            if self.error is not None:
                detail = f"the models could not be loaded: {self.error}"
            raise ProblemError(503, detail, {"Retry-After": "2"})
        return loaded

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="encore-web-models", daemon=True)
        self._thread.start()

    def load_now(self) -> None:
        """Load in the calling thread (tests, and `python -m web` before it listens)."""
        self.swap(self._load())

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def swap(self, models: ModelSet, catalog_update: bool = False) -> None:
        """Serve `models`. After a catalog update the search index stays the previous one
        (`web.routes.catalog` maps its rows by track id) until `_refresh_search` rebuilds it."""
        with self._lock:
            previous = self._loaded
            if previous is not None and (
                catalog_update or previous.models.catalog is models.catalog
            ):
                self._loaded = Loaded(models, previous.search, previous.search_catalog)
                if previous.search_catalog is not models.catalog and self._stale_since is None:
                    self._stale_since = time.monotonic()
                return
        search = TrackSearch(models.catalog)
        with self._lock:
            self._loaded = Loaded(models, search, models.catalog)
            self._stale_since = None
        log.info("serving %s", models.versions())

    def _refresh_search(self) -> None:
        """Rebuild a search index left stale by catalog updates (on this thread, not the
        event loop's), at most every `SEARCH_REBUILD_S`."""
        since, loaded = self._stale_since, self._loaded
        if since is None or loaded is None or time.monotonic() - since < SEARCH_REBUILD_S:
            return
        catalog = loaded.models.catalog
        search = TrackSearch(catalog)
        with self._lock:
            current = self._loaded
            assert current is not None
            self._loaded = Loaded(current.models, search, catalog)
            fresh = current.models.catalog is catalog
            self._stale_since = None if fresh else time.monotonic()

    def _run(self) -> None:
        if self._loaded is None:
            try:
                self.load_now()
            except BaseException as exc:  # reported by /readyz and every model endpoint
                log.exception("loading the models failed")
                self.error = exc
                if self._on_error is not None:
                    self._on_error(exc)
                return
        while not self._stop.wait(self._reload_every_s):
            self._refresh_search()
            if self._reload is None:
                continue
            try:
                new = self._reload(self.current().models)
            except Exception:
                log.exception("reload failed; keeping %s", self.current().models.versions())
                continue
            if new is not None and self.on_reloaded is not None:
                self.on_reloaded(new)
            elif new is not None:
                self.swap(new)
