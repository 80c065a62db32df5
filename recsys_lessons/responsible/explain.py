""" "Because you watched X": explanations from item-based models, and a test of their fidelity.

Item-kNN and EASE score an item as a sum over the user's history,
``score(u, j) = sum over watched items i of w[u, i] * W[i, j]`` (``W`` the similarity matrix
of :class:`~recsys_lessons.models.ItemKNN`, the weight matrix ``B`` of
:class:`~recsys_lessons.models.EASE`). Each watched item's term is its *contribution*, so
"because you watched X and Y" can name the items that really produced the score.

An explanation is *faithful* when acting on it does what it says: removing the cited items
from the history must lower the score by exactly their contributions.
:func:`explanation_fidelity` checks that through the model's own ``score``, not through the
formula. Lesson 10 (``notebooks/10_responsible_personalization.ipynb``).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from recsys_lessons.models import EASE, ItemKNN
from recsys_lessons.validation import check_count, check_index

__all__ = ["because_you_watched", "explanation_fidelity"]


def because_you_watched(model, user: int, item: int, n: int = 3) -> pd.DataFrame:
    """The ``n`` watched items with the largest contribution to ``score(user, item)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``item`` (index of a watched item) and ``contribution``, largest first; only
        items with a positive contribution.
    """
    history, weights = _parts(model)
    user = check_index(user, model.n_users_, "user")
    item = check_index(item, model.n_items_, "item")
    row = history[user]
    contributions = row.data * _column(weights, item)[row.indices]
    order = np.argsort(-contributions, kind="stable")[: check_count(n)]
    table = pd.DataFrame({"item": row.indices[order], "contribution": contributions[order]})
    return table[table["contribution"] > 0].reset_index(drop=True)


def explanation_fidelity(model, user: int, item: int, cited) -> dict:
    """Remove ``cited`` items from ``user``'s history and rescore ``item`` with the model.

    Returns
    -------
    dict
        ``score`` (before), ``claimed_drop`` (sum of the cited items' contributions),
        ``actual_drop`` (score before minus score after, from ``model.score`` on a copy of
        the model whose history lacks the cited items). A faithful explanation has
        ``actual_drop == claimed_drop``.
    """
    history, weights = _parts(model)
    user = check_index(user, model.n_users_, "user")
    item = check_index(item, model.n_items_, "item")
    cited = np.asarray(cited, dtype=np.int64)
    row = history[user]
    is_cited = np.isin(row.indices, cited)
    claimed = float((row.data * _column(weights, item)[row.indices])[is_cited].sum())
    reduced = copy.copy(model)
    reduced_history = history.tolil(copy=True)
    reduced_history[user, cited] = 0
    setattr(reduced, _history_name(model), reduced_history.tocsr())
    before = float(model.score([user])[0, item])
    after = float(reduced.score([user])[0, item])
    return {"score": before, "claimed_drop": claimed, "actual_drop": before - after}


def _history_name(model) -> str:
    if isinstance(model, ItemKNN):
        return "weights_"
    if isinstance(model, EASE):
        return "X_"
    raise ValueError(
        f"explanations need an item-based model whose score is a sum over the history "
        f"(ItemKNN or EASE); got {type(model).__name__}."
    )


def _parts(model):
    """The (fitted) model's history matrix and item-item weight matrix."""
    name = _history_name(model)
    model._require_fitted()
    weights = model.similarity_ if isinstance(model, ItemKNN) else model.weights_
    return getattr(model, name), weights


def _column(weights, item) -> np.ndarray:
    column = weights[:, [item]]
    return np.asarray(column.toarray() if hasattr(column, "toarray") else column).ravel()
