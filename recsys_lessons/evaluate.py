"""Fit several recommenders on the same split and compare them in one tidy table.

Lesson 01 (``notebooks/01_baselines_and_evaluation.ipynb``) introduces the harness; every
later lesson and ``benchmarks/movielens_100k.py`` use it.

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

from recsys_lessons import metrics as m
from recsys_lessons.matrix import InteractionMatrix, interaction_matrix
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
):
    """Fit each model on ``train`` and score its top-``k`` lists against ``test``.

    Parameters
    ----------
    models : dict of str -> Recommender
        Unfitted models following the protocol of :mod:`recsys_lessons.models.base`; they
        are fitted here (in place).
    train, test : scipy.sparse matrix, InteractionMatrix or pandas.DataFrame
        Same shape (users x items). DataFrames are turned into matrices over the union of
        their ids, with ratings as values. Non-zero test cells are the relevant items.
    k : int
        Length of each recommendation list.
    metrics : sequence of str
        Names from ``ACCURACY_METRICS`` (``precision``, ``recall``, ``ndcg``, ``map``,
        ``mrr``, ``hit_rate``; reported as ``<name>@k``) and ``CATALOGUE_METRICS``
        (``coverage``, ``novelty``, ``popularity``, ``gini``).
    per_user : bool
        Also return the per-user accuracy metrics, one row per (model, user), for audits
        of how groups of users are served.

    Returns
    -------
    pandas.DataFrame
        One row per model (index ``model``): the metric columns, then ``fit_seconds`` and
        ``recommend_seconds``. Accuracy metrics are means over users with test items.
    pandas.DataFrame, only when ``per_user=True``
        Columns ``model``, ``user`` (0-based row index) and one per accuracy metric.
    """
    if not models:
        raise ValueError("models is empty; pass a dict such as {'popularity': Popularity()}.")
    unknown = [
        name for name in metrics if name not in ACCURACY_METRICS and name not in CATALOGUE_METRICS
    ]
    if unknown:
        known = sorted(ACCURACY_METRICS) + sorted(CATALOGUE_METRICS)
        raise ValueError(f"unknown metric(s) {unknown}; choose from {known}.")
    train, test = _as_matrices(train, test)
    users = np.flatnonzero(np.diff(test.indptr))
    relevant = test[users]

    rows, per_user_frames = [], []
    for name, model in models.items():
        started = time.perf_counter()
        model.fit(train)
        fitted = time.perf_counter()
        recommended, _ = model.recommend(users, k=k, exclude_seen=True)
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
    if per_user:
        return summary, pd.concat(per_user_frames, ignore_index=True)
    return summary


def _as_matrices(train, test) -> tuple[sp.csr_matrix, sp.csr_matrix]:
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
    return train, test


def _item_counts(train: sp.csr_matrix) -> np.ndarray:
    return np.bincount(train.indices, minlength=train.shape[1])
