"""Offline evaluation: a fixed protocol, metrics as numpy functions, a report per run.

`protocol` (split, queries, hits), `metrics` (pure functions), `runner` (one model),
`training` (which models, trained how), `report` and `plots` (the output files).
"""

from recommender.evaluation.protocol import EvaluationPlan
from recommender.evaluation.runner import EvaluationData, evaluate, prepare

__all__ = ["EvaluationData", "EvaluationPlan", "evaluate", "prepare"]
