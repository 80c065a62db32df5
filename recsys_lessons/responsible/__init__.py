"""Lesson 11: auditing and mitigating what a recommender does to people and items.

| module | job |
| --- | --- |
| :mod:`~recsys_lessons.responsible.audit` | popularity bias, group gaps with intervals, exposure, calibration, ``audit_report`` |
| :mod:`~recsys_lessons.responsible.mitigate` | calibrated (Steck) and xQuAD re-ranking, inverse-popularity training weights |
| :mod:`~recsys_lessons.responsible.feedback` | feedback-loop policies, per-day loop metrics and their first and last days |
| :mod:`~recsys_lessons.responsible.privacy` | Laplace-noised popularity counts with bounded contributions |
| :mod:`~recsys_lessons.responsible.explain` | "because you watched" explanations and their fidelity |
"""

from recsys_lessons.responsible.audit import (
    MAINSTREAM_GROUPS,
    audit_report,
    average_percentage_long_tail,
    calibration_kl,
    exposure_by_group,
    genre_distribution,
    group_gap,
    head_items,
    homogenization,
    long_tail_exposure,
    mainstream_groups,
    plot_report,
    popularity_lift,
    popularity_miscalibration,
    position_attention,
)
from recsys_lessons.responsible.explain import because_you_watched, explanation_fidelity
from recsys_lessons.responsible.feedback import CalibratedPolicy, first_and_last_days, loop_metrics
from recsys_lessons.responsible.mitigate import (
    calibrated_rerank,
    group_preference,
    inverse_popularity_weights,
    xquad_rerank,
)
from recsys_lessons.responsible.privacy import bound_contributions, private_item_counts

__all__ = [
    "CalibratedPolicy",
    "MAINSTREAM_GROUPS",
    "audit_report",
    "average_percentage_long_tail",
    "because_you_watched",
    "bound_contributions",
    "calibrated_rerank",
    "calibration_kl",
    "explanation_fidelity",
    "first_and_last_days",
    "exposure_by_group",
    "genre_distribution",
    "group_gap",
    "group_preference",
    "head_items",
    "homogenization",
    "inverse_popularity_weights",
    "long_tail_exposure",
    "loop_metrics",
    "mainstream_groups",
    "plot_report",
    "popularity_lift",
    "popularity_miscalibration",
    "position_attention",
    "private_item_counts",
    "xquad_rerank",
]
