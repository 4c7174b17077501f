"""What the API serves from: the loaded model set, loaded in the background, hot-reloaded
like the service's, and what is derived from it once (the search index)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from consumer.serving import ModelSet
from web.catalog_search import TrackSearch
from web.problems import ProblemError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    """One model set and the search index of its catalog (reused while the catalog is)."""

    models: ModelSet
    search: TrackSearch


class ModelState:
    """`current()` is the set being served; a reload swaps in a whole new one atomically."""

    def __init__(
        self,
        load: Callable[[], ModelSet],
        reload: Callable[[ModelSet], ModelSet | None] | None = None,
        reload_every_s: float = 1.0,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
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
        self._swap(self._load())

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _swap(self, models: ModelSet) -> None:
        previous = self._loaded
        search = (
            previous.search
            if previous is not None and previous.models.catalog is models.catalog
            else TrackSearch(models.catalog)
        )
        self._loaded = Loaded(models, search)
        log.info("serving %s", models.versions())

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
        while self._reload is not None and not self._stop.wait(self._reload_every_s):
            try:
                new = self._reload(self.current().models)
            except Exception:
                log.exception("reload failed; keeping %s", self.current().models.versions())
                continue
            if new is not None:
                self._swap(new)
