"""Feature seeds made complete: a song outside the catalog may lack the catalog's extras.

A model trained with extras (year, popularity, key, ...) embeds a full feature vector, but a
listener's app may only know the nine audio features. `SeedImputer.complete` turns the values
a seed gives into a vector in the catalog's feature order: a derived feature is computed from
its source when only that is given (`key` -> `key_sin`, `key_cos`), a missing extra takes the
catalog's median, and the answer says which were filled in (by the names a sender would use).
The nine audio features are never guessed: a seed missing one is a problem, not imputed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from recommender.catalog import Catalog
from recommender.features import AUDIO_FEATURES, DERIVED_FROM, feature_problems, source_role
from recommender.ingest.encoding import derived_feature

__all__ = ["CompletedSeed", "SeedImputer"]


@dataclass(frozen=True)
class CompletedSeed:
    """A seed's feature vector (None when it has problems), the extras filled in, problems."""

    vector: np.ndarray | None  # (d,) float32 in the catalog's feature order
    imputed: tuple[str, ...] = ()  # wire names: `key` for key_sin/key_cos, `duration_ms`, ...
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedImputer:
    """Completes feature seeds for one catalog; build it once per catalog (`from_catalog`)."""

    feature_names: tuple[str, ...]
    medians: np.ndarray  # (d,) float64: each feature's median over the catalog's rows

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> SeedImputer:
        features = np.asarray(catalog.features, dtype=np.float64)
        medians = np.median(features, axis=0) if len(catalog) else np.zeros(features.shape[1])
        return cls(tuple(catalog.feature_names), medians)

    def complete(self, values: Mapping[str, float]) -> CompletedSeed:
        """The seed as a catalog-ordered vector; extras it lacks take the catalog median.

        `values` may name catalog features or the raw sources of derived ones (`key`,
        `duration_ms`); names outside `recommender.features.FEATURE_RANGES` are problems,
        known names the catalog does not use are ignored. Ranges are checked on what was
        given, so a derived value is always finite.
        """
        required = tuple(f for f in self.feature_names if f in AUDIO_FEATURES)
        problems = feature_problems(values, required)
        if problems:
            return CompletedSeed(None, problems=tuple(problems))
        vector = np.empty(len(self.feature_names), dtype=np.float64)
        imputed: dict[str, None] = {}
        for j, name in enumerate(self.feature_names):
            if name in values:
                vector[j] = values[name]
            elif name in DERIVED_FROM and source_role(name) in values:
                vector[j] = derived_feature(name, np.array([values[source_role(name)]]))[0]
            else:
                vector[j] = self.medians[j]
                imputed[source_role(name)] = None
        return CompletedSeed(vector.astype(np.float32), tuple(imputed))
