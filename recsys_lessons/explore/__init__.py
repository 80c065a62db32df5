"""Exploration and off-policy evaluation (lesson 09, ``notebooks/09_exploration.ipynb``).

| module | what it holds |
| --- | --- |
| :mod:`~recsys_lessons.explore.slates` | the policy protocol, epsilon-greedy slates with exact propensities |
| :mod:`~recsys_lessons.explore.bandits` | :class:`EpsilonGreedy`, :class:`UCB1`, :class:`ThompsonSampling` over items; a toy bandit |
| :mod:`~recsys_lessons.explore.contextual` | :class:`LinUCB`; :class:`ExploringPolicy` around any policy or course model |
| :mod:`~recsys_lessons.explore.offpolicy` | replay, IPS, SNIPS, direct method, doubly robust; bootstrap intervals |

Every policy answers ``recommend(users, k)`` with ``(items, propensities)`` and learns in
``update(log, day)``, the protocol of lesson 08's ``OnlineEnvironment``.
"""

from recsys_lessons.explore.bandits import UCB1, EpsilonGreedy, ThompsonSampling, simulate_bandit
from recsys_lessons.explore.contextual import ExploringPolicy, LinUCB
from recsys_lessons.explore.offpolicy import (
    bootstrap_interval,
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
    "bootstrap_interval",
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
