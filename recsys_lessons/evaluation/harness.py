"""Fit several recommenders on the same split and compare them in one tidy table.

Lesson 01 (``notebooks/01_baselines_and_evaluation.ipynb``) introduces the harness; every
later lesson and ``benchmarks/movielens_100k.py`` use it. New items and new users are judged
by :mod:`recsys_lessons.evaluation.cold`.

The protocol is the usual offline one: every model is fitted on ``train``, recommends ``k``
items to each user that has at least one test interaction, with the user's training items
removed, and every test interaction counts as relevant.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone

from recsys_lessons import metrics as m
from recsys_lessons.data.matrix import InteractionMatrix, interaction_matrix
from recsys_lessons.models.base import as_interaction_csr

#: Accuracy metrics measured per user: name -> function(recommended, relevant, k, per_user).
ACCURACY_METRICS: dict[str, Callable] = {
    "precision": m.precision_at_k,
    "recall": m.recall_at_k,
    "ndcg": m.ndcg_at_k,
    "map": m.map_at_k,
    "mrr": m.mrr_at_k,
    "hit_rate": m.hit_rate_at_k,
}

#: Beyond-accuracy metrics of the whole set of lists: name -> function(recommended, train, k).
CATALOGUE_METRICS: dict[str, Callable] = {
    "coverage": lambda rec, train, k: m.catalog_coverage(rec, train.shape[1], k=k),
    "novelty": lambda rec, train, k: m.novelty(rec, _item_counts(train), k=k),
    "popularity": lambda rec, train, k: m.average_recommendation_popularity(
        rec, _item_counts(train), k=k
    ),
    "gini": lambda rec, train, k: m.gini_index(rec, train.shape[1], k=k),
}

DEFAULT_METRICS = ("precision", "recall", "ndcg", "map", "coverage")


def evaluate(
    models: Mapping[str, object],
    train,
    test,
    k: int = 10,
    metrics=DEFAULT_METRICS,
    per_user: bool = False,
    return_models: bool = False,
):
    """Fit a clone of each model on ``train`` and score its top-``k`` lists against ``test``.

    Parameters
    ----------
    models : dict of str -> Recommender
        Models following the protocol of :mod:`recsys_lessons.models.base`. A clone of each
        (``sklearn.base.clone``; an object without ``get_params`` is deep-copied) is fitted
        here; the caller's models are left unchanged, so
        the same dict can be evaluated on another split. Ask for the fitted clones with
        ``return_models=True``.
    train, test : scipy.sparse matrix, InteractionMatrix or pandas.DataFrame
        Same shape (users x items). DataFrames are turned into matrices over the union of
        their ids, with ratings as values; two InteractionMatrix objects must share their
        ids in the same order. Non-zero test cells are the relevant items. No interaction
        may be in both: ``recommend`` removes training items, so a test item the user
        already has in train could never be hit (split the data first, see
        :mod:`recsys_lessons.evaluation.split`).
    k : int
        Length of each recommendation list.
    metrics : str or sequence of str
        Names from ``ACCURACY_METRICS`` (``precision``, ``recall``, ``ndcg``, ``map``,
        ``mrr``, ``hit_rate``; reported as ``<name>@k``) and ``CATALOGUE_METRICS``
        (``coverage``, ``novelty``, ``popularity``, ``gini``).
    per_user : bool
        Also return the per-user accuracy metrics, one row per (model, user), for audits
        of how groups of users are served.
    return_models : bool
        Also return the fitted clones, a dict with the keys of ``models``.

    Returns
    -------
    pandas.DataFrame
        One row per model (index ``model``): the metric columns, then ``fit_seconds`` and
        ``recommend_seconds``. Accuracy metrics are means over users with test items.
    pandas.DataFrame, only when ``per_user=True``
        Columns ``model``, ``user`` (0-based row index) and one per accuracy metric.
    dict of str -> Recommender, only when ``return_models=True``
        The fitted clones (last in the returned tuple).

    Examples
    --------
    >>> import numpy as np
    >>> from recsys_lessons.models import Popularity, Random
    >>> train = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 0]])
    >>> test = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]])
    >>> models = {"popularity": Popularity(), "random": Random(seed=0)}
    >>> table, fitted = evaluate(models, train, test, k=1, metrics=("hit_rate",), return_models=True)
    >>> table["hit_rate@1"].round(3).to_dict()
    {'popularity': 1.0, 'random': 0.667}
    >>> hasattr(models["popularity"], "X_"), hasattr(fitted["popularity"], "X_")
    (False, True)
    """
    _check_models(models)
    if isinstance(metrics, str):  # metrics="ndcg" means the one metric, not n, d, c, g
        metrics = (metrics,)
    unknown = [
        name for name in metrics if name not in ACCURACY_METRICS and name not in CATALOGUE_METRICS
    ]
    if unknown:
        known = sorted(ACCURACY_METRICS) + sorted(CATALOGUE_METRICS)
        raise ValueError(f"unknown metric(s) {unknown}; choose from {known}.")
    train, test = _as_matrices(train, test)
    users = np.flatnonzero(np.diff(test.indptr))
    relevant = test[users]

    rows, per_user_frames, fitted_models = [], [], {}
    for name, unfitted in models.items():
        started = time.perf_counter()
        model = fitted_models[name] = clone(unfitted, safe=False).fit(train)
        fitted = time.perf_counter()
        recommended = _recommended_items(name, model.recommend(users, k=k, exclude_seen=True))
        finished = time.perf_counter()

        row = {"model": name}
        user_frame = {"model": name, "user": users}
        for metric in metrics:
            if metric in ACCURACY_METRICS:
                values = ACCURACY_METRICS[metric](recommended, relevant, k=k, per_user=True)
                row[f"{metric}@{k}"] = float(np.nanmean(values))
                user_frame[f"{metric}@{k}"] = values
            else:
                row[metric] = float(CATALOGUE_METRICS[metric](recommended, train, k))
        row["fit_seconds"] = fitted - started
        row["recommend_seconds"] = finished - fitted
        rows.append(row)
        per_user_frames.append(pd.DataFrame(user_frame))

    summary = pd.DataFrame(rows).set_index("model")
    results = (summary,)
    if per_user:
        results += (pd.concat(per_user_frames, ignore_index=True),)
    if return_models:
        results += (fitted_models,)
    return results if len(results) > 1 else summary


def _check_models(models) -> None:
    if not isinstance(models, Mapping):
        raise ValueError(
            f"models must be a dict of name -> model, such as {{'popularity': Popularity()}}; "
            f"got a {type(models).__name__}. The names label the rows of the result."
        )
    if not models:
        raise ValueError("models is empty; pass a dict such as {'popularity': Popularity()}.")
    for name, model in models.items():
        if isinstance(model, type) or not all(
            callable(getattr(model, method, None)) for method in ("fit", "recommend")
        ):
            advice = f"an instance, {model.__name__}()" if isinstance(model, type) else "a model"
            raise ValueError(
                f"models[{name!r}] is {model!r}, not a model with fit and recommend methods; "
                f"pass {advice} (see recsys_lessons.models)."
            )


def _recommended_items(name: str, result) -> np.ndarray:
    """The item lists out of ``recommend``'s ``(items, scores)``, or say what is wrong."""
    if not (isinstance(result, tuple) and len(result) == 2):
        raise ValueError(
            f"models[{name!r}].recommend must return a pair (items, scores) of arrays of shape "
            f"(n_users, k), as Recommender.recommend does; it returned a "
            f"{type(result).__name__}. Return both, e.g. `return items, scores`."
        )
    return result[0]


def _as_matrices(train, test) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    if isinstance(train, InteractionMatrix) and isinstance(test, InteractionMatrix):
        for kind in ("user", "item"):
            if not getattr(train, f"{kind}_ids").equals(getattr(test, f"{kind}_ids")):
                raise ValueError(
                    f"train and test list their {kind} ids differently, so row/column j would "
                    f"mean different {kind}s. Build test on train's ids: "
                    "test = train.like(test_frame) (or both from one full matrix with .like)."
                )
    if isinstance(train, pd.DataFrame) and isinstance(test, pd.DataFrame):
        both = pd.concat([train, test])
        full = interaction_matrix(both)
        train, test = full.like(train), full.like(test)
    elif isinstance(train, pd.DataFrame) or isinstance(test, pd.DataFrame):
        raise ValueError("pass train and test both as DataFrames or both as matrices, not a mix.")
    train = as_interaction_csr(train, "train")
    test = sp.csr_matrix(test.X if isinstance(test, InteractionMatrix) else test, dtype=np.float32)
    if train.shape != test.shape:
        raise ValueError(
            f"train {train.shape} and test {test.shape} differ in shape; build both on the same ids "
            "(InteractionMatrix.like) so rows and columns mean the same users and items."
        )
    test.eliminate_zeros()
    if test.nnz == 0:
        raise ValueError("test has no interactions; nothing to evaluate against.")
    seen = sp.csr_matrix(  # every stored training entry counts as seen, 0.0 included
        (np.ones(train.nnz, np.float32), train.indices, train.indptr), shape=train.shape
    )
    overlap = sp.csr_matrix(test.multiply(seen))
    overlap.eliminate_zeros()
    if overlap.nnz:
        user, item = (int(a[0]) for a in overlap.nonzero())
        raise ValueError(
            f"{overlap.nnz} of the {test.nnz} test interactions are also in train (e.g. user "
            f"{user}, item {item}){'; all of them: is test the training data?' if overlap.nnz == test.nnz else ''}. "
            "recommend removes training items, so these could never be hit and every metric "
            "would be lowered. Split the interactions first (recsys_lessons.evaluation.split) so each "
            "one is on one side only; with repeat events (a time split of purchases), drop "
            "the test interactions the user already has in train."
        )
    return train, test


def _item_counts(train: sp.csr_matrix) -> np.ndarray:
    return np.bincount(train.indices, minlength=train.shape[1])
