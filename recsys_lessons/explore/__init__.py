"""Exploration and off-policy evaluation (lesson 10, ``notebooks/10_exploration.ipynb``).

| module | what it holds |
| --- | --- |
| :mod:`~recsys_lessons.explore.slates` | :class:`SlatePolicy` (base of the bandits), epsilon-greedy slates with exact propensities |
| :mod:`~recsys_lessons.explore.bandits` | :class:`EpsilonGreedy`, :class:`UCB1`, :class:`ThompsonSampling` over items; a toy bandit |
| :mod:`~recsys_lessons.explore.contextual` | :class:`LinUCB`; :class:`ExploringPolicy` around any policy or course model |
| :mod:`~recsys_lessons.explore.offpolicy` | replay, IPS, SNIPS, direct method, doubly robust (intervals: ``evaluation.stats.estimator_interval``) |

Every policy follows lesson 09's protocol (:mod:`recsys_lessons.online.policy`): it answers
``recommend(users, k)`` with a ``Slate(items, propensities)`` and learns in
``update(log, day)``.
"""

from recsys_lessons.explore.bandits import UCB1, EpsilonGreedy, ThompsonSampling, simulate_bandit
from recsys_lessons.explore.contextual import ExploringPolicy, LinUCB
from recsys_lessons.explore.offpolicy import (
    direct_method_estimate,
    doubly_robust_estimate,
    importance_weights,
    ips_estimate,
    replay_estimate,
    snips_estimate,
)
from recsys_lessons.explore.slates import (
    SlatePolicy,
    epsilon_slates,
    first_unblocked,
    first_unblocked_cross,
)

__all__ = [
    "UCB1",
    "EpsilonGreedy",
    "ExploringPolicy",
    "LinUCB",
    "SlatePolicy",
    "ThompsonSampling",
    "direct_method_estimate",
    "doubly_robust_estimate",
    "epsilon_slates",
    "first_unblocked",
    "first_unblocked_cross",
    "importance_weights",
    "ips_estimate",
    "replay_estimate",
    "simulate_bandit",
    "snips_estimate",
]
