"""Mitigating bias: calibrated and exposure-aware re-ranking, and inverse-popularity training.

Two places to act on a biased recommender (lesson 11,
``notebooks/11_responsible_personalization.ipynb``, measures what each costs in nDCG):

- **after** the model (re-ranking its candidates): :func:`calibrated_rerank` (Steck 2018)
  makes each list's genre mix match the user's history; :func:`xquad_rerank`
  (Santos et al. 2010; Abdollahpouri et al. 2019) gives item groups (long tail, independent
  providers) a share of each list in proportion to the user's own taste for them;
- **inside** training: :func:`inverse_popularity_weights` down-weights interactions with
  popular items, so the model itself learns less popularity.

Both re-rankers are greedy: ``k`` steps, each choosing, for all users at once, the candidate
that most improves ``(1 - lambda_) * relevance + lambda_ * objective``, so ``lambda_ = 0``
keeps the candidates' order (Steck's convention). They take **ranked candidates**, the
convention of every re-ranker of the course (:mod:`recsys_lessons.hybrid.rerank`): ``items``
and ``scores`` of shape ``(n_users, n_candidates)``, best first, as
``model.recommend(users, k=n_candidates)`` returns them; a candidate whose score is not
finite (``-inf``: a seen item padding the list) is never shown. The scores are min-max
scaled to [0, 1] per user so that ``lambda_`` means the same trade-off for every model.

``alpha`` in this module is the smoothing of the calibrated list's genre mix, nothing else.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_lessons.responsible.audit import genre_distribution, item_genre_shares
from recsys_lessons.validation import (
    check_finite_array,
    check_interaction_pattern,
    check_k,
    check_number,
)

__all__ = [
    "calibrated_rerank",
    "group_preference",
    "inverse_popularity_weights",
    "xquad_rerank",
]


def calibrated_rerank(
    items,
    scores,
    histories,
    item_genres,
    lambda_: float = 0.5,
    k: int = 10,
    alpha: float = 0.01,
) -> np.ndarray:
    """Steck's greedy calibrated re-ranking of each user's ranked candidates.

    Builds each list item by item, adding the candidate ``i`` that maximises

    ``(1 - lambda_) * sum over j in S + i of s(j)  -  lambda_ * KL(p(.|u) || q~(.|u, S + i))``

    where ``s`` is the scaled score, ``p`` the genre mix of the history, ``q`` that of the
    list ``S + i`` and ``q~ = (1 - alpha) q + alpha p`` (as in
    :func:`recsys_lessons.responsible.audit.calibration_kl`). ``lambda_ = 0`` keeps the
    candidates' ranking; ``lambda_ = 1`` only calibrates. Steck, "Calibrated
    Recommendations", RecSys 2018.

    Parameters
    ----------
    items : ndarray of int, shape (n_users, n_candidates)
        Each user's candidates, best first (e.g. ``model.recommend(users, k=100)[0]``).
    scores : ndarray, same shape
        Their model scores; ``-inf`` for candidates that must not be shown.
    histories : sparse matrix (n_users, n_items)
        The training interactions (the genre mix to match).
    item_genres : items x genres 0/1 matrix
    lambda_ : float in [0, 1]
        Weight of calibration against relevance.
    k : int
        List length, at most ``n_candidates``.
    alpha : float in (0, 1)
        Smoothing of ``q``.

    Returns
    -------
    ndarray of int, shape (n_users, k)

    Raises
    ------
    ValueError
        If ``alpha`` is outside (0, 1) (at 0 the KL divergence is infinite for a genre the
        list lacks; at 1 the list's own mix is ignored), ``lambda_`` outside [0, 1], ``k``
        too large for the candidates, or the shapes disagree.
    """
    alpha = check_number(
        alpha, "alpha (smoothing of the list's genre mix)", 0, 1, low_open=True, high_open=True
    )
    candidates, relevance, available = _candidates(items, scores, k, lambda_)
    p = genre_distribution(histories, item_genres)
    if p.shape[0] != candidates.shape[0]:
        raise ValueError("scores and histories must have the same users (rows) in the same order.")
    genres = item_genre_shares(item_genres)[candidates]  # users x candidates x genres
    users = np.arange(candidates.shape[0])
    chosen_mass = np.zeros_like(p)
    lists = np.empty((candidates.shape[0], k), dtype=np.int64)
    log_p = np.log(np.where(p > 0, p, 1.0))
    for step in range(k):
        q = (chosen_mass[:, None, :] + genres) / (step + 1)
        smoothed = (1 - alpha) * q + alpha * p[:, None, :]
        log_smoothed = np.log(np.where(p[:, None, :] > 0, smoothed, 1.0))
        kl = (p[:, None, :] * (log_p[:, None, :] - log_smoothed)).sum(axis=2)
        objective = np.where(available, (1 - lambda_) * relevance - lambda_ * kl, -np.inf)
        best = np.argmax(objective, axis=1)
        lists[:, step] = candidates[users, best]
        chosen_mass += genres[users, best]
        available[users, best] = False
    return lists


def group_preference(histories, item_groups) -> tuple[np.ndarray, np.ndarray]:
    """Each user's share of each item group in their history, ``P(c | u)``.

    Returns
    -------
    names : ndarray, shape (n_groups,)
        Group labels, sorted.
    preference : ndarray, shape (n_users, n_groups)
        Rows sum to 1.
    """
    labels = np.asarray(item_groups)
    history = check_interaction_pattern(histories, "histories", n_items=labels.size)
    names, codes = np.unique(labels, return_inverse=True)
    one_hot = sp.csr_matrix(
        (np.ones(labels.size), (np.arange(labels.size), codes)), shape=(labels.size, names.size)
    )
    counts = np.asarray((history @ one_hot).todense())
    sizes = counts.sum(axis=1, keepdims=True)
    if (sizes == 0).any():
        raise ValueError("a user has an empty history; drop users without training data first.")
    return names, counts / sizes


def xquad_rerank(
    items,
    scores,
    item_groups,
    preference,
    lambda_: float = 0.5,
    k: int = 10,
) -> np.ndarray:
    """Exposure-aware re-ranking of each user's ranked candidates for item groups (smooth xQuAD).

    Adds, step by step, the candidate ``i`` of group ``c(i)`` maximising

    ``(1 - lambda_) * s(i) + lambda_ * P(c(i) | u) * (1 - share of c(i) in the list so far)``

    so a group the user likes but the list does not yet hold gets a bonus that fades as the
    group fills its part. xQuAD comes from web search (Santos, Macdonald, Ounis, "Exploiting
    Query Reformulations for Web Search Result Diversification", WWW 2010: aspects of a
    query); this is the "smooth" variant of Abdollahpouri, Burke, Mobasher, "Managing
    Popularity Bias in Recommender Systems with Personalized Re-ranking", FLAIRS 2019
    (aspects = item groups, head / long tail there, providers here too). The share is 0 for
    the empty list.

    Parameters
    ----------
    items : ndarray of int, shape (n_users, n_candidates)
        Each user's candidates, best first (e.g. ``model.recommend(users, k=100)[0]``).
    scores : ndarray, same shape
        Their model scores; ``-inf`` for candidates that must not be shown.
    item_groups : array-like, shape (n_items,)
        Group label per item (e.g. ``np.where(head, "head", "tail")`` or the provider).
    preference : ndarray, shape (n_users, n_groups)
        ``P(c | u)`` over the sorted group labels, from :func:`group_preference` (personalized)
        or a fixed target such as ``[[0.5, 0.5]]`` broadcast to all users.
    lambda_ : float in [0, 1]
        Weight of group exposure against relevance; ``0`` keeps the candidates' ranking.
    k : int
        List length, at most ``n_candidates``.

    Returns
    -------
    ndarray of int, shape (n_users, k)

    Raises
    ------
    ValueError
        If ``preference`` holds negative, NaN or infinite values or does not have one column
        per group, ``lambda_`` is outside [0, 1], ``k`` is too large for the candidates, or
        ``item_groups`` does not cover the candidates.
    """
    candidates, relevance, available = _candidates(items, scores, k, lambda_)
    labels = np.asarray(item_groups)
    names, codes = np.unique(labels, return_inverse=True)
    if codes.size <= candidates.max():
        raise ValueError(
            f"item_groups needs one label per item of the catalogue; it has {codes.size} but "
            f"the candidates include item {candidates.max()}."
        )
    preference = check_finite_array(preference, "preference", low=0, meaning="P(c | u) per group")
    try:
        preference = np.broadcast_to(preference, (len(candidates), names.size))
    except ValueError:
        raise ValueError(
            f"preference has shape {preference.shape}; it needs one column per group "
            f"({names.size}: {names.tolist()[:5]}) and one row per user (or a single row)."
        ) from None
    candidate_groups = codes[candidates]
    users = np.arange(candidates.shape[0])
    in_list = np.zeros((candidates.shape[0], names.size))
    lists = np.empty((candidates.shape[0], k), dtype=np.int64)
    for step in range(k):
        share = in_list / max(step, 1)
        bonus = np.take_along_axis(preference * (1 - share), candidate_groups, axis=1)
        objective = np.where(available, (1 - lambda_) * relevance + lambda_ * bonus, -np.inf)
        best = np.argmax(objective, axis=1)
        lists[:, step] = candidates[users, best]
        in_list[users, candidate_groups[users, best]] += 1
        available[users, best] = False
    return lists


def inverse_popularity_weights(X, power: float = 0.5) -> sp.csr_matrix:
    """Training matrix with each interaction weighted by ``(1 / popularity_i) ** power``.

    ``X'[u, i] = X[u, i] * w_i``, ``w_i = n_i ** -power / mean over interactions of
    n_j ** -power`` (``n_i`` the item's interaction count), so the average weight stays 1.
    ``power = 0`` is the original matrix; at ``power = 1`` every item weighs as much in total.
    These are *inverse-popularity* weights: they equal inverse-propensity weights only under
    the assumption that an interaction's propensity is proportional to its item's popularity
    (lesson 10's propensities are a policy's logged probabilities, a different quantity).
    Fit a model that reads values (EASE, ``ItemKNN(binarize=False)``) on it: it learns from
    the long tail as much as the data allow, an in-processing mitigation.
    """
    matrix = sp.csr_matrix(X, dtype=np.float64, copy=True)
    if not 0 <= power <= 1:
        raise ValueError(f"power must lie in [0, 1]; got {power!r}.")
    if matrix.nnz == 0:
        raise ValueError("X holds no interactions.")
    counts = matrix.getnnz(axis=0).astype(np.float64)
    weights = np.divide(1.0, counts, out=np.zeros_like(counts), where=counts > 0) ** power
    weights /= weights[matrix.indices].mean()
    matrix.data *= weights[matrix.indices]
    return matrix


def _candidates(items, scores, k, lambda_):
    """The ranked candidates, their scores scaled to [0, 1] per user (0 where not finite) and
    a mask of the candidates that may be shown (finite score)."""
    candidates = np.asarray(items)
    relevance = np.asarray(scores, dtype=np.float64)
    if candidates.ndim != 2 or relevance.shape != candidates.shape:
        raise ValueError(
            f"items and scores must be 2-D users x candidates arrays of the same shape (as "
            f"model.recommend(users, k=n_candidates) returns); got {candidates.shape} and "
            f"{relevance.shape}."
        )
    if not np.issubdtype(candidates.dtype, np.integer) or candidates.min() < 0:
        raise ValueError("items must hold item indices (integers >= 0).")
    check_number(lambda_, "lambda_", low=0, high=1)
    k = check_k(k, candidates.shape[1])
    finite = np.isfinite(relevance)
    if (finite.sum(axis=1) < k).any():
        raise ValueError(
            f"a user has fewer than k={k} candidates with a finite score; lower k or show seen items."
        )
    low = np.where(finite, relevance, np.inf).min(axis=1, keepdims=True)
    high = np.where(finite, relevance, -np.inf).max(axis=1, keepdims=True)
    scaled = (relevance - low) / np.where(high > low, high - low, 1.0)
    return candidates, np.where(finite, scaled, 0.0), finite
