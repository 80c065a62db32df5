"""Hybrid ranking: the pipeline of lesson 06, one small module per idea.

| module | idea |
| --- | --- |
| :mod:`~recsys_lessons.hybrid.candidates` | union of several retrievers' top-N, candidate recall |
| :mod:`~recsys_lessons.hybrid.normalize` | per-user z-score / rank / min-max score normalization |
| :mod:`~recsys_lessons.hybrid.blend` | weighted linear blend, weights tuned on validation |
| :mod:`~recsys_lessons.hybrid.features` | the (user, candidate) feature table |
| :mod:`~recsys_lessons.hybrid.ranker` | learned ranker: LightGBM lambdarank or pointwise boosting |
| :mod:`~recsys_lessons.hybrid.folds` | several validation re-splits of train, to tune on more labels |
| :mod:`~recsys_lessons.hybrid.stacking` | stacking candidates: every model's z-score and rank per candidate |
| :mod:`~recsys_lessons.hybrid.freshness` | time-decay boosts for new releases and trending items |
| :mod:`~recsys_lessons.hybrid.rerank` | MMR diversity and business rules |
| :mod:`~recsys_lessons.hybrid.serving` | batch top-N table vs real-time fold-in + ANN |

Taught in ``notebooks/06_hybrid_ranking.ipynb``.
"""

from recsys_lessons.hybrid.blend import (
    LinearBlend,
    normalized_unseen_scores,
    tune_weights,
    weight_grid,
)
from recsys_lessons.hybrid.candidates import (
    IndexRetriever,
    candidate_recall,
    generate_candidates,
    rank_candidates,
)
from recsys_lessons.hybrid.features import (
    candidate_features,
    feature_columns,
    genre_matrix,
    recent_matrix,
)
from recsys_lessons.hybrid.folds import validation_folds
from recsys_lessons.hybrid.freshness import days_before, decay, freshness_boost, trending_scores
from recsys_lessons.hybrid.normalize import normalize_scores
from recsys_lessons.hybrid.ranker import LearnedRanker, label_candidates
from recsys_lessons.hybrid.rerank import apply_business_rules, mmr_rerank
from recsys_lessons.hybrid.serving import BatchTable, RealTimeRecommender, latency_ms
from recsys_lessons.hybrid.stacking import stacking_candidates

__all__ = [
    "BatchTable",
    "IndexRetriever",
    "LearnedRanker",
    "LinearBlend",
    "RealTimeRecommender",
    "apply_business_rules",
    "candidate_features",
    "candidate_recall",
    "days_before",
    "decay",
    "feature_columns",
    "freshness_boost",
    "generate_candidates",
    "genre_matrix",
    "label_candidates",
    "latency_ms",
    "mmr_rerank",
    "normalize_scores",
    "normalized_unseen_scores",
    "rank_candidates",
    "recent_matrix",
    "stacking_candidates",
    "trending_scores",
    "tune_weights",
    "validation_folds",
    "weight_grid",
]
