"""Catalog ingestion: real Spotify exports in (any known header set), a clean `Catalog` out.

`headers` maps headers to roles, `encoding` parses values, `cleaning` drops and merges rows,
`loader` ties them together and reports what it did; `imputation` completes feature seeds
that lack a catalog's extras.
"""

from recommender.errors import HeaderError
from recommender.ingest.cleaning import LABEL_SEPARATOR, first_label, split_labels
from recommender.ingest.headers import HeaderMatch
from recommender.ingest.imputation import CompletedSeed, SeedImputer
from recommender.ingest.loader import CleaningReport, LoadResult, load_catalog, read_catalog

__all__ = [
    "LABEL_SEPARATOR",
    "CleaningReport",
    "CompletedSeed",
    "HeaderError",
    "HeaderMatch",
    "LoadResult",
    "SeedImputer",
    "first_label",
    "load_catalog",
    "read_catalog",
    "split_labels",
]
