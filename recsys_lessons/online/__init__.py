"""Lesson 09: serving simulated users, A/B tests, interleaving and shadow mode.

| module | job |
| --- | --- |
| :mod:`~recsys_lessons.online.policy` | the policy protocol: :class:`Policy` (hooks ``begin_day``, ``update``), its answer :class:`Slate`, :class:`DayContext` |
| :mod:`~recsys_lessons.online.policies` | baseline policies; the adapters from a model, a function or a ranker to a policy; :class:`PolicyWrapper`, :func:`as_policy` |
| :mod:`~recsys_lessons.online.environment` | the online environment (simulated days, slates, clicks, watch time) |
| :mod:`~recsys_lessons.online.shadow` | shadow mode: a candidate policy runs on live requests, unseen |
| :mod:`~recsys_lessons.online.experiment` | A/B tests (Welch), sample size, CUPED, team-draft interleaving |
"""

from recsys_lessons.online.environment import LOG_COLUMNS, WEEKEND_PEAK, OnlineEnvironment
from recsys_lessons.online.experiment import (
    ABTestResult,
    InterleavingPolicy,
    ab_pick_rate,
    ab_test,
    cuped,
    interleaving_pick_rate,
    interleaving_preference,
    sample_size,
    team_draft_interleave,
    users_to_pick_winner,
)
from recsys_lessons.online.policies import (
    FunctionPolicy,
    ModelPolicy,
    PolicyWrapper,
    PopularityPolicy,
    RandomPolicy,
    RankingPolicy,
    as_policy,
)
from recsys_lessons.online.policy import DayContext, Policy, Slate, day_rows
from recsys_lessons.online.shadow import ShadowPolicy

__all__ = [
    "ABTestResult",
    "DayContext",
    "FunctionPolicy",
    "InterleavingPolicy",
    "LOG_COLUMNS",
    "ModelPolicy",
    "OnlineEnvironment",
    "Policy",
    "PolicyWrapper",
    "PopularityPolicy",
    "RandomPolicy",
    "RankingPolicy",
    "ShadowPolicy",
    "Slate",
    "WEEKEND_PEAK",
    "ab_pick_rate",
    "ab_test",
    "as_policy",
    "cuped",
    "day_rows",
    "interleaving_pick_rate",
    "interleaving_preference",
    "sample_size",
    "team_draft_interleave",
    "users_to_pick_winner",
]
