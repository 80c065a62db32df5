"""Lesson 08: serving simulated users, A/B tests, interleaving and shadow mode.

| module | job |
| --- | --- |
| :mod:`~recsys_lessons.online.environment` | the online environment (simulated days, slates, clicks, watch time) and its policies |
| :mod:`~recsys_lessons.online.experiment` | A/B tests (Welch), sample size, CUPED, team-draft interleaving |
"""

from recsys_lessons.online.environment import (
    LOG_COLUMNS,
    WEEKEND_PEAK,
    DayContext,
    ModelPolicy,
    OnlineEnvironment,
    PopularityPolicy,
    RandomPolicy,
    ShadowPolicy,
    as_policy,
    call_policy,
)
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

__all__ = [
    "ABTestResult",
    "DayContext",
    "InterleavingPolicy",
    "LOG_COLUMNS",
    "ModelPolicy",
    "OnlineEnvironment",
    "PopularityPolicy",
    "RandomPolicy",
    "ShadowPolicy",
    "WEEKEND_PEAK",
    "ab_pick_rate",
    "ab_test",
    "as_policy",
    "call_policy",
    "cuped",
    "interleaving_pick_rate",
    "interleaving_preference",
    "sample_size",
    "team_draft_interleave",
    "users_to_pick_winner",
]
