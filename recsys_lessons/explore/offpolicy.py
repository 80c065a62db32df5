"""Off-policy evaluation: how a new policy would do, estimated from logs of the old one.

The logs only show rewards of what the *logging* policy chose. Each estimator below
reweights or models those rewards to estimate the mean reward per logged impression under a
*target* policy. Every function takes one entry per logged impression (arrays of equal
length) and returns a float; :func:`recsys_lessons.evaluation.stats.estimator_interval` gives
a percentile bootstrap interval for any of them. Lesson 10 (``notebooks/10_exploration.ipynb``,
section 5) compares them against the truth on the simulated catalogue.

For a slate (several positions per request) the same formulas apply per impression when
the propensities are *item-at-position* probabilities and a click at one position depends
only on the item there and the position (the position-based click model of the simulated
world): the value is then the mean reward per slot.

Notation: ``r`` reward, ``p`` logging propensity (probability the logging policy showed the
logged item there), ``q`` target propensity (probability the target policy would show it
there), ``w = q / p`` the importance weight, ``rhat`` a reward model's prediction for the
logged item, ``vhat`` the same model's expected reward under the target policy for that
round (``sum over items a of q(a) * rhat(a)``).

References: Li, Chu, Langford, Wang, "Unbiased offline evaluation of contextual-bandit-based
news article recommendation algorithms", WSDM 2011 (replay); Horvitz & Thompson 1952 (IPS);
Swaminathan & Joachims, NeurIPS 2015 (self-normalized); Dudik, Langford, Li, ICML 2011
(doubly robust); Saito et al., "Open Bandit Dataset and Pipeline", 2021.
"""

from __future__ import annotations

import numpy as np

from recsys_lessons.validation import check_number

__all__ = [
    "direct_method_estimate",
    "doubly_robust_estimate",
    "importance_weights",
    "ips_estimate",
    "replay_estimate",
    "snips_estimate",
]


def replay_estimate(logged_items, rewards, target_items) -> float:
    """Replay (Li et al. 2011): the mean reward over rounds where the target picks the logged item.

    ``V = sum over t of r_t * [target_t == logged_t] / #{t : target_t == logged_t}``

    Only unbiased when the logging policy chose **uniformly at random** (every item equally
    likely in every round): then the matched rounds are a fair sample of the target's
    choices. Under any other logging policy use :func:`ips_estimate` with its propensities.

    Parameters
    ----------
    logged_items : array-like of int, shape ``(n,)``
        Item the logging policy showed in each round.
    rewards : array-like of float, shape ``(n,)``
        Observed reward of that item.
    target_items : array-like of int, shape ``(n,)``
        Item the target policy would have shown in the same round.
    """
    logged = _as_vector(logged_items, "logged_items", integer=True)
    rewards = _as_vector(rewards, "rewards")
    target = _as_vector(target_items, "target_items", integer=True)
    _check_lengths(logged_items=logged, rewards=rewards, target_items=target)
    matched = logged == target
    if not matched.any():
        raise ValueError(
            "the target policy never picks the logged item, so replay has no round to "
            "average; log more rounds (replay keeps only about 1 in n_items of them)."
        )
    return float(rewards[matched].mean())


def importance_weights(logging_propensities, target_propensities, max_weight=None) -> np.ndarray:
    """``w = q / p`` per impression, optionally clipped at ``max_weight``.

    Raises ``ValueError`` when a logging propensity is missing (NaN), zero or outside
    (0, 1], or a target propensity is outside [0, 1]: a zero or missing logging propensity
    means the logs cannot say how often the item would have been shown, so no reweighting is
    possible; and when ``max_weight`` is not a finite positive number (or None).
    """
    p = _as_vector(logging_propensities, "logging_propensities", allow_nan=True)
    q = _as_vector(target_propensities, "target_propensities", allow_nan=True)
    _check_lengths(logging_propensities=p, target_propensities=q)
    if np.isnan(p).any():
        raise ValueError(
            f"logging_propensities has {int(np.isnan(p).sum())} missing (NaN) values: the "
            "logging policy did not record how likely its choices were. Log propensities "
            "(every policy of recsys_lessons.explore reports them) or use the direct method."
        )
    if (p <= 0).any() or (p > 1).any():
        raise ValueError(
            "logging_propensities must lie in (0, 1] (a probability of something that was "
            f"shown); got values from {p.min()} to {p.max()}."
        )
    if np.isnan(q).any() or (q < 0).any() or (q > 1).any():
        raise ValueError(
            "target_propensities must be probabilities in [0, 1] without NaN (0 when the "
            f"target would never show the logged item); got values from {np.nanmin(q)} to "
            f"{np.nanmax(q)}."
        )
    w = q / p
    if max_weight is not None:
        max_weight = check_number(
            max_weight, "max_weight (or None for no clipping)", low=0, low_open=True
        )
        w = np.minimum(w, max_weight)
    return w


def ips_estimate(rewards, logging_propensities, target_propensities, *, max_weight=None) -> float:
    """Inverse propensity scoring: ``V = mean(r * q / p)``.

    Unbiased whenever the logging policy gives a positive probability to everything the
    target would show; its variance grows with the weights ``q / p``. ``max_weight`` clips
    the weights (less variance, some downward bias).

    Examples
    --------
    Four logged impressions; the target would show the first and third logged items more
    often than the logging policy did, the others never:

    >>> rewards = [1.0, 0.0, 1.0, 0.0]
    >>> ips_estimate(rewards, [0.5, 0.5, 0.25, 0.25], [1.0, 0.0, 0.5, 0.0])
    1.0
    >>> ips_estimate(rewards, [0.5, 0.5, 0.25, 0.25], [1.0, 0.0, 0.5, 0.0], max_weight=1.5)
    0.75
    """
    r = _as_vector(rewards, "rewards")
    w = importance_weights(logging_propensities, target_propensities, max_weight)
    _check_lengths(rewards=r, propensities=w)
    return float(np.mean(r * w))


def snips_estimate(rewards, logging_propensities, target_propensities, *, max_weight=None) -> float:
    """Self-normalized IPS: ``V = sum(r * w) / sum(w)`` with ``w = q / p``.

    Divides by the weights' sum instead of ``n``: equal to IPS when the weights average 1
    (which they do in expectation), far less variable when they do not. Unlike IPS it is
    biased, by an amount that shrinks like ``1 / n`` (it is consistent; Swaminathan &
    Joachims, "The self-normalized estimator for counterfactual learning", NeurIPS 2015).
    """
    r = _as_vector(rewards, "rewards")
    w = importance_weights(logging_propensities, target_propensities, max_weight)
    _check_lengths(rewards=r, propensities=w)
    if w.sum() <= 0:
        raise ValueError(
            "every importance weight is 0 (the target never shows a logged item), so the "
            "self-normalized estimate is undefined; log with more exploration."
        )
    return float(np.sum(r * w) / np.sum(w))


def direct_method_estimate(expected_predicted_reward) -> float:
    """Direct method (DM): ``V = mean(vhat)``, the reward model's value of the target policy.

    No propensities at all: low variance, but as biased as the reward model.
    """
    return float(np.mean(_as_vector(expected_predicted_reward, "expected_predicted_reward")))


def doubly_robust_estimate(
    rewards,
    logging_propensities,
    target_propensities,
    predicted_rewards,
    expected_predicted_reward,
    *,
    max_weight=None,
) -> float:
    """Doubly robust (Dudik et al. 2011): ``V = mean(vhat + w * (r - rhat))``.

    The direct method plus an IPS correction of the reward model's error on the logged
    item: unbiased if either the propensities or the reward model are right, and of lower
    variance than IPS when the model is good. With ``w = 0`` it is the direct method; with a
    zero reward model it is IPS.

    How much lower: with a 0/1 reward of chance ``mu`` for the logged item, IPS's term varies
    by ``E[w^2 mu] - V^2`` and DR's, with a perfect model, by ``E[w^2 mu (1 - mu)]``; the gain
    is at most ``E[w^2 mu^2]``, about a share ``mu`` of IPS's variance. With rare clicks DR
    is therefore about as noisy as IPS whatever the model; it pays with frequent or
    predictable rewards, and with clipped weights (``max_weight``), where it loses only the
    clipped share of the model's error ``r - rhat`` instead of the clicks themselves.

    Parameters
    ----------
    rewards, logging_propensities, target_propensities : array-like, shape ``(n,)``
        As for :func:`ips_estimate`.
    predicted_rewards : array-like, shape ``(n,)``
        A reward model's prediction ``rhat`` for the logged item in each round.
    expected_predicted_reward : array-like, shape ``(n,)``
        That model's expected reward ``vhat`` under the target policy in the same round.
    max_weight : float, optional
        Clip the importance weights.
    """
    r = _as_vector(rewards, "rewards")
    w = importance_weights(logging_propensities, target_propensities, max_weight)
    rhat = _as_vector(predicted_rewards, "predicted_rewards")
    vhat = _as_vector(expected_predicted_reward, "expected_predicted_reward")
    _check_lengths(
        rewards=r, propensities=w, predicted_rewards=rhat, expected_predicted_reward=vhat
    )
    return float(np.mean(vhat + w * (r - rhat)))


def _as_vector(values, name: str, integer: bool = False, allow_nan: bool = False) -> np.ndarray:
    if values is None:
        raise ValueError(f"{name} is missing; pass one value per logged impression.")
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array with one value per logged impression; got shape "
            f"{array.shape}."
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty; an estimate needs at least one logged impression.")
    if integer:
        if not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"{name} must hold integer item indices; got dtype {array.dtype}.")
        if array.min() < 0:
            raise ValueError(
                f"{name} holds the negative item index {array.min()}; item indices start at 0 "
                "(a -1 marks a failed request in shadow mode: drop those rows)."
            )
        return array
    try:
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers; got dtype {array.dtype}.") from None
    if not allow_nan and not np.isfinite(array).all():
        raise ValueError(
            f"{name} holds {int((~np.isfinite(array)).sum())} missing or infinite values; "
            "drop those impressions or fill them before estimating."
        )
    return array


def _check_lengths(**arrays) -> None:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise ValueError(
            f"the arrays must have one entry per logged impression (equal lengths); got {described}."
        )
