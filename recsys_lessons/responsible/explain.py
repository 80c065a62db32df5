""" "Because you watched X": explanations from item-based models, and a test of their fidelity.

Item-kNN and EASE score an item as a sum over the user's history,
``score(u, j) = sum over watched items i of w[u, i] * W[i, j]`` (``W`` the similarity matrix
of :class:`~recsys_lessons.models.ItemKNN`, the weight matrix ``B`` of
:class:`~recsys_lessons.models.EASE`). Each watched item's term is its *contribution*, so
"because you watched X and Y" can name the items that really produced the score.

An explanation is *faithful* when it names what really produced the score (Jacovi &
Goldberg, "Towards Faithfully Interpretable NLP Systems", ACL 2020, define faithfulness as
reflecting the model's true reasoning). For an additive score, "removing the cited items
lowers the score by exactly their contributions" holds for ANY set of watched items, a made-up
citation included: it checks the arithmetic, not the choice. :func:`explanation_fidelity`
therefore also reports two tests that can fail: the *rank* of each cited item among all the
history's contributions (are they the top contributors?) and the *share* of the score the
cited items explain. Lesson 11 (``notebooks/11_responsible_personalization.ipynb``).
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from recsys_lessons.models import EASE, ItemKNN
from recsys_lessons.validation import check_count, check_index, check_indices

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
    """Test a "because you watched" explanation of ``score(user, item)`` against the model.

    With ``c_i = w[u, i] * W[i, j]`` the contribution of watched item ``i`` to the score
    ``s = sum_i c_i`` of item ``j``, and ``C`` the cited items (``n = |C|``):

    - ``claimed_drop = sum over i in C of c_i``; ``actual_drop = s - s'``, with ``s'`` the
      score from ``model.score`` on a copy of the model whose history lacks ``C``. For an
      additive model the two agree for *every* ``C``: a check of the decomposition, which a
      made-up explanation passes too.
    - ``cited_ranks``: the rank of each cited item among all watched items' contributions,
      ``rank(i) = 1 + #{watched h : c_h > c_i}`` (ties share the better rank); a cited item
      the user never watched gets ``n_watched + 1``, behind every watched item.
    - ``cites_top_contributors``: every cited rank is at most ``n``, i.e. ``C`` is a set of
      ``n`` largest contributions. This test fails for an explanation chosen by anything
      else (popularity, recency, taste).
    - ``share_of_score = actual_drop / s`` and ``best_share``, the share of the ``n`` largest
      contributions: how much of the score the explanation accounts for, and the most any
      ``n`` items could (NaN when ``s`` is 0). A faithful but tiny share says the score
      comes from many small terms, and "because you watched X" tells only a small part.

    Parameters
    ----------
    model : ItemKNN or EASE, fitted
    user, item : int
        Row and column indices of the explained score.
    cited : array-like of int
        Item indices the explanation names (at least one; duplicates count once).

    Returns
    -------
    dict
        ``score, claimed_drop, actual_drop, share_of_score, best_share`` (floats),
        ``cited_ranks`` (ndarray of int, in the order of ``cited`` without duplicates) and
        ``cites_top_contributors`` (bool).

    Examples
    --------
    A faithful explanation cites the top contributors; one citing other watched items
    passes the drop check but not the rank check:

    >>> import scipy.sparse as sp
    >>> from recsys_lessons.models import ItemKNN
    >>> X = sp.csr_matrix([[1, 1, 1, 0], [1, 1, 0, 1], [0, 1, 1, 1], [1, 0, 1, 1.0]])
    >>> model = ItemKNN(neighbors=3).fit(X)
    >>> top = because_you_watched(model, 0, 3, n=1)["item"]
    >>> explanation_fidelity(model, 0, 3, top)["cites_top_contributors"]
    True
    """
    history, weights = _parts(model)
    user = check_index(user, model.n_users_, "user")
    item = check_index(item, model.n_items_, "item")
    cited = pd.unique(check_indices(cited, model.n_items_, "item"))
    row = history[user]
    contributions = row.data * _column(weights, item)[row.indices]
    is_cited = np.isin(row.indices, cited)
    before = float(model.score([user])[0, item])
    after = float(_without(model, history, user, cited).score([user])[0, item])
    best = float(np.sort(contributions)[::-1][: cited.size].sum())
    ranks = _contribution_ranks(row.indices, contributions, cited)
    return {
        "score": before,
        "claimed_drop": float(contributions[is_cited].sum()),
        "actual_drop": before - after,
        "share_of_score": _share(before - after, before),
        "best_share": _share(best, before),
        "cited_ranks": ranks,
        "cites_top_contributors": bool((ranks <= cited.size).all()),
    }


def _contribution_ranks(watched, contributions, cited) -> np.ndarray:
    """``1 + #{watched items with a strictly larger contribution}`` per cited item;
    ``len(watched) + 1`` for a cited item that was not watched."""
    negated_ascending = np.sort(-contributions)
    contribution_of = dict(zip(watched.tolist(), contributions.tolist(), strict=True))
    return np.array(
        [
            int(np.searchsorted(negated_ascending, -contribution_of[i], side="left")) + 1
            if i in contribution_of
            else watched.size + 1
            for i in cited.tolist()
        ],
        dtype=np.int64,
    )


def _share(part: float, whole: float) -> float:
    return part / whole if whole != 0 else float("nan")


def _without(model, history, user, cited):
    """A shallow copy of ``model`` whose history lacks ``cited`` for ``user``."""
    reduced = copy.copy(model)
    reduced_history = history.tolil(copy=True)
    reduced_history[user, cited] = 0
    setattr(reduced, _history_name(model), reduced_history.tocsr())
    return reduced


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
