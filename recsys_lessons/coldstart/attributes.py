"""Cold start: what to recommend on day one, for a new item and for a new user.

Lesson 05 (``notebooks/05_cold_start.ipynb``) measures each answer on splits where the items
or users are truly unseen (:func:`recsys_lessons.evaluation.split.cold_item_split`,
:func:`~recsys_lessons.evaluation.split.cold_user_split`).

New items (no interactions yet, metadata only):

- :func:`item_attributes`: the metadata as one 0/1 column per genre, tag, provider, release
  year band and "released N days ago" band;
- :class:`AttributeMapping`: Gantner et al.'s attribute-to-factor mapping, a ridge regression
  from attributes to a trained collaborative model's item vectors (ALS or EASE), so a new
  item gets a vector the existing users' vectors can score;
- :class:`PredictedPopularity`: a ridge regression from attributes to log popularity, the
  honest "new releases" shelf baseline.

New users (no history, or a few answers):

- :class:`SegmentPopularity`: the most popular items within the user's segment;
- :func:`item_entropy`, :func:`question_order`, :func:`onboarding_answers`: which items an
  onboarding questionnaire asks about (Rashid et al. 2002) and what a user can answer;
- :func:`als_fold_in` and :func:`score_new_users`: score a new user from a short history
  without retraining (ALS by one least-squares solve per user; item-kNN and EASE by
  ``history @ similarity``).
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import Ridge

from recsys_lessons.models.base import Recommender, as_interaction_csr
from recsys_lessons.models.content_based import _as_labels
from recsys_lessons.models.ease import EASE
from recsys_lessons.models.implicit_models import ALS
from recsys_lessons.models.neighbors import ItemKNN

__all__ = [
    "QUESTION_STRATEGIES",
    "AttributeMapping",
    "PredictedPopularity",
    "SegmentPopularity",
    "als_fold_in",
    "cold_item_exposure",
    "item_attributes",
    "item_entropy",
    "onboarding_answers",
    "question_order",
    "score_new_users",
    "segment_labels",
]

#: "Released N days before ``now``" bands of :func:`item_attributes` (upper edges, days).
RELEASE_AGE_EDGES = (60, 120, 240, 365, 730, 1500, 3650)

#: Onboarding strategies of :func:`question_order` (Rashid et al. 2002).
QUESTION_STRATEGIES = ("popularity", "entropy", "popularity_entropy")

#: Bound on ``interactions_in_batch * factors**2`` floats held at once by :func:`als_fold_in`.
FOLD_IN_BATCH_FLOATS = 2**23


# --------------------------------------------------------------------------------------
# New items: metadata as attributes
# --------------------------------------------------------------------------------------


def item_attributes(
    items: pd.DataFrame, now=None, year_bands: int = 8, min_items: int = 2
) -> pd.DataFrame:
    """One 0/1 column per piece of metadata an item has on the day it is added.

    Blocks, from the columns that exist:

    - ``genre=<g>`` for every genre in ``genres``; ``tag=<t>`` for every tag in ``tags``;
      ``provider=<p>`` from ``provider``;
    - ``year=<band>``: the release ``year`` in one of ``year_bands`` bands of about equal
      size (edges at the quantiles of the catalogue's years; a missing year gets no band);
    - ``released=<band>``: how long before ``now`` the item was released
      (``release_date``; bands :data:`RELEASE_AGE_EDGES`, in days). Recent titles draw the
      crowd, which is why this band matters. Skipped when ``now`` is None.

    Tags and providers held by fewer than ``min_items`` items are dropped.

    Parameters
    ----------
    items : pandas.DataFrame
        One row per item (e.g. ``dataset.items.reindex(matrix.item_ids)``).
    now : datetime-like, optional
        The day the recommendations are made, e.g. the last training timestamp.
    year_bands : int >= 1
        Bands of the release year.
    min_items : int >= 1
        Minimum number of items a tag or provider needs to become a column.

    Returns
    -------
    pandas.DataFrame
        Float 0/1 columns, indexed like ``items``.
    """
    if not isinstance(items, pd.DataFrame) or len(items) == 0:
        raise ValueError("items must be a non-empty DataFrame with one row per item.")
    for name, value in (("year_bands", year_bands), ("min_items", min_items)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    blocks = []
    for column, prefix in (("genres", "genre"), ("tags", "tag")):
        if column in items.columns:
            labels = pd.Series([_as_labels(value) for value in items[column]], index=items.index)
            blocks.append(_one_hot(labels.explode().dropna(), items.index, prefix))
    if "provider" in items.columns:
        blocks.append(_one_hot(items["provider"].dropna(), items.index, "provider"))
    if "year" in items.columns:
        years = pd.to_numeric(items["year"], errors="coerce").astype(float)
        edges = np.unique(np.nanquantile(years, np.linspace(0, 1, year_bands + 1)[1:-1]))
        band = pd.Series(np.searchsorted(edges, years, side="right"), index=items.index)
        names = [f"<{edges[0]:.0f}"] + [
            f"{low:.0f}-{high - 1:.0f}" if high - 1 > low else f"{low:.0f}"
            for low, high in zip(edges[:-1], edges[1:], strict=True)
        ]
        names += [f">={edges[-1]:.0f}"] if len(edges) else ["all"]
        labels = band[years.notna()].map(dict(enumerate(names)))
        blocks.append(_one_hot(labels, items.index, "year", order=names))
    if now is not None and "release_date" in items.columns:
        days = (pd.Timestamp(now) - pd.to_datetime(items["release_date"])).dt.days
        edges = np.array(RELEASE_AGE_EDGES)
        names = [f"<{edges[0]}d"] + [
            f"{low}-{high - 1}d" for low, high in zip(edges[:-1], edges[1:], strict=True)
        ]
        names += [f">={edges[-1]}d"]
        band = pd.Series(np.searchsorted(edges, days, side="right"), index=items.index)
        labels = band[days.notna()].map(dict(enumerate(names)))
        blocks.append(_one_hot(labels, items.index, "released", order=names))
    attributes = pd.concat(blocks, axis=1) if blocks else pd.DataFrame(index=items.index)
    counts = attributes.sum(axis=0)
    rare = [
        c
        for c in attributes.columns
        if c.startswith(("tag=", "provider=")) and counts[c] < min_items
    ]
    attributes = attributes.drop(columns=rare)
    if attributes.shape[1] == 0:
        raise ValueError(
            "items have no usable metadata (genres, tags, provider, year, release_date); "
            "a new item cannot be described."
        )
    return attributes


def _one_hot(labels: pd.Series, index: pd.Index, prefix: str, order=None) -> pd.DataFrame:
    """0/1 frame: one column per distinct label, ``labels`` a Series indexed by item id."""
    names = order if order is not None else sorted(labels.astype(str).unique())
    values = np.zeros((len(index), len(names)))
    values[index.get_indexer(labels.index), pd.Index(names).get_indexer(labels.astype(str))] = 1.0
    return pd.DataFrame(values, index=index, columns=[f"{prefix}={name}" for name in names])


def _attribute_matrix(attributes, n_items: int) -> np.ndarray:
    values = np.asarray(attributes, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != n_items:
        raise ValueError(
            f"attributes must have one row per item column of X ({n_items}); got shape "
            f"{values.shape}. Build them with item_attributes(dataset.items.reindex(matrix.item_ids))."
        )
    if not np.isfinite(values).all():
        raise ValueError("attributes hold NaN or infinite values; fill them first.")
    return values


def _check_alpha(alpha) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        raise ValueError(f"alpha (the ridge penalty) must be a positive number; got {alpha!r}.")


def _warm_items(X: sp.csr_matrix) -> np.ndarray:
    warm = np.flatnonzero(np.bincount(X.indices, minlength=X.shape[1]))
    if len(warm) < 2:
        raise ValueError("fewer than two items have interactions; nothing to learn a mapping from.")
    return warm


# --------------------------------------------------------------------------------------
# New items: attribute-to-factor mapping and predicted popularity
# --------------------------------------------------------------------------------------


class AttributeMapping(Recommender):
    """Give new items collaborative vectors predicted from their metadata (Gantner et al. 2010).

    Gantner, Drumond, Freudenthaler, Rendle and Schmidt-Thieme, "Learning Attribute-to-Feature
    Mappings for Cold-Start Recommendations", ICDM 2010. Lesson 05
    (``notebooks/05_cold_start.ipynb``).

    1. Fit the collaborative ``base`` model on ``X``; it gives user vectors ``x_u`` and item
       vectors ``y_i`` with ``score(u, i) = x_u . y_i``: for :class:`~recsys_lessons.models.ALS`
       its factors; for :class:`~recsys_lessons.models.EASE` ``x_u`` = the user's row of ``X``
       and ``y_i`` = column ``i`` of ``B`` (how every item votes for ``i``).
    2. On the warm items (at least one interaction in ``X``) fit a ridge regression from the
       attributes ``a_i`` to the vectors: ``min_W sum_i |y_i - W a_i - w_0|^2 + alpha |W|^2``.
    3. Score with ``y_i`` for warm items and the mapped ``y_hat_i = W a_i + w_0`` for items
       without interactions (the cold ones), so existing users' vectors rank new items.

    Parameters
    ----------
    base : ALS or EASE
        The collaborative model (unfitted; it is fitted on ``X``).
    attributes : pandas.DataFrame or ndarray, shape (n_items, n_attributes)
        Row ``i`` describes column ``i`` of ``X`` (see :func:`item_attributes`).
    alpha : float > 0
        Ridge penalty of the mapping.

    Attributes
    ----------
    base_ : the fitted base model
    warm_items_ : ndarray of int
        Columns with at least one interaction; the mapping was fitted on them.
    user_vectors_ : ndarray or sparse matrix, shape (n_users, d)
    item_vectors_ : ndarray, shape (n_items, d)
        The base model's learned ``y_i`` (meaningless for cold items).
    mapped_vectors_ : ndarray, shape (n_items, d)
        ``y_hat_i`` for every item, warm ones included (compare them with ``item_vectors_``
        to see what the map loses: :meth:`score_mapped`).
    """

    def __init__(self, base, attributes, alpha: float = 1.0):
        self.base = base
        self.attributes = attributes
        self.alpha = alpha

    def _fit(self, X: sp.csr_matrix) -> None:
        if not isinstance(self.base, (ALS, EASE)):
            raise ValueError(
                f"base must be an ALS or EASE model, got {type(self.base).__name__}; both give "
                "item vectors a mapping can learn."
            )
        _check_alpha(self.alpha)
        attributes = _attribute_matrix(self.attributes, X.shape[1])
        self.base_ = self.base.fit(X)
        self.user_vectors_, self.item_vectors_ = _user_and_item_vectors(self.base_)
        self.warm_items_ = _warm_items(X)
        ridge = Ridge(alpha=self.alpha).fit(
            attributes[self.warm_items_], self.item_vectors_[self.warm_items_]
        )
        self.mapped_vectors_ = ridge.predict(attributes)
        self.scoring_vectors_ = self.mapped_vectors_.copy()
        self.scoring_vectors_[self.warm_items_] = self.item_vectors_[self.warm_items_]

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.user_vectors_[users] @ self.scoring_vectors_.T)

    def score_mapped(self, users=None) -> np.ndarray:
        """Scores with the *mapped* vector of every item, warm items included.

        On warm items, comparing these scores with the base model's shows what the mapping
        loses: everything about an item that its metadata does not say.
        """
        users = self._check_users(users)
        return np.asarray(self.user_vectors_[users] @ self.mapped_vectors_.T, dtype=np.float64)


def _user_and_item_vectors(model):
    if isinstance(model, EASE):
        return model.X_, model.weights_.T
    return (
        np.asarray(model.user_factors_, dtype=np.float64),
        np.asarray(model.item_factors_, dtype=np.float64),
    )


class PredictedPopularity(Recommender):
    """The new-releases shelf: rank items by the popularity their metadata predicts.

    ``log(1 + count_i)`` of the warm items (``count_i`` = users who interacted with ``i``) is
    regressed on their attributes by ridge regression; a cold item scores its prediction,
    a warm item its actual ``log(1 + count_i)``. The same list for everybody: the honest
    baseline a personalized cold-item method must beat. Lesson 05.

    Parameters
    ----------
    attributes : pandas.DataFrame or ndarray, shape (n_items, n_attributes)
        Row ``i`` describes column ``i`` of ``X`` (see :func:`item_attributes`).
    alpha : float > 0
        Ridge penalty.

    Attributes
    ----------
    predicted_ : ndarray, shape (n_items,)
        Predicted ``log(1 + count)`` of every item.
    """

    def __init__(self, attributes, alpha: float = 1.0):
        self.attributes = attributes
        self.alpha = alpha

    def _fit(self, X: sp.csr_matrix) -> None:
        _check_alpha(self.alpha)
        attributes = _attribute_matrix(self.attributes, X.shape[1])
        log_counts = np.log1p(np.bincount(X.indices, minlength=X.shape[1]))
        warm = _warm_items(X)
        ridge = Ridge(alpha=self.alpha).fit(attributes[warm], log_counts[warm])
        self.predicted_ = ridge.predict(attributes)
        self.item_scores_ = self.predicted_.copy()
        self.item_scores_[warm] = log_counts[warm]

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.item_scores_, (len(users), self.n_items_))


# --------------------------------------------------------------------------------------
# New users: segment popularity
# --------------------------------------------------------------------------------------


def segment_labels(users: pd.DataFrame, columns, age_edges=(25, 35, 45, 55)) -> pd.Series:
    """One segment label per user, joining the values of ``columns`` ("25-34|F").

    A numeric ``age`` column is cut into bands at ``age_edges`` (``<25``, ``25-34``, ...,
    ``55+``). Users with a missing value get the label ``"unknown"``.
    """
    if not isinstance(users, pd.DataFrame):
        raise ValueError("users must be a DataFrame with one row per user (dataset.users).")
    columns = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in columns if c not in users.columns]
    if not columns or missing:
        raise ValueError(
            f"choose segment columns among {list(users.columns)}; {missing or 'none'} given."
        )
    parts = []
    for column in columns:
        values = users[column]
        if column == "age" and pd.api.types.is_numeric_dtype(values):
            edges = list(age_edges)
            names = [f"<{edges[0]}"] + [
                f"{a}-{b - 1}" for a, b in zip(edges[:-1], edges[1:], strict=True)
            ]
            names.append(f"{edges[-1]}+")
            values = pd.Series(
                np.array(names, dtype=object)[np.searchsorted(edges, values, side="right")],
                index=users.index,
            ).where(users[column].notna())
        parts.append(values.astype("string"))
    labels = parts[0].str.cat(parts[1:], sep="|") if len(parts) > 1 else parts[0]
    return labels.fillna("unknown").astype(str).rename("segment")


class SegmentPopularity(Recommender):
    """Most popular items among the users of the same segment (age band, region, ...).

    ``score(u, i) = |{v in segment(u) : X[v, i] != 0}| / |segment(u)| + tiny * count_i``:
    the share of the segment who interacted with ``i``, ties broken by global popularity.
    A segment never seen in training falls back to global popularity. Lesson 05.

    Fairness caveat: a segment is a stereotype. It serves the segment's majority taste, so a
    user unlike their segment (a 60-year-old who loves animation) gets a worse list than
    global popularity would give, and small segments get noisy lists. Measure it per group.

    Parameters
    ----------
    segments : array-like of str, shape (n_users,)
        Segment of each row of ``X`` (e.g. :func:`segment_labels`).

    Attributes
    ----------
    segment_names_ : ndarray of str
    segment_scores_ : ndarray, shape (n_segments, n_items)
    """

    def __init__(self, segments):
        self.segments = segments

    def _fit(self, X: sp.csr_matrix) -> None:
        segments = np.asarray(self.segments, dtype=object)
        if segments.shape != (X.shape[0],):
            raise ValueError(
                f"segments must give one label per row of X ({X.shape[0]}); got shape "
                f"{segments.shape}."
            )
        self.segment_names_, codes = np.unique(segments.astype(str), return_inverse=True)
        binary = X.copy()
        binary.data[:] = 1.0
        members = sp.csr_matrix(
            (np.ones(len(codes)), (codes, np.arange(len(codes)))),
            shape=(len(self.segment_names_), X.shape[0]),
        )
        shares = np.asarray((members @ binary).todense()) / np.bincount(codes)[:, None]
        counts = np.asarray(binary.sum(axis=0)).ravel()
        self.global_scores_ = counts / X.shape[0]
        tie_break = 1e-9 * counts / max(counts.max(), 1.0)
        self.segment_scores_ = shares + tie_break
        self.codes_ = codes

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.segment_scores_[self.codes_[users]]

    def score_segments(self, labels) -> np.ndarray:
        """Scores for new users given only their segment labels: ``(len(labels), n_items)``."""
        self._require_fitted()
        labels = np.atleast_1d(np.asarray(labels, dtype=object)).astype(str)
        position = np.searchsorted(self.segment_names_, labels)
        position = np.minimum(position, len(self.segment_names_) - 1)
        known = self.segment_names_[position] == labels
        return np.where(
            known[:, None], self.segment_scores_[position], self.global_scores_[None, :]
        )


# --------------------------------------------------------------------------------------
# New users: the onboarding questionnaire (Rashid et al. 2002)
# --------------------------------------------------------------------------------------


def item_entropy(R) -> np.ndarray:
    """Entropy (bits) of each item's distribution of rating values.

    ``H(i) = - sum over values r of p_ir * log2(p_ir)``, with ``p_ir`` the share of item
    ``i``'s ratings equal to ``r`` (only users who rated ``i`` count; empty cells are not
    a rating). 0 for an item everyone rates the same, ``log2(5)`` when 1..5 stars are equally
    common. A high entropy means opinions differ: the answer tells us something about the user.
    Items without ratings get 0.
    """
    R = as_interaction_csr(R, "R").tocsc()
    values = np.rint(R.data).astype(np.int64)
    if values.size and values.min() < 0:
        raise ValueError("ratings must be non-negative values such as 1..5 stars.")
    items = np.repeat(np.arange(R.shape[1]), np.diff(R.indptr))
    n_values = values.max() + 1
    counts = np.bincount(items * n_values + values, minlength=R.shape[1] * n_values).reshape(
        R.shape[1], n_values
    )
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    logs = np.log2(shares, out=np.zeros(shares.shape), where=shares > 0)
    return -(shares * logs).sum(axis=1) + 0.0


def question_order(R, strategy: str = "popularity_entropy") -> np.ndarray:
    """Items in the order an onboarding questionnaire asks about them, best first.

    Rashid et al., "Getting to Know You: Learning New User Preferences in Recommender
    Systems", IUI 2002. With ``count_i`` the number of ratings of item ``i``:

    - ``"popularity"``: ``count_i`` (most users can answer);
    - ``"entropy"``: :func:`item_entropy` (the answer is informative, but few can give it);
    - ``"popularity_entropy"``: ``log(count_i) * entropy_i``, the balance of both.

    Ties go to the lower item index.
    """
    if strategy not in QUESTION_STRATEGIES:
        raise ValueError(f"strategy must be one of {QUESTION_STRATEGIES}; got {strategy!r}.")
    R = as_interaction_csr(R, "R")
    counts = np.bincount(R.indices, minlength=R.shape[1]).astype(np.float64)
    if strategy == "popularity":
        score = counts
    elif strategy == "entropy":
        score = item_entropy(R)
    else:
        score = np.log(np.maximum(counts, 1.0)) * item_entropy(R)
    return np.lexsort((np.arange(len(score)), -score))


def onboarding_answers(order, held_out, n_answers: int):
    """Simulate the questionnaire: ask items in ``order`` until each user has answered ``n_answers``.

    A user can answer about an item they interacted with in ``held_out`` (their future, which
    stands in for what they already know); the answers are those interactions. Users who run
    out of known items answer fewer.

    Parameters
    ----------
    order : array-like of int
        Item indices in the order asked (:func:`question_order`).
    held_out : scipy.sparse matrix, shape (n_users, n_items)
        Each new user's interactions.
    n_answers : int >= 1

    Returns
    -------
    answers : scipy.sparse.csr_matrix, shape (n_users, n_items)
        The answered items with their ``held_out`` values.
    n_asked : ndarray of int, shape (n_users,)
        Questions shown until the last answer: the cost for the user.
    """
    if isinstance(n_answers, bool) or not isinstance(n_answers, numbers.Integral) or n_answers < 1:
        raise ValueError(f"n_answers must be a positive integer; got {n_answers!r}.")
    held_out = sp.csr_matrix(held_out, dtype=np.float32)
    held_out.eliminate_zeros()
    order = np.asarray(order)
    if sorted(order.tolist()) != list(range(held_out.shape[1])):
        raise ValueError("order must list every item index exactly once (see question_order).")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    rows = np.repeat(np.arange(held_out.shape[0]), np.diff(held_out.indptr))
    item_rank = rank[held_out.indices]
    by_user_then_rank = np.lexsort((item_rank, rows))
    position = np.arange(len(rows)) - held_out.indptr[rows[by_user_then_rank]]
    chosen = by_user_then_rank[position < n_answers]
    answers = sp.csr_matrix(
        (held_out.data[chosen], (rows[chosen], held_out.indices[chosen])), shape=held_out.shape
    )
    n_asked = np.zeros(held_out.shape[0], dtype=np.int64)
    np.maximum.at(n_asked, rows[chosen], item_rank[chosen] + 1)
    return answers, n_asked


# --------------------------------------------------------------------------------------
# New users: scoring from a short history without retraining
# --------------------------------------------------------------------------------------


def als_fold_in(item_factors, history, regularization: float, alpha: float) -> np.ndarray:
    """The ALS user vector of new users, from their history alone (items stay fixed).

    For each user, the exact minimiser of ALS's loss with ``Y = item_factors`` fixed::

        x_u = (Y^T C_u Y + regularization * I)^-1  Y^T C_u p_u
        Y^T C_u Y = Y^T Y + sum over history items i of alpha * r_ui * y_i y_i^T
        Y^T C_u p_u = sum over history items i of (1 + alpha * r_ui) * y_i

    with ``c_ui = 1 + alpha * r_ui`` as in :class:`~recsys_lessons.models.ALS`. Only the
    user's own items enter the sums; ``Y^T Y`` is shared by everybody. This is what
    ``implicit``'s ``recalculate_user`` computes (given the confidences ``1 + alpha * r``).
    Users with an empty history get the zero vector. Lesson 05.

    Parameters
    ----------
    item_factors : ndarray, shape (n_items, factors)
    history : scipy.sparse matrix, shape (n_users, n_items)
        Interaction strengths ``r_ui`` (1.0 per event for binary data).
    regularization, alpha : float
        The values the ALS model was trained with.

    Returns
    -------
    ndarray, shape (n_users, factors)
    """
    Y = np.asarray(item_factors, dtype=np.float64)
    history = sp.csr_matrix(history, dtype=np.float64)
    history.eliminate_zeros()
    if Y.ndim != 2 or history.shape[1] != Y.shape[0]:
        raise ValueError(
            f"history has {history.shape[1]} item columns but item_factors has shape {Y.shape}; "
            "build the history on the model's item columns."
        )
    for name, value in (("regularization", regularization), ("alpha", alpha)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
            raise ValueError(f"{name} must be a number >= 0; got {value!r}.")
    n_users, k = history.shape[0], Y.shape[1]
    base = Y.T @ Y + regularization * np.eye(k)
    vectors = np.zeros((n_users, k))
    counts = np.diff(history.indptr)
    batch_size = max(1, FOLD_IN_BATCH_FLOATS // (k * k))
    start = 0
    while start < n_users:
        # users whose interactions fit in one batch (at least one user)
        limit = history.indptr[start] + batch_size
        stop = max(start + 1, int(np.searchsorted(history.indptr, limit, side="right")) - 1)
        stop = min(stop, n_users)
        users = np.arange(start, stop)
        active = users[counts[users] > 0]
        if len(active):
            block = history[active]
            starts = block.indptr[:-1]
            y = Y[block.indices]
            outer = (alpha * block.data)[:, None, None] * y[:, :, None] * y[:, None, :]
            A = base + np.add.reduceat(outer, starts, axis=0)
            b = np.add.reduceat((1.0 + alpha * block.data)[:, None] * y, starts, axis=0)
            vectors[active] = np.linalg.solve(A, b[:, :, None])[:, :, 0]
        start = stop
    return vectors


def score_new_users(model, history) -> np.ndarray:
    """Scores of every item for new users known only by ``history``, without retraining.

    - :class:`~recsys_lessons.models.ItemKNN`: ``history @ S`` (binarised like the model's
      training matrix when ``binarize``);
    - :class:`~recsys_lessons.models.EASE`: ``history @ B``;
    - :class:`~recsys_lessons.models.ALS`: ``x_u . y_i`` with ``x_u`` from :func:`als_fold_in`.

    Neighbourhood and linear item-item models need no retraining at all: a user is nothing
    but their row. Lesson 05.

    Parameters
    ----------
    model : fitted ItemKNN, EASE or ALS
    history : scipy.sparse matrix, shape (n_new_users, n_items)

    Returns
    -------
    ndarray, shape (n_new_users, n_items)
    """
    if not isinstance(model, (ItemKNN, EASE, ALS)):
        raise ValueError(
            f"score_new_users knows ItemKNN, EASE and ALS; got {type(model).__name__}."
        )
    model._require_fitted()
    history = sp.csr_matrix(history, dtype=np.float64)
    if history.shape[1] != model.n_items_:
        raise ValueError(
            f"history has {history.shape[1]} item columns; the model has {model.n_items_}."
        )
    if isinstance(model, ALS):
        vectors = als_fold_in(model.item_factors_, history, model.regularization, model.alpha)
        return vectors @ np.asarray(model.item_factors_, dtype=np.float64).T
    if isinstance(model, EASE):
        return np.asarray(history @ model.weights_)
    if model.binarize:
        history = history.copy()
        history.data[:] = 1.0
    return (history @ model.similarity_).toarray()


def cold_item_exposure(recommended, cold_items, k: int = 10) -> float:
    """Share of the top-``k`` slots that go to ``cold_items``: how much a new item is shown.

    ``exposure = #(slots in the first k columns holding a cold item) / (n_lists * k)``.
    A model that never saw an item gives it almost none, so it never gets the clicks that
    would make it warm (lesson 09 explores on purpose). Lesson 05.
    """
    recommended = np.asarray(recommended)
    if recommended.ndim != 2 or recommended.shape[1] < k or k < 1:
        raise ValueError(
            f"recommended must be a 2-D array of ranked item indices with at least k={k} columns."
        )
    return float(np.isin(recommended[:, :k], np.asarray(cold_items)).mean())
