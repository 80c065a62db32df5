"""Candidates for a stacked ranker: every model's z-score and rank for every candidate.

:func:`~recsys_lessons.hybrid.candidates.generate_candidates` keeps a source's score only
for the items that source proposed, as a production system does when each retriever
answers from its own index. When every model can score the whole (small) catalogue, a
stacker learns more from the full picture: the candidates are the union of each model's
top ``n`` unseen items, and *every* model describes *every* candidate by

- ``m_z``: its z-score over the user's unseen items, ``(s_ui - mean_u) / std_u`` (as
  :func:`~recsys_lessons.hybrid.normalize.normalize_scores` with ``"zscore"``), which does
  not grow when the model is refitted on more data;
- ``m_rank``: its rank among the user's unseen items (1 = best; ties go to the lower item
  index, as :func:`~recsys_lessons.top_k.top_k_indices`);

plus ``n_sources``, how many models rank the item in their top ``n``. This is the
"stacking" of Wolpert (1992, "Stacked generalization", Neural Networks 5(2)) with a
learning-to-rank model on top (Burges 2010, "From RankNet to LambdaRank to LambdaMART").

``benchmarks/hybrid.py`` trains :class:`~recsys_lessons.hybrid.ranker.LearnedRanker` on
this table built on several validation folds (:mod:`recsys_lessons.hybrid.folds`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from recsys_lessons.hybrid.normalize import normalize_scores
from recsys_lessons.validation import check_positive_int


def stacking_candidates(
    unseen_scores: Mapping[str, np.ndarray], users, n: int = 50
) -> pd.DataFrame:
    """The union of every model's top-``n`` unseen items per user, scored by every model.

    Parameters
    ----------
    unseen_scores : dict of name -> ndarray (len(users), n_items)
        Each model's scores for ``users`` with ``-inf`` on the items to skip (already seen),
        e.g. ``model.score(users)`` with the user's training items set to ``-inf``.
    users : array-like of int
        The user index of each row (kept as the ``user`` column).
    n : int
        Items each model proposes per user.

    Returns
    -------
    pandas.DataFrame
        One row per (user, candidate item), sorted by user then item: ``user``, ``item``,
        ``m_z`` and ``m_rank`` for every model ``m``, and ``n_sources``.

    Raises
    ------
    ValueError
        If ``unseen_scores`` is empty, the matrices disagree in shape or in which cells are
        ``-inf``, hold NaN or ``+inf``, do not have one row per user, or ``n`` is not a
        positive integer.
    """
    if not unseen_scores:
        raise ValueError("unseen_scores is empty; pass {name: scores with -inf on seen items}.")
    n = check_positive_int(n, "n", "items each model proposes")
    users = np.asarray(users)
    matrices = {name: np.asarray(s, dtype=np.float64) for name, s in unseen_scores.items()}
    shapes = {m.shape for m in matrices.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2 or next(iter(shapes))[0] != len(users):
        raise ValueError(
            f"every score matrix needs shape (len(users)={len(users)}, n_items); got {sorted(shapes)}."
        )
    skipped = ~np.isfinite(next(iter(matrices.values())))
    for name, matrix in matrices.items():
        if np.isnan(matrix).any() or np.isposinf(matrix).any():
            raise ValueError(
                f"the scores of {name!r} hold NaN or +inf; only -inf may mark seen items."
            )
        if not np.array_equal(~np.isfinite(matrix), skipped):
            raise ValueError(
                f"the scores of {name!r} mark other cells -inf than the first model's; mask the "
                "same seen items in every model."
            )
    rows = np.arange(len(users))[:, None]
    ranks, proposed = {}, np.zeros(skipped.shape, dtype=bool)
    for name, matrix in matrices.items():
        order = np.lexsort((np.broadcast_to(np.arange(matrix.shape[1]), matrix.shape), -matrix))
        rank = np.empty(matrix.shape, dtype=np.int64)
        rank[rows, order] = np.arange(1, matrix.shape[1] + 1)
        ranks[name] = rank
        proposed |= (rank <= n) & ~skipped
    row, item = np.nonzero(proposed)
    frame = pd.DataFrame({"user": users[row], "item": item})
    for name, matrix in matrices.items():
        frame[f"{name}_z"] = normalize_scores(matrix, "zscore")[row, item]
        frame[f"{name}_rank"] = ranks[name][row, item]
    frame["n_sources"] = sum((ranks[name][row, item] <= n).astype(np.int64) for name in matrices)
    frame.attrs["n"] = int(n)
    return frame


__all__ = ["stacking_candidates"]
