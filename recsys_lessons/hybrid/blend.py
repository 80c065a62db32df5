"""A weighted linear blend of several recommenders' per-user-normalized scores.

``blend(u, i) = sum over models m of w_m * normalize_u(score_m(u, i))``, where the scores of
the user's unseen items are normalized per user (:mod:`recsys_lessons.hybrid.normalize`)
so that each weight means "how much this model counts", not "how large its numbers are".
The weights are chosen on a validation split carved from train (:func:`tune_weights`),
never on test. Lesson 06 (``notebooks/06_hybrid_ranking.ipynb``) builds it by hand first.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from recsys_lessons.hybrid.normalize import normalize_scores
from recsys_lessons.metrics import ndcg_at_k
from recsys_lessons.models.base import Recommender
from recsys_lessons.top_k import top_k_indices
from recsys_lessons.validation import check_k, check_number


class LinearBlend(Recommender):
    """Blend fitted-on-the-fly component models with fixed weights.

    Parameters
    ----------
    models : dict of name -> Recommender
        The components; ``fit`` fits a clone of each on the same matrix (the caller's
        models are left unchanged).
    weights : dict of name -> float
        One weight per component (missing names count 0).
    normalization : {"zscore", "rank", "minmax"}
        Per-user normalization applied to each component's unseen-item scores.

    Attributes
    ----------
    models_ : dict of name -> Recommender
        The fitted clones, in the order of ``models``.

    Notes
    -----
    Seen items score ``-inf``: the blend is defined on the items a user has not seen.

    Raises
    ------
    ValueError
        At ``fit``: if ``models`` is empty, ``weights`` names a model not in the blend, a
        weight is not a finite number, or every weight is 0 (the blend would rank by item
        index).
    """

    def __init__(
        self,
        models: Mapping[str, Recommender],
        weights: Mapping[str, float],
        normalization: str = "zscore",
    ):
        self.models = models
        self.weights = weights
        self.normalization = normalization

    def _fit(self, X: sp.csr_matrix) -> None:
        if not self.models:
            raise ValueError("models is empty; pass e.g. {'als': ALS(), 'ease': EASE()}.")
        unknown = set(self.weights) - set(self.models)
        if unknown:
            raise ValueError(f"weights name models that are not in the blend: {sorted(unknown)}.")
        weights = [check_number(w, f"weights[{n!r}]") for n, w in self.weights.items()]
        if not any(weights):
            raise ValueError(
                "every weight is 0, so every item would score 0 and the ranking would follow "
                "item indices; give at least one model a non-zero weight (e.g. from tune_weights)."
            )
        self.models_ = {name: clone(model).fit(X) for name, model in self.models.items()}

    def _score(self, users: np.ndarray) -> np.ndarray:
        seen = self.X_[users].nonzero()
        total = np.zeros((len(users), self.n_items_))
        for name, model in self.models_.items():
            weight = float(self.weights.get(name, 0.0))
            if weight == 0.0:
                continue
            scores = np.array(model.score(users))
            scores[seen] = -np.inf
            normalized = normalize_scores(scores, self.normalization)
            normalized[seen] = 0.0
            total += weight * normalized
        total[seen] = -np.inf
        return total


def normalized_unseen_scores(model: Recommender, users, method: str = "zscore") -> np.ndarray:
    """A fitted model's scores for ``users``, seen items ``-inf``, normalized per user."""
    users = np.asarray(users)
    scores = np.array(model.score(users))
    scores[model.X_[users].nonzero()] = -np.inf
    return normalize_scores(scores, method)


def weight_grid(names, step: float = 0.1) -> list[dict]:
    """Every weighting of ``names`` on a grid of ``step`` that sums to 1 (the simplex).

    Raises
    ------
    ValueError
        If ``names`` is empty or ``step`` is not a number in (0, 1] that divides 1 evenly.
    """
    step = check_number(step, "step", low=0, high=1, low_open=True)
    n_steps = round(1 / step)
    if not np.isclose(n_steps * step, 1.0):
        raise ValueError(f"step must divide 1 evenly (0.1, 0.05, 0.25...); got {step!r}.")
    names = list(names)
    if not names:
        raise ValueError("names is empty; pass the blended models' names, e.g. ['als', 'ease'].")
    grid = []
    for parts in itertools.product(range(n_steps + 1), repeat=len(names) - 1):
        if sum(parts) <= n_steps:
            counts = [*parts, n_steps - sum(parts)]
            grid.append({name: count / n_steps for name, count in zip(names, counts, strict=True)})
    return grid


def tune_weights(normalized: Mapping[str, np.ndarray], relevant, grid, k: int = 10):
    """Pick the weights with the best nDCG@k of the blended scores against ``relevant``.

    Parameters
    ----------
    normalized : dict of name -> ndarray (n_users, n_items)
        Each model's normalized unseen-item scores (``-inf`` on seen items) for the rows of
        ``relevant`` to evaluate, from :func:`normalized_unseen_scores`.
    relevant : scipy.sparse matrix, same rows
        The **validation** split (never test).
    grid : list of dict
        Candidate weightings, e.g. :func:`weight_grid`.

    Returns
    -------
    best : dict
        The winning weights (the first one listed on ties).
    table : list of (weights, ndcg)
        Every weighting with its validation nDCG@k, in grid order.

    Raises
    ------
    ValueError
        If ``normalized`` or ``grid`` is empty, a weighting names a model missing from
        ``normalized`` or has a non-finite weight, ``k`` is not a valid list length, or the
        shapes disagree.
    """
    if not normalized:
        raise ValueError(
            "normalized is empty; pass {name: normalized_unseen_scores(model, users)}."
        )
    grid = list(grid)
    if not grid:
        raise ValueError("grid is empty; pass at least one weighting, e.g. weight_grid(names).")
    for weights in grid:
        unknown = set(weights) - set(normalized)
        if unknown:
            raise ValueError(
                f"the grid weighs models without scores: {sorted(unknown)}; normalized has "
                f"{sorted(normalized)}."
            )
        for name, weight in weights.items():
            check_number(weight, f"grid weight of {name!r}")
    relevant = sp.csr_matrix(relevant)
    shapes = {array.shape for array in normalized.values()}
    if len(shapes) != 1 or next(iter(shapes))[0] != relevant.shape[0]:
        raise ValueError(
            f"every score matrix needs one row per row of relevant ({relevant.shape[0]}); got shapes {shapes}."
        )
    k = check_k(k, next(iter(shapes))[1])
    table = []
    for weights in grid:
        total = 0.0
        for name, weight in weights.items():
            if weight:
                total = total + weight * np.where(
                    np.isfinite(normalized[name]), normalized[name], 0.0
                )
        seen = ~np.isfinite(next(iter(normalized.values())))
        total = np.where(seen, -np.inf, total)
        table.append((weights, float(ndcg_at_k(top_k_indices(total, k), relevant, k=k))))
    best = max(table, key=lambda row: row[1])[0]
    return best, table


__all__ = ["LinearBlend", "normalized_unseen_scores", "tune_weights", "weight_grid"]
