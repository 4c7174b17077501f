"""The models a running service serves, by name, each with its output encoder."""

from __future__ import annotations

from dataclasses import dataclass

from consumer.answer_cache import AnswerCache
from consumer.encode import RecommendationEncoder
from recommender.catalog import Catalog
from recommender.ingest.imputation import SeedImputer
from recommender.live import AppliedUpdate
from recommender.recommender import Recommender


@dataclass(frozen=True)
class Served:
    recommender: Recommender
    encoder: RecommendationEncoder
    cache: AnswerCache | None = None


class ModelSet:
    """Immutable: a reload or a catalog update builds a new set, swapped in between batches."""

    def __init__(
        self,
        catalog: Catalog,
        recommenders: list[Recommender],
        answer_cache: int = 0,
        imputer: SeedImputer | None = None,
    ) -> None:
        if not recommenders:
            raise ValueError("at least one model is required")
        self.catalog = catalog
        self.answer_cache = answer_cache
        # Feature seeds lacking an extra the models use get the catalog's median for it; a
        # living catalog keeps the medians of the catalog it started from (no O(n) per update).
        self.imputer = imputer or SeedImputer.from_catalog(catalog)
        self.default = recommenders[0].name
        self._served = {
            r.name: Served(
                r,
                RecommendationEncoder(catalog, r.name, r.version, r.clusters),
                AnswerCache(answer_cache) if answer_cache > 0 else None,
            )
            for r in recommenders
        }

    def updated(self, applied: AppliedUpdate) -> ModelSet:
        """The set on `applied.catalog`: every answer cache starts empty (any cached answer
        may now lack a new neighbour or hold a removed or renamed song); the encoders keep
        the fragments of the rows that did not change when the catalog only grew."""
        catalog = applied.catalog
        grown = _grew(self.catalog, catalog)
        new = ModelSet.__new__(ModelSet)
        new.catalog, new.answer_cache, new.imputer = catalog, self.answer_cache, self.imputer
        new.default = self.default
        new._served = {}
        for name, served in self._served.items():
            r = applied.models[name]
            encoder = (
                served.encoder.grown(catalog, r.name, r.version, r.clusters)
                if grown
                else RecommendationEncoder(catalog, r.name, r.version, r.clusters)
            )
            cache = AnswerCache(self.answer_cache) if self.answer_cache > 0 else None
            new._served[name] = Served(r, encoder, cache)
        return new

    @property
    def track_count(self) -> int:
        """Tracks in the catalog (a living catalog keeps rows of removed tracks)."""
        return len(self.catalog.index)

    def get(self, name: str | None) -> Served | None:
        return self._served.get(name or self.default)

    def recommenders(self) -> dict[str, Recommender]:
        return {name: s.recommender for name, s in self._served.items()}

    def all(self) -> list[Served]:
        return list(self._served.values())

    def versions(self) -> dict[str, str]:
        return {name: s.recommender.version for name, s in self._served.items()}


def _grew(old: Catalog, new: Catalog) -> bool:
    """Whether `new` is `old` with rows appended, so a row means the same track in both (a
    living catalog's rows only grow: a changed track gets a new row)."""
    generation = getattr(new, "generation", 0)
    return bool(generation) and generation > getattr(old, "generation", 0) and len(new) >= len(old)
