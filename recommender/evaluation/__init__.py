"""Offline evaluation: a fixed protocol, metrics as numpy functions, a report per run.

`protocol` (split, queries, hits), `metrics` (pure functions), `runner` (one model),
`builders` (which models, trained how), `report` and `plots` (the output files);
`sessions`: playlists as listening sessions, seed_mode track against session.
"""

from recommender.evaluation.protocol import EvaluationPlan
from recommender.evaluation.runner import EvaluationData, evaluate, prepare

__all__ = ["EvaluationData", "EvaluationPlan", "evaluate", "prepare"]
