"""The models a running service serves, by name, each with its output encoder."""

from __future__ import annotations

from dataclasses import dataclass

from consumer.answer_cache import AnswerCache
from consumer.encode import RecommendationEncoder
from recommender.catalog import Catalog
from recommender.ingest.imputation import SeedImputer
from recommender.recommender import Recommender


@dataclass(frozen=True)
class Served:
    recommender: Recommender
    encoder: RecommendationEncoder
    cache: AnswerCache | None = None


class ModelSet:
    """Immutable: a reload builds a new set and swaps it in between batches."""

    def __init__(
        self, catalog: Catalog, recommenders: list[Recommender], answer_cache: int = 0
    ) -> None:
        if not recommenders:
            raise ValueError("at least one model is required")
        self.catalog = catalog
        # Feature seeds lacking an extra the models use get the catalog's median for it.
        self.imputer = SeedImputer.from_catalog(catalog)
        self.default = recommenders[0].name
        self._served = {
            r.name: Served(
                r,
                RecommendationEncoder(catalog, r.name, r.version, r.clusters),
                AnswerCache(answer_cache) if answer_cache > 0 else None,
            )
            for r in recommenders
        }

    def get(self, name: str | None) -> Served | None:
        return self._served.get(name or self.default)

    def all(self) -> list[Served]:
        return list(self._served.values())

    def versions(self) -> dict[str, str]:
        return {name: s.recommender.version for name, s in self._served.items()}
