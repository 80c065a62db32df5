"""Several validation folds carved from the training split, for tuning a hybrid on more labels.

One validation split of train labels a quarter of train once: the blend weights or the
ranker's trees tuned on it follow that one draw's noise. ``K`` re-splits of train (the same
stratified split with ``K`` seeds) give every user ``K`` independent (fit, validation) pairs:
a model fitted on ``fit_f`` scores the users, ``validation_f`` labels them, and the tuning
criterion becomes the mean over the folds,

    nDCG_val(w) = (1 / K) * sum_f mean_u nDCG@k(blend_w(fit_f), validation_f, u),

(Kohavi 1995, "A study of cross-validation and bootstrap for accuracy estimation and model
selection", IJCAI: averaging several resamples lowers the variance of the estimate). The folds
overlap (a rating can be validation in one fold and fit in another), unlike k-fold
cross-validation, but they never leave train: the test split is touched once, after tuning.

Lesson 06 (``notebooks/06_hybrid_ranking.ipynb``) and ``benchmarks/hybrid.py`` tune on them.
"""

from __future__ import annotations

import pandas as pd

from recsys_lessons.evaluation.split import stratified_split
from recsys_lessons.validation import check_columns, check_positive_int, check_seed

#: Seeds of successive folds are ``seed + FOLD_SEED_STRIDE * f``; fold 0 uses ``seed`` itself.
FOLD_SEED_STRIDE = 1000


def validation_folds(
    train: pd.DataFrame,
    n_folds: int = 3,
    *,
    by: str = "item",
    test_ratio: float = 0.25,
    seed: int = 42,
) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    """``n_folds`` (fit, validation) re-splits of ``train``, each a :func:`stratified_split`.

    Fold ``f`` is ``stratified_split(train, by, test_ratio=test_ratio, seed=seed + 1000 f)``:
    fold 0 is the single validation split the course uses elsewhere (same seed), the others
    draw new random keys.

    Parameters
    ----------
    train : pandas.DataFrame
        The training split only (``user_id``, ``item_id``, ...); never the full data, or the
        folds would hold test rows.
    n_folds : int
        How many re-splits (>= 1).
    by, test_ratio : as in :func:`~recsys_lessons.evaluation.split.stratified_split`
    seed : int
        Seed of fold 0.

    Returns
    -------
    list of (fit, validation) DataFrame pairs
        In each pair the two frames partition ``train``'s rows.

    Raises
    ------
    ValueError
        If ``train`` lacks ``user_id``/``item_id``, ``n_folds`` is not a positive integer or
        ``seed`` is not a whole number >= 0 (and as ``stratified_split`` for ``by`` and
        ``test_ratio``).
    """
    check_columns(train, ("user_id", "item_id"), "train", "pass the training split's interactions")
    n_folds = check_positive_int(n_folds, "n_folds", "validation re-splits of train")
    seed = check_seed(seed)
    return [
        stratified_split(train, by=by, test_ratio=test_ratio, seed=seed + FOLD_SEED_STRIDE * fold)
        for fold in range(n_folds)
    ]


__all__ = ["validation_folds"]
