"""Lesson 01: how a recommender is judged offline, and how sure we are.

| module | job |
| --- | --- |
| :mod:`~recsys_lessons.evaluation.split` | random, stratified, temporal and leave-last-out splits; cold-item and cold-user splits (05) |
| :mod:`~recsys_lessons.evaluation.harness` | fit several models on one split and compare them in one table |
| :mod:`~recsys_lessons.evaluation.cold` | cold-start evaluation (05): new-titles shelves, new users, the warm-up curve; score ties ranked in a seeded random order |
| :mod:`~recsys_lessons.evaluation.stats` | every interval of the course: bootstrap, paired and unpaired bootstrap, any estimator (off-policy, 09), over split seeds; equivalence margins and detectable differences (11, 12) |
"""

from recsys_lessons.evaluation.cold import (
    COLD_START_METRICS,
    evaluate_cold_items,
    evaluate_cold_users,
    random_tie_order,
    warm_up_curve,
)
from recsys_lessons.evaluation.harness import (
    ACCURACY_METRICS,
    CATALOGUE_METRICS,
    DEFAULT_METRICS,
    evaluate,
)
from recsys_lessons.evaluation.split import (
    cold_item_split,
    cold_user_split,
    leave_last_out,
    random_split,
    stratified_split,
    temporal_split,
)
from recsys_lessons.evaluation.stats import (
    Equivalence,
    Interval,
    bootstrap_interval,
    detectable_difference,
    equivalence_test,
    equivalence_verdict,
    estimator_interval,
    paired_bootstrap_interval,
    seed_interval,
    unpaired_bootstrap_interval,
)

__all__ = [
    "ACCURACY_METRICS",
    "CATALOGUE_METRICS",
    "COLD_START_METRICS",
    "DEFAULT_METRICS",
    "Equivalence",
    "Interval",
    "bootstrap_interval",
    "cold_item_split",
    "cold_user_split",
    "detectable_difference",
    "equivalence_test",
    "equivalence_verdict",
    "estimator_interval",
    "evaluate",
    "evaluate_cold_items",
    "evaluate_cold_users",
    "leave_last_out",
    "paired_bootstrap_interval",
    "random_split",
    "random_tie_order",
    "seed_interval",
    "stratified_split",
    "temporal_split",
    "unpaired_bootstrap_interval",
    "warm_up_curve",
]
