"""Multi-armed bandits whose arms are items: epsilon-greedy, UCB1 and Thompson sampling.

Each policy keeps, per item, how often it was shown (``impressions_``) and the reward it
earned (``rewards_``, clicks by default), and fills the ``k`` slots of a slate with the
items it ranks highest; the three differ in how they rank:

- :class:`EpsilonGreedy`: by the observed mean ``rewards_ / impressions_``, each slot swapped
  for a random item with probability ``epsilon``.
- :class:`UCB1` (Auer, Cesa-Bianchi, Fischer 2002): by the optimistic bound
  ``mean_i + c * sqrt(2 ln t / n_i)`` (``t`` impressions in all, ``n_i`` of item ``i``;
  never-shown items first).
- :class:`ThompsonSampling` (Thompson 1933; Chapelle & Li, NIPS 2011): by a draw from each
  item's Beta posterior of its click rate, one draw per user.

**Position-aware counting.** In a slate, a title at position 10 is rarely even looked at, so
a non-click there says little about the title. Given the ``examination`` probability of each
position (the position-based click model, ``P(click) = P(examine position) * P(attracted)``;
in a real service estimated from a randomized experiment, Joachims et al., WSDM 2017), an
impression at position ``j`` counts as ``examination[j - 1]`` of a *look*, and the policies
estimate the click rate per look, the title's attraction (PBM bandits: Lagree, Vernade and
Cappe, "Multiple-play bandits in the position-based model", NIPS 2016).

**Prior.** ``prior=(a, b)`` credits every item with ``a`` clicks and ``b`` non-clicks before
any data, so the estimate is ``(a + clicks) / (a + b + looks)``: an unseen title is assumed
average-ish instead of worthless (Thompson sampling needs a prior; for the greedy estimate it
is optional).

They are not personalised (every user faces the same arms); see
:mod:`recsys_lessons.explore.contextual` for LinUCB and exploration around a course model.
:func:`simulate_bandit` plays one on a toy Bernoulli bandit and returns its regret.
Lesson 10, ``notebooks/10_exploration.ipynb``, sections 2 and 3.
"""

from __future__ import annotations

import numpy as np

from recsys_lessons.explore.slates import (
    SlatePolicy,
    epsilon_slates,
    first_unblocked,
    first_unblocked_cross,
)
from recsys_lessons.online.policy import Slate
from recsys_lessons.validation import (
    check_finite_array,
    check_non_negative_int,
    check_number,
    check_positive_int,
    check_probability,
    check_rng,
    is_number,
)

__all__ = ["UCB1", "EpsilonGreedy", "ThompsonSampling", "simulate_bandit"]


class _ItemArms(SlatePolicy):
    """Per-item impression and reward counts, and a global ranking with random tie-breaks.

    ``prior`` and ``examination`` are described in the module docstring.
    """

    def __init__(
        self,
        n_items,
        reward="clicked",
        seed=0,
        exclude_seen=True,
        prior=(0.0, 0.0),
        examination=None,
    ):
        super().__init__(n_items, reward, seed, exclude_seen)
        self.prior = _check_prior(prior, positive=False)
        self.examination = _check_examination(examination)
        self.impressions_ = np.zeros(self.n_items)
        self.rewards_ = np.zeros(self.n_items)
        # Ties (e.g. every never-shown item) are broken by a fixed random order of the items.
        self._priority = self._rng.permutation(self.n_items)

    def learn(self, users, items, positions, rewards) -> None:
        """Add one impression and its reward per entry (all arrays of equal length).

        With ``examination``, the impression at position ``j`` (1-based) adds
        ``examination[j - 1]`` looks instead of one impression.

        Raises
        ------
        ValueError
            When ``items`` are not integer indices inside the catalogue, ``rewards`` hold
            NaN, infinite values or text, or the shapes differ.
        """
        items = np.asarray(items)
        rewards = check_finite_array(rewards, "rewards", meaning="one reward per impression")
        if items.size and not np.issubdtype(items.dtype, np.integer):
            raise ValueError(
                f"items must be integer item indices; got dtype {items.dtype}. Map raw ids "
                "to indices first."
            )
        if items.shape != rewards.shape:
            raise ValueError(
                f"items and rewards must have the same shape; got {items.shape} and {rewards.shape}."
            )
        if items.size and (items.min() < 0 or items.max() >= self.n_items):
            raise ValueError(f"item indices must lie in 0..{self.n_items - 1}.")
        looks = None
        if self.examination is not None:
            positions = np.asarray(positions)
            if positions.shape != items.shape or (
                positions.size and (positions.min() < 1 or positions.max() > len(self.examination))
            ):
                raise ValueError(
                    f"positions must be 1-based and at most {len(self.examination)} (the length "
                    f"of examination), one per item; got shape {positions.shape}. Pass "
                    "examination for every position the slates have (world.examination_probability(k))."
                )
            looks = self.examination[positions - 1]
        self.impressions_ += np.bincount(items, weights=looks, minlength=self.n_items)
        self.rewards_ += np.bincount(items, weights=rewards, minlength=self.n_items)

    @property
    def mean_reward_(self) -> np.ndarray:
        """Estimated reward per impression (per look with ``examination``) of each item:
        ``(a + rewards) / (a + b + impressions)`` with ``prior = (a, b)``; with no prior, the
        observed mean and 0 for items never shown."""
        a, b = self.prior
        return np.divide(
            a + self.rewards_,
            a + b + self.impressions_,
            out=np.zeros(self.n_items),
            where=(a + b + self.impressions_) > 0,
        )

    def _ranking(self, scores: np.ndarray) -> np.ndarray:
        """Items by decreasing score, ties in the policy's fixed random order."""
        return np.lexsort((self._priority, -scores))


class EpsilonGreedy(_ItemArms):
    """Show the items with the best observed mean reward; explore a share ``epsilon`` of slots.

    Every slot independently keeps the greedy item (probability ``1 - epsilon``) or shows an
    item drawn uniformly from the items outside the greedy slate (propensity
    ``epsilon / (n_items - k)``), see :func:`~recsys_lessons.explore.slates.epsilon_slates`.
    ``epsilon = 0`` is pure exploitation: with no prior it sticks to the first items that
    earned a click; with a prior it tries unseen items only while their prior mean beats what
    it has seen. ``last_explored_`` records which slots of the last call explored.

    Parameters
    ----------
    n_items : int
    epsilon : float in [0, 1]
    reward : str
    seed : int
    exclude_seen : bool
    prior : tuple of float
        Pseudo-counts ``(a, b)`` of clicks and non-clicks (default none).
    examination : array-like of float, optional
        Examination probability of each position (count looks, not impressions).
    """

    def __init__(
        self,
        n_items,
        epsilon=0.1,
        reward="clicked",
        seed=0,
        exclude_seen=True,
        prior=(0.0, 0.0),
        examination=None,
    ):
        epsilon = check_probability(epsilon, "epsilon", meaning="a share of slots")
        super().__init__(n_items, reward, seed, exclude_seen, prior, examination)
        self.epsilon = epsilon

    def make_slate(self, users, k):
        blocked = self.blocked(users)
        greedy = first_unblocked(self._ranking(self.mean_reward_), blocked, k)
        items, propensities, self.last_explored_ = epsilon_slates(
            self._rng, greedy, ~blocked, self.epsilon
        )
        return Slate(items, propensities)

    def _describe(self):
        return f"n_items={self.n_items}, epsilon={self.epsilon}{_counting(self)}"


class UCB1(_ItemArms):
    """Show the items with the highest upper confidence bound (deterministic: propensity 1).

    ``ucb_i = mean_i + c * sqrt(2 * ln(t) / n_i)`` with ``t`` the impressions of all items
    and ``n_i`` those of item ``i``; items never shown come first. ``c = 1`` is Auer et al.'s
    UCB1 for rewards in [0, 1]; smaller ``c`` explores less.
    """

    def __init__(self, n_items, c=1.0, reward="clicked", seed=0, exclude_seen=True):
        c = check_number(c, "c", low=0)
        super().__init__(n_items, reward, seed, exclude_seen)
        self.c = c

    def upper_bounds(self) -> np.ndarray:
        """``mean_i + c * sqrt(2 ln t / n_i)`` per item, ``+inf`` for items never shown."""
        t = max(self.impressions_.sum(), 1.0)
        shown = self.impressions_ > 0
        bonus = np.divide(
            2.0 * np.log(t), self.impressions_, out=np.zeros(self.n_items), where=shown
        )
        return np.where(shown, self.mean_reward_ + self.c * np.sqrt(bonus), np.inf)

    def make_slate(self, users, k):
        items = first_unblocked(self._ranking(self.upper_bounds()), self.blocked(users), k)
        return Slate(items)  # deterministic: propensity 1

    def _describe(self):
        return f"n_items={self.n_items}, c={self.c}"


class ThompsonSampling(_ItemArms):
    """Beta-Bernoulli Thompson sampling: rank items by a draw from their click-rate posterior.

    With prior ``Beta(a, b)``, ``c_i`` clicks and ``n_i`` impressions (looks, with
    ``examination``), item ``i``'s posterior is ``Beta(a + c_i, b + max(n_i - c_i, 0))``
    (``alpha_``, ``beta_``; with looks, a title can by chance earn more clicks than its expected
    looks, hence the floor). Each user gets an independent
    draw ``theta ~ posterior`` and the ``k`` items of highest ``theta``: an item is shown about
    as often as it is likely to be among the best, so uncertain items get tried and clearly
    bad ones stop being shown.

    The probability that an item lands at a position has no closed form; it is estimated
    from ``n_propensity_draws`` extra posterior draws plus the user's own (so it is never 0
    for a shown item, and at least ``1 / (1 + n_propensity_draws)``):
    ``propensity = #draws placing the item there / #draws``. With ``n_propensity_draws=0``
    it returns the slates alone (no propensities, faster).

    Parameters
    ----------
    n_items : int
    prior : tuple of float
        ``(a, b)`` of the Beta prior, both positive (default: uniform).
    n_propensity_draws : int
        Extra draws used to estimate propensities (0: report none).
    reward : str
        A 0/1 log column (default ``"clicked"``).
    seed : int
    exclude_seen : bool
    examination : array-like of float, optional
        Examination probability of each position (count looks, not impressions).
    """

    def __init__(
        self,
        n_items,
        prior=(1.0, 1.0),
        n_propensity_draws=100,
        reward="clicked",
        seed=0,
        exclude_seen=True,
        examination=None,
    ):
        prior = _check_prior(prior, positive=True)
        n_propensity_draws = check_non_negative_int(
            n_propensity_draws, "n_propensity_draws", "extra draws to estimate propensities"
        )
        super().__init__(n_items, reward, seed, exclude_seen, prior, examination)
        self.n_propensity_draws = n_propensity_draws

    def learn(self, users, items, positions, rewards) -> None:
        rewards = np.asarray(rewards, dtype=np.float64)
        if not np.isin(rewards, (0.0, 1.0)).all():
            raise ValueError(
                "Beta-Bernoulli Thompson sampling needs 0/1 rewards (clicks); got other values. "
                "Use reward='clicked' or EpsilonGreedy/UCB1 for continuous rewards."
            )
        super().learn(users, items, positions, rewards)

    @property
    def alpha_(self) -> np.ndarray:
        """Posterior ``a + clicks`` per item."""
        return self.prior[0] + self.rewards_

    @property
    def beta_(self) -> np.ndarray:
        """Posterior ``b + max(impressions - clicks, 0)`` per item."""
        return self.prior[1] + np.maximum(self.impressions_ - self.rewards_, 0.0)

    def sample(self, n_draws: int) -> np.ndarray:
        """``n_draws`` independent draws of every item's click rate, shape ``(n_draws, n_items)``."""
        return self._rng.beta(self.alpha_, self.beta_, size=(n_draws, self.n_items))

    def make_slate(self, users, k):
        n = len(users)
        blocked = self.blocked(users)
        draws = self.sample(n + self.n_propensity_draws)
        order = _leading_order(draws, k + int(blocked.sum(axis=1).max()))
        items = first_unblocked(order[:n], blocked, k)
        # Propensity: share of draws (the user's own plus the extra ones) that put the item
        # there, each draw ranked with the same user's blocked items removed.
        if not self.n_propensity_draws:
            return Slate(items, propensities=None)
        others = first_unblocked_cross(order[n:], blocked, k)  # (n, draws, k)
        hits = 1.0 + (others == items[:, None, :]).sum(axis=1)
        return Slate(items, hits / (1 + self.n_propensity_draws))

    def _describe(self):
        return f"n_items={self.n_items}, prior={self.prior}{_counting(self)}"


def _counting(policy) -> str:
    """The ``repr`` fragment of the optional prior and examination settings."""
    parts = ""
    if not isinstance(policy, ThompsonSampling) and policy.prior != (0.0, 0.0):
        parts += f", prior={policy.prior}"
    if policy.examination is not None:
        parts += f", examination={np.round(policy.examination, 3).tolist()}"
    return parts


def _check_prior(prior, positive: bool) -> tuple[float, float]:
    """Two finite pseudo-counts ``(a, b)``: non-negative, or positive for a Beta prior."""
    what = (
        "two positive numbers (a, b) of a Beta"
        if positive
        else "two non-negative pseudo-counts (clicks, non-clicks)"
    )
    valid = np.ndim(prior) == 1 and len(prior) == 2
    valid = valid and all(
        is_number(value) and np.isfinite(value) and (value > 0 if positive else value >= 0)
        for value in prior
    )
    if not valid:
        raise ValueError(f"prior must be {what}; got {prior!r}.")
    return float(prior[0]), float(prior[1])


def _check_examination(examination):
    """``None`` or a 1-D float array of probabilities in (0, 1], one per position."""
    if examination is None:
        return None
    values = np.asarray(examination, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or not ((values > 0) & (values <= 1)).all():
        raise ValueError(
            "examination must be a 1-D array of probabilities in (0, 1], one per position "
            "(e.g. world.examination_probability(k)); got "
            f"{np.array2string(values, threshold=6)}."
        )
    return values


def _leading_order(scores: np.ndarray, depth: int) -> np.ndarray:
    """Column indices of each row's ``depth`` largest scores, best first (all when
    ``depth >= n_columns``): enough of the ranking to skip ``depth - k`` blocked items."""
    if depth >= scores.shape[1]:
        return np.argsort(-scores, axis=1)
    top = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
    inner = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
    return np.take_along_axis(top, inner, axis=1)


def simulate_bandit(policy, arm_means, n_rounds: int, seed: int = 0) -> np.ndarray:
    """Play ``policy`` for ``n_rounds`` on Bernoulli arms; return its cumulative regret.

    Each round the policy picks one arm (``recommend([0], k=1)``), the arm pays 1 with
    probability ``arm_means[arm]``, and the policy learns it. Regret after round ``t`` is
    ``sum over rounds s <= t of (max(arm_means) - arm_means[arm_s])`` (pseudo-regret: the
    expected reward lost against always playing the best arm).

    Returns
    -------
    ndarray of float, shape ``(n_rounds,)``

    Raises
    ------
    ValueError
        When ``arm_means`` are not finite probabilities, one per arm, ``n_rounds`` is not
        a positive whole number, or ``seed`` is not a seed.
    """
    means = check_finite_array(arm_means, "arm_means", meaning="a click rate per arm")
    if means.ndim != 1 or means.size != policy.n_items:
        raise ValueError(
            f"arm_means must hold one click rate per arm of the policy ({policy.n_items}); "
            f"got shape {means.shape}."
        )
    if (means < 0).any() or (means > 1).any():
        raise ValueError("arm_means are click probabilities and must lie in [0, 1].")
    n_rounds = check_positive_int(n_rounds, "n_rounds", "rounds to play")
    rng = check_rng(seed)
    user = np.zeros(1, dtype=np.int64)
    position = np.ones(1, dtype=np.int64)
    arms = np.empty(n_rounds, dtype=np.int64)
    for t in range(n_rounds):
        arm = policy.recommend(user, 1).items[0]
        reward = np.array([float(rng.random() < means[arm[0]])])
        policy.learn(user, arm, position, reward)
        arms[t] = arm[0]
    return np.cumsum(means.max() - means[arms])
