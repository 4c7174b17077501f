"""Catalog ingestion: real Spotify exports in (any known header set), a clean `Catalog` out.

`schemas` maps headers to roles, `encoding` parses values, `cleaning` drops and merges rows,
`loader` ties them together and reports what it did.
"""

from recommender.ingest.cleaning import LABEL_SEPARATOR, first_label, split_labels
from recommender.ingest.loader import CleaningReport, LoadResult, load_catalog
from recommender.ingest.schemas import SchemaError, SchemaMatch

__all__ = [
    "LABEL_SEPARATOR",
    "CleaningReport",
    "LoadResult",
    "SchemaError",
    "SchemaMatch",
    "first_label",
    "load_catalog",
    "split_labels",
]
