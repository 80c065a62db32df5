"""Evaluating new items and new users: the cold-start shelves and the warm-up curve.

A model is judged on a cold item by ranking it on a "new titles" shelf among the other cold
items only (:func:`evaluate_cold_items`), on a cold user by ranking all the items the user
has not told us about (:func:`evaluate_cold_users`), and on a user who is warming up by the
accuracy after ``n`` known interactions, for growing ``n``, on the same test events
(:func:`warm_up_curve`). The splits that make cold items and users are in
:mod:`recsys_lessons.evaluation.split`; the metrics are the harness's ``ACCURACY_METRICS``.

Ties are ranked in a seeded random order, never by item index. Cold start is where models
tie most (a user the model knows nothing about scores every item alike), and MovieLens
numbered its films roughly from well-known to obscure, so ranking ties by index would give
a model with no information the score of a popularity list (0.18 instead of a random list's
0.05-0.07 on lesson 05's warm-up curve). Every function here ranks items by
``(-score, tie_order[item])`` with ``tie_order = numpy.random.default_rng(seed).permutation(n_items)``
(see ``tie_break`` in :func:`recsys_lessons.top_k.top_k_indices`), so a model that ties
everything scores like a random list, and the same ``seed`` gives the same lists.

Lesson 05 (``notebooks/05_cold_start.ipynb``) uses all three.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.data.matrix import InteractionMatrix
from recsys_lessons.evaluation.harness import ACCURACY_METRICS
from recsys_lessons.top_k import top_k_indices
from recsys_lessons.validation import check_interactions_frame, check_seed, check_timestamps

__all__ = [
    "COLD_START_METRICS",
    "evaluate_cold_items",
    "evaluate_cold_users",
    "random_tie_order",
    "warm_up_curve",
]

#: Metrics reported by the cold-start helpers unless told otherwise.
COLD_START_METRICS = ("ndcg", "recall", "hit_rate")


def evaluate_cold_items(
    scores: Mapping[str, np.ndarray],
    test,
    cold_items,
    k: int = 10,
    metrics=COLD_START_METRICS,
    seed: int = 0,
) -> pd.DataFrame:
    """Score new items on a "new titles" shelf: each user's ``k`` best **cold items only**.

    A title nobody has interacted with yet cannot win a place among thousands of proven
    ones, so a service shows it on a shelf of new releases. Each model's scores are ranked
    among the columns ``cold_items`` alone; the relevant items of a user are their test
    interactions with cold items. Users without any are left out. Equal scores are ranked
    in the seeded random order of the module docstring, not by item index.

    Parameters
    ----------
    scores : dict of str -> ndarray, shape (n_users, n_items)
        One row per row of ``test``; only the ``cold_items`` columns are read.
    test : scipy.sparse matrix or InteractionMatrix, shape (n_users, n_items)
        Non-zero cells are relevant (e.g. the test part of :func:`~recsys_lessons.evaluation.split.cold_item_split`).
    cold_items : array-like of int
        Column indices of the new items.
    k : int
        Length of the shelf.
    metrics : sequence of str
        Names from ``ACCURACY_METRICS``.
    seed : int
        Seed of the tie order ``numpy.random.default_rng(seed).permutation(n_items)``:
        among equal scores the item placed earlier by this permutation ranks first.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``<metric>@k`` (means over users), ``users`` evaluated and
        ``ranked_among`` (``"N cold items only"``).
    """
    test = _as_relevant_matrix(test)
    cold_items = _check_columns(cold_items, test.shape[1], "cold_items")
    relevant = test[:, cold_items]
    ranked_among = f"{len(cold_items)} cold items only"
    return _score_table(
        scores, relevant, None, cold_items, test.shape, k, metrics, ranked_among, seed
    )


def evaluate_cold_users(
    scores: Mapping[str, np.ndarray],
    test,
    known=None,
    k: int = 10,
    metrics=COLD_START_METRICS,
    seed: int = 0,
) -> pd.DataFrame:
    """Score new users: each user's ``k`` best among **all items they have not shown us**.

    Equal scores are ranked in the seeded random order of the module docstring, so a model
    that scores every item alike (nothing known about the user) scores like a random list.

    Parameters
    ----------
    scores : dict of str -> ndarray, shape (n_users, n_items)
        One row per row of ``test`` (the new users), one column per item.
    test : scipy.sparse matrix or InteractionMatrix, shape (n_users, n_items)
        Non-zero cells are relevant.
    known : scipy.sparse matrix, shape (n_users, n_items), optional
        The onboarding history (items the user told us about); removed from the ranking.
    k : int
        List length.
    metrics : sequence of str
        Names from ``ACCURACY_METRICS``.
    seed : int
        Seed of the tie order ``numpy.random.default_rng(seed).permutation(n_items)``.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``<metric>@k``, ``users`` evaluated and ``ranked_among``
        (``"all N items minus the user's known ones"``).
    """
    test = _as_relevant_matrix(test)
    if known is not None:
        known = _as_relevant_matrix(known)
        if known.shape != test.shape:
            raise ValueError(
                f"known {known.shape} and test {test.shape} differ in shape; build both on the "
                "same users and items."
            )
    ranked_among = f"all {test.shape[1]} items minus the user's known ones"
    columns = np.arange(test.shape[1])
    return _score_table(scores, test, known, columns, test.shape, k, metrics, ranked_among, seed)


def warm_up_curve(
    scorers: Mapping[str, Callable],
    events: pd.DataFrame,
    item_ids,
    n_known=(0, 1, 2, 3, 5, 10, 20),
    k: int = 10,
    metric: str = "ndcg",
    seed: int = 0,
) -> pd.DataFrame:
    """Accuracy of each model as a function of how many interactions it knows of a new user.

    Each user's events are put in time order. For every ``n`` in ``n_known`` the model sees
    the first ``n`` as the user's history; the test is always the same, the events from
    position ``max(n_known)`` on, so the points of the curve are comparable. Items before
    that position are removed from the ranking (they are neither history nor test).
    Equal scores are ranked in the seeded random order of the module docstring: at
    ``n = 0`` a model that can only return a constant (item-kNN, EASE or ALS fold-in of an
    empty history) scores like a random list, not like the item numbering.

    Parameters
    ----------
    scorers : dict of str -> callable
        ``scorer(history, user_ids) -> ndarray (n_users, n_items)``, where ``history`` is a
        CSR matrix of 1.0 for the known items (one row per user, in the order of
        ``user_ids``, a ``pandas.Index`` of raw ids). For example ALS fold-in, item-kNN's
        ``history @ S`` or a segment's popular items.
    events : pandas.DataFrame
        ``user_id``, ``item_id``, ``timestamp`` of the new users (not in any model's training
        data). Every user needs more than ``max(n_known)`` events.
    item_ids : pandas.Index or array-like
        Raw ids of the columns the scorers return (e.g. ``InteractionMatrix.item_ids``).
    n_known : sequence of int >= 0
        Points of the curve.
    k : int
        List length.
    metric : str
        A name from ``ACCURACY_METRICS``.
    seed : int
        Seed of the tie order ``numpy.random.default_rng(seed).permutation(n_items)``.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``n_known``, ``model``, ``<metric>@k`` and ``users``.
    """
    if metric not in ACCURACY_METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose from {sorted(ACCURACY_METRICS)}.")
    if not scorers:
        raise ValueError("scorers is empty; pass a dict such as {'popularity': score_popular}.")
    points = sorted({int(n) for n in n_known})
    if not points or points[0] < 0:
        raise ValueError(f"n_known must hold whole numbers >= 0; got {list(n_known)!r}.")
    check_interactions_frame(events, ("user_id", "item_id", "timestamp"))
    item_ids = pd.Index(item_ids)
    tie_order = random_tie_order(len(item_ids), seed)
    ordered = events.iloc[np.argsort(check_timestamps(events), kind="stable")]
    users, rows = np.unique(ordered["user_id"].to_numpy(), return_inverse=True)
    lengths = np.bincount(rows)
    if lengths.min() <= points[-1]:
        raise ValueError(
            f"{int((lengths <= points[-1]).sum())} user(s) have {points[-1]} events or fewer, so "
            f"nothing is left to test at n_known={points[-1]}; keep only users with more than "
            f"{points[-1]} events."
        )
    columns = item_ids.get_indexer(ordered["item_id"].to_numpy())
    if (columns < 0).any():
        raise ValueError(
            "some events name items that are not in item_ids; filter them out or pass every item id."
        )
    position = pd.Series(rows).groupby(rows).cumcount().to_numpy()
    shape = (len(users), len(item_ids))

    def matrix(mask):
        values = np.ones(int(mask.sum()), dtype=np.float32)
        X = sp.csr_matrix((values, (rows[mask], columns[mask])), shape=shape)
        X.data[:] = 1.0  # an item watched twice still counts once
        return X

    excluded = matrix(position < points[-1])
    relevant = matrix(position >= points[-1])
    user_ids = pd.Index(users, name="user_id")
    frames = []
    for n in points:
        history = matrix(position < n)
        for name, scorer in scorers.items():
            values = np.array(scorer(history, user_ids), dtype=np.float64)
            if values.shape != shape:
                raise ValueError(
                    f"scorer {name!r} returned shape {values.shape}; expected {shape} (users x items)."
                )
            values[excluded.nonzero()] = -np.inf
            recommended = top_k_indices(values, k, tie_break=tie_order)
            value = ACCURACY_METRICS[metric](recommended, relevant, k=k)
            frames.append(
                {"n_known": n, "model": name, f"{metric}@{k}": float(value), "users": len(users)}
            )
    return pd.DataFrame(frames)


def random_tie_order(n_items: int, seed: int = 0) -> np.ndarray:
    """The tie priorities of every cold-start evaluation: a seeded random permutation.

    ``numpy.random.default_rng(seed).permutation(n_items)``; passed as ``tie_break`` to
    :func:`~recsys_lessons.top_k.top_k_indices`, it ranks equal scores in an order that
    knows nothing about the items, so ties earn what a random list earns.
    """
    return np.random.default_rng(check_seed(seed)).permutation(n_items)


def _as_relevant_matrix(matrix) -> sp.csr_matrix:
    if isinstance(matrix, InteractionMatrix):
        matrix = matrix.X
    if not sp.issparse(matrix):
        raise ValueError(
            f"expected a SciPy sparse users x items matrix, got {type(matrix).__name__}; build it "
            "with interaction_matrix(...).X."
        )
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    matrix.eliminate_zeros()
    return matrix


def _check_columns(columns, n_items: int, name: str) -> np.ndarray:
    columns = np.atleast_1d(np.asarray(columns))
    if columns.size == 0 or not np.issubdtype(columns.dtype, np.integer):
        raise ValueError(f"{name} must be a non-empty array of integer column indices.")
    if columns.min() < 0 or columns.max() >= n_items:
        raise ValueError(f"{name} must lie in 0..{n_items - 1}; map raw ids with item_index first.")
    if len(np.unique(columns)) != len(columns):
        raise ValueError(f"{name} holds duplicates; pass each item once.")
    return columns


def _score_table(scores, relevant, known, columns, shape, k, metrics, ranked_among, seed):
    if not scores:
        raise ValueError("scores is empty; pass a dict such as {'popularity': popularity_scores}.")
    unknown = [name for name in metrics if name not in ACCURACY_METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {sorted(ACCURACY_METRICS)}.")
    users = np.flatnonzero(np.diff(relevant.indptr))
    if users.size == 0:
        raise ValueError("no user has a relevant test item here; nothing to evaluate against.")
    tie_order = random_tie_order(shape[1], seed)[columns]
    rows = []
    for name, values in scores.items():
        values = np.asarray(values, dtype=np.float64)
        if values.shape != shape:
            raise ValueError(
                f"scores of {name!r} have shape {values.shape}; expected {shape} (one row per "
                "test row, one column per item)."
            )
        values = values[users][:, columns]
        if known is not None:
            values[known[users].nonzero()] = -np.inf
        recommended = top_k_indices(values, k, tie_break=tie_order)
        row = {"model": name}
        for metric in metrics:
            row[f"{metric}@{k}"] = float(
                ACCURACY_METRICS[metric](recommended, relevant[users], k=k)
            )
        row["users"] = len(users)
        row["ranked_among"] = ranked_among
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")
