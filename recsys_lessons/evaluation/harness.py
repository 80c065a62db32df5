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
from sklearn.base import clone

from recsys_lessons import metrics as m
from recsys_lessons.data.matrix import InteractionMatrix, interaction_matrix
from recsys_lessons.models.base import as_interaction_csr
from recsys_lessons.top_k import top_k_indices
from recsys_lessons.validation import check_interactions_frame, check_timestamps

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


# --------------------------------------------------------------------------------------
# Cold start (lesson 05, notebooks/05_cold_start.ipynb)
# --------------------------------------------------------------------------------------

#: Metrics reported by the cold-start helpers unless told otherwise.
COLD_START_METRICS = ("ndcg", "recall", "hit_rate")


def evaluate_cold_items(
    scores: Mapping[str, np.ndarray],
    test,
    cold_items,
    k: int = 10,
    metrics=COLD_START_METRICS,
) -> pd.DataFrame:
    """Score new items on a "new titles" shelf: each user's ``k`` best **cold items only**.

    A title nobody has interacted with yet cannot win a place among thousands of proven
    ones, so a service shows it on a shelf of new releases. Each model's scores are ranked
    among the columns ``cold_items`` alone; the relevant items of a user are their test
    interactions with cold items. Users without any are left out.

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
    return _score_table(scores, relevant, None, cold_items, test.shape, k, metrics, ranked_among)


def evaluate_cold_users(
    scores: Mapping[str, np.ndarray],
    test,
    known=None,
    k: int = 10,
    metrics=COLD_START_METRICS,
) -> pd.DataFrame:
    """Score new users: each user's ``k`` best among **all items they have not shown us**.

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
    return _score_table(scores, test, known, columns, test.shape, k, metrics, ranked_among)


def warm_up_curve(
    scorers: Mapping[str, Callable],
    events: pd.DataFrame,
    item_ids,
    n_known=(0, 1, 2, 3, 5, 10, 20),
    k: int = 10,
    metric: str = "ndcg",
) -> pd.DataFrame:
    """Accuracy of each model as a function of how many interactions it knows of a new user.

    Each user's events are put in time order. For every ``n`` in ``n_known`` the model sees
    the first ``n`` as the user's history; the test is always the same, the events from
    position ``max(n_known)`` on, so the points of the curve are comparable. Items before
    that position are removed from the ranking (they are neither history nor test).

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
            recommended = top_k_indices(values, k)
            value = ACCURACY_METRICS[metric](recommended, relevant, k=k)
            frames.append(
                {"n_known": n, "model": name, f"{metric}@{k}": float(value), "users": len(users)}
            )
    return pd.DataFrame(frames)


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


def _score_table(scores, relevant, known, columns, shape, k, metrics, ranked_among):
    if not scores:
        raise ValueError("scores is empty; pass a dict such as {'popularity': popularity_scores}.")
    unknown = [name for name in metrics if name not in ACCURACY_METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {sorted(ACCURACY_METRICS)}.")
    users = np.flatnonzero(np.diff(relevant.indptr))
    if users.size == 0:
        raise ValueError("no user has a relevant test item here; nothing to evaluate against.")
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
        recommended = top_k_indices(values, k)
        row = {"model": name}
        for metric in metrics:
            row[f"{metric}@{k}"] = float(
                ACCURACY_METRICS[metric](recommended, relevant[users], k=k)
            )
        row["users"] = len(users)
        row["ranked_among"] = ranked_among
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")
