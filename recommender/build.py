"""`build(name, catalog)`: the one way any model is fitted, from its spec in the registry.

Standardise, fit the embedding (`ModelSpec.fit`), encode the catalog once (a model trained
on labels places each labelled song by its own labels: `recommender.embeddings.place`),
cluster the encoded catalog (numpy k-means, `recommender.clusters`). Only the fitting
function of a model that learns imports training code, so the service can build `knn` in
place with this too.
"""

from __future__ import annotations

from typing import Any

from recommender.catalog import Catalog
from recommender.clusters import fit_clusters
from recommender.embeddings import place
from recommender.recommender import Recommender
from recommender.registry import metric_of, resolve_options, spec
from recommender.scaling import Standardizer

__all__ = ["build", "in_place_version"]


def build(
    name: str,
    catalog: Catalog,
    options: dict[str, Any] | None = None,
    *,
    version: str | None = None,
    progress: bool = False,
) -> Recommender:
    """Fit `name` on the catalog; a new version (a timestamp) unless `version` is given."""
    opts = resolve_options(name, options)
    scaler = Standardizer.fit(catalog.features)
    scaled = scaler.transform(catalog.features)
    embedding, curve = spec(name).fitter()(scaled, catalog, opts, progress)
    catalog_embedding = place(embedding, scaled, catalog.extra, catalog.artists)
    clusters = None
    if opts["clusters"]:
        clusters = fit_clusters(catalog_embedding, opts["clusters"], seed=opts["seed"])
    return Recommender(
        name,
        catalog,
        scaler,
        embedding,
        metric_of(name, opts),
        version,
        catalog_embedding,
        clusters=clusters,
        options=opts,
        training_curve=curve,
    )


def in_place_version(name: str, catalog: Catalog) -> str:
    """The version of a model built in place: the same on every instance for one catalog."""
    return f"{name}-{catalog.fingerprint[:12]}"
