"""Content-based song recommenders: pure numpy/torch, features in, ranked catalog rows out.

Nothing in this package touches Kafka; the service in `consumer/` calls into it.
"""

from recommender.catalog import Catalog
from recommender.features import AUDIO_FEATURES
from recommender.recommender import Neighbours, Recommender, knn

__all__ = ["AUDIO_FEATURES", "Catalog", "Neighbours", "Recommender", "knn"]
