"""Offline work that fits models: the autoencoder and the label-trained `supervised` network
(torch), synthetic catalogs. Serving never imports this package.

`train_model(name, catalog)` fits any model of `recommender.registry`; the fitting functions
named there that need torch or scikit-learn live here.
"""

from __future__ import annotations

from typing import Any

from recommender.build import build
from recommender.catalog import Catalog
from recommender.recommender import Recommender
from recommender.registry import MODEL_NAMES, resolve_options

__all__ = ["MODEL_NAMES", "resolve_options", "train_model"]


def train_model(
    name: str,
    catalog: Catalog,
    *,
    options: dict[str, Any] | None = None,
    progress: bool = False,
) -> Recommender:
    """Fit `name` on the catalog (plain KNN is only built), cluster it, give it a new version."""
    return build(name, catalog, options, progress=progress)
