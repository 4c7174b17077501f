"""Load the configured models, and swap in new versions between batches.

New versions are looked for every `reload_interval_s` (or at once on SIGHUP) and loaded on a
background thread, so the loop keeps serving the old set until the new one is complete.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from consumer.serving import ModelSet
from consumer.settings import Settings
from recommender.artifacts import latest_version, load_or_train
from recommender.catalog import BUNDLED_CATALOG, Catalog
from recommender.errors import ArtifactMismatch, ArtifactNotFound, MissingColumn, ModelError
from recommender.ingest.headers import label_columns
from recommender.recommender import Recommender
from recommender.registry import MODEL_NAMES, spec
from recommender.search import HnswIndex, load_index
from recommender.snapshot import CATALOG_CACHE, load_catalog_cached

log = logging.getLogger(__name__)


class ModelLoader:
    """`catalog`: the catalog to serve, if already loaded (tests); else `settings.catalog`.
    `clock` times the checks for new versions (tests pass a fake one)."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._catalog = catalog
        self._clock = clock
        self._reload_requested = False
        self._next_check = clock() + settings.reload_interval_s
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encore-reload")
        self._pending: Future[ModelSet] | None = None

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            path = self.settings.catalog or BUNDLED_CATALOG
            cache = self.settings.artifacts / CATALOG_CACHE
            self._catalog = load_catalog_cached(
                path, cache, tuple(self.settings.features), tuple(self.settings.label_column)
            )
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
                not spec(name).builds_in_place
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
        s = self.settings
        loader = None if s.index == "exact" else load_index
        try:
            if s.train_missing and not spec(name).builds_in_place:
                log.info("loading %s, training it if no artifact under %s fits", name, s.artifacts)
            model = load_or_train(
                [name],
                s.artifacts,
                self.catalog,
                s.train_missing,
                build_in_place=True,
                index_loader=loader,
                options={name: self._training_options(name)},
            )[name]
        except ArtifactNotFound:
            raise self._missing(name) from None
        except MissingColumn as exc:
            if not spec(name).needs_labels:
                raise
            raise self._no_labels(name) from exc
        except ArtifactMismatch as exc:
            raise ModelError(f"{exc} (or start with --train-missing)") from exc
        # A graph saved with the artifact is used as is; otherwise search as configured.
        if s.index == "exact" or not isinstance(model.index, HnswIndex):
            model = model.with_search(s.index)
        return model

    def _training_options(self, name: str) -> dict[str, object]:
        """What `--train-missing` trains `name` with: `--label-column` for a label model."""
        columns = self.settings.label_column
        if not columns or not spec(name).needs_labels:
            return {}
        return {"label_column": columns[0], "extra_label_columns": tuple(columns[1:])}

    def _no_labels(self, name: str) -> ModelError:
        columns = self.settings.label_column or [str(spec(name).defaults["label_column"])]
        have = self.catalog.extra.columns
        missing = ", ".join(repr(c) for c in columns if c not in have)
        hinted = label_columns(have, {})
        if hinted:
            choices = f"its label columns: {', '.join(hinted)}"
        else:
            choices = f"its other columns: {', '.join(map(str, have)) or 'none'}"
        given = "" if self.settings.label_column else " (no --label-column given)"
        return ModelError(
            f"cannot train {name!r} (no artifact under {self.settings.artifacts} fits this "
            f"catalog): the catalog has no label column {missing}{given}; start with "
            f"--label-column COLUMN ({choices})"
        )

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
        now = self._clock()
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
