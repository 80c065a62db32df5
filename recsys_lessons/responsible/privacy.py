"""Differential privacy in one concrete place: a noisy popularity table.

A team that publishes "the 100 most-watched titles this week", or ships a popularity table to
a partner, releases a statistic of its users' histories. The Laplace mechanism makes that
release *epsilon-differentially private* at the level of a user: whether any one user's
history is in the data or not changes the probability of any published table by at most a
factor ``e ** epsilon``. So nobody, whatever else they know, can tell from the table
whether a given person watched a given title much better than by guessing.

Two steps (Dwork & Roth, "The Algorithmic Foundations of Differential Privacy", 2014):

1. **Bound each user's contribution** to at most ``m`` items (keep a random sample of ``m``
   of their items). Then adding or removing one user changes the vector of counts by at most
   ``m`` in L1 norm: the *sensitivity* is ``m``.
2. **Add noise** ``Laplace(0, m / epsilon)`` independently to every count.

Smaller epsilon = stronger privacy = more noise. Lesson 11
(``notebooks/11_responsible_personalization.ipynb``) measures what the noise costs in
nDCG@10 of a popularity recommender at epsilon in {0.1, 1, 10}.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_lessons.validation import check_number, check_positive_int, check_seed

__all__ = ["bound_contributions", "private_item_counts"]


def bound_contributions(X, max_items: int, seed: int | None = 0) -> sp.csr_matrix:
    """Keep at most ``max_items`` uniformly chosen interactions per user (a 0/1 matrix).

    Users with fewer interactions keep them all. This bounds the L1 sensitivity of the item
    counts to ``max_items``, whichever items are kept, so the sampling seed need not be
    secret (``None`` draws fresh randomness).
    """
    max_items = check_positive_int(max_items, "max_items", "the contribution bound per user")
    seed = check_seed(seed, allow_none=True)
    matrix = sp.csr_matrix(X, copy=True)
    matrix.sum_duplicates()
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    keys = rng.random(matrix.nnz)
    order = np.lexsort((keys, users))  # random order within each user
    rank = np.empty(matrix.nnz, dtype=np.int64)
    rank[order] = np.arange(matrix.nnz) - matrix.indptr[users[order]]
    keep = rank < max_items
    return sp.csr_matrix(
        (np.ones(keep.sum()), (users[keep], matrix.indices[keep])), shape=matrix.shape
    )


def private_item_counts(
    X, epsilon: float, max_items: int = 50, seed: int | None = None
) -> np.ndarray:
    """Item interaction counts released with user-level ``epsilon``-differential privacy.

    ``released_i = count_i(bounded X) + Laplace(0, max_items / epsilon)``

    where the counts come from :func:`bound_contributions` (each user at most ``max_items``
    items). The released values can be negative or fractional: rank by them, do not read
    them as exact counts.

    The noise must be fresh randomness, which is the default (``seed=None``). Whoever knows
    a fixed seed can draw the same noise and subtract it, recovering the exact counts; and
    two releases of the same data at different epsilon with one seed reuse the same draws
    (scaled differently), so their difference reveals the true counts too. Pass a seed only
    in tests and lessons, where a reproducible table is the point.

    Parameters
    ----------
    X : sparse matrix (n_users, n_items)
        Who interacted with what.
    epsilon : float > 0
        Privacy budget (0.1 strong, 1 moderate, 10 weak).
    max_items : int
        Contribution bound ``m`` per user (the sensitivity).
    seed : int or None
        ``None`` (default): fresh randomness, the only private choice. A whole number fixes
        the sampling and the noise, for tests and lessons only.
    """
    check_number(epsilon, "epsilon (the privacy budget, e.g. 1.0)", low=0, low_open=True)
    seed = check_seed(seed, allow_none=True)
    bounded = bound_contributions(X, max_items, seed=seed)
    counts = np.asarray(bounded.sum(axis=0)).ravel()
    noise_rng = np.random.default_rng(None if seed is None else [seed, 1])
    noise = noise_rng.laplace(0.0, max_items / epsilon, counts.size)
    return counts + noise
