"""Cold start for new items: what to recommend of a title nobody has interacted with yet.

Lesson 05 (``notebooks/05_cold_start.ipynb``) measures each answer on splits where the items
are truly unseen (:func:`recsys_lessons.evaluation.split.cold_item_split`). A new item has
metadata only:

- :func:`item_attributes`: the metadata as one 0/1 column per genre, tag, provider, release
  year band and "released N days ago" band;
- :class:`AttributeMapping`: Gantner et al.'s attribute-to-factor mapping, a ridge regression
  from attributes to a trained collaborative model's item vectors (ALS or EASE), so a new
  item gets a vector the existing users' vectors can score;
- :class:`PredictedPopularity`: a ridge regression from attributes to log popularity, the
  honest "new releases" shelf baseline;
- :func:`cold_item_exposure`: how much of the lists new items get.

``alpha`` in this module is the ridge penalty of the regressions, as in scikit-learn's
``Ridge`` (ALS's confidence ``alpha`` lives in :mod:`recsys_lessons.models.implicit_models`).
The attributes can be given to the constructor or to ``fit``; a value given to ``fit`` wins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import Ridge

from recsys_lessons.models.base import Recommender
from recsys_lessons.models.content_based import as_labels
from recsys_lessons.models.ease import EASE
from recsys_lessons.models.implicit_models import ALS
from recsys_lessons.validation import check_k, check_number, check_positive_int, check_recommended

__all__ = [
    "RELEASE_AGE_EDGES",
    "AttributeMapping",
    "PredictedPopularity",
    "cold_item_exposure",
    "item_attributes",
]

#: "Released N days before ``now``" bands of :func:`item_attributes` (upper edges, days).
RELEASE_AGE_EDGES = (60, 120, 240, 365, 730, 1500, 3650)


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
    year_bands = check_positive_int(year_bands, "year_bands", "bands of the release year")
    min_items = check_positive_int(min_items, "min_items", "items a tag or provider needs")
    blocks = []
    for column, prefix in (("genres", "genre"), ("tags", "tag")):
        if column in items.columns:
            labels = pd.Series([as_labels(value) for value in items[column]], index=items.index)
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


def _require_attributes(attributes):
    if attributes is None:
        raise ValueError(
            "the item attributes are missing: pass them to the constructor or to "
            "fit(X, attributes=...), e.g. item_attributes(dataset.items.reindex(matrix.item_ids))."
        )
    return attributes


def _warm_items(X: sp.csr_matrix) -> np.ndarray:
    warm = np.flatnonzero(np.bincount(X.indices, minlength=X.shape[1]))
    if len(warm) < 2:
        raise ValueError("fewer than two items have interactions; nothing to learn a mapping from.")
    return warm


class AttributeMapping(Recommender):
    """Give new items collaborative vectors predicted from their metadata (Gantner et al. 2010).

    Gantner, Drumond, Freudenthaler, Rendle and Schmidt-Thieme, "Learning Attribute-to-Feature
    Mappings for Cold-Start Recommendations", ICDM 2010. Lesson 05
    (``notebooks/05_cold_start.ipynb``).

    1. Fit a clone of the collaborative ``base`` model on ``X`` (``base`` itself is left
       unfitted and unchanged); it gives user vectors ``x_u`` and item
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
        The collaborative model; a clone of it is fitted on ``X``.
    attributes : pandas.DataFrame or ndarray, shape (n_items, n_attributes), optional
        Row ``i`` describes column ``i`` of ``X`` (see :func:`item_attributes`); may be given
        to ``fit`` instead (there it wins).
    alpha : float > 0
        Ridge penalty of the mapping.

    Attributes
    ----------
    base_ : the fitted clone of ``base``
    warm_items_ : ndarray of int
        Columns with at least one interaction; the mapping was fitted on them.
    user_vectors_ : ndarray or sparse matrix, shape (n_users, d)
    item_vectors_ : ndarray, shape (n_items, d)
        The base model's learned ``y_i`` (meaningless for cold items).
    mapped_vectors_ : ndarray, shape (n_items, d)
        ``y_hat_i`` for every item, warm ones included (compare them with ``item_vectors_``
        to see what the map loses: :meth:`score_mapped`).
    """

    def __init__(self, base, attributes=None, alpha: float = 1.0):
        self.base = base
        self.attributes = attributes
        self.alpha = alpha

    def fit(self, X, attributes=None) -> AttributeMapping:
        """Fit a clone of ``base`` on ``X`` and the mapping from attributes to its item vectors.

        ``attributes`` given here win over the constructor's.
        """
        self.attributes_ = self.attributes if attributes is None else attributes
        return super().fit(X)

    def _fit(self, X: sp.csr_matrix) -> None:
        if not isinstance(self.base, (ALS, EASE)):
            raise ValueError(
                f"base must be an ALS or EASE model, got {type(self.base).__name__}; both give "
                "item vectors a mapping can learn."
            )
        check_number(self.alpha, "alpha", low=0, low_open=True)
        attributes = _attribute_matrix(_require_attributes(self.attributes_), X.shape[1])
        self.base_ = clone(self.base).fit(X)
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
    attributes : pandas.DataFrame or ndarray, shape (n_items, n_attributes), optional
        Row ``i`` describes column ``i`` of ``X`` (see :func:`item_attributes`); may be given
        to ``fit`` instead (there it wins).
    alpha : float > 0
        Ridge penalty.

    Attributes
    ----------
    predicted_ : ndarray, shape (n_items,)
        Predicted ``log(1 + count)`` of every item.
    """

    def __init__(self, attributes=None, alpha: float = 1.0):
        self.attributes = attributes
        self.alpha = alpha

    def fit(self, X, attributes=None) -> PredictedPopularity:
        """Fit the regression of log popularity on ``attributes`` (given here, they win)."""
        self.attributes_ = self.attributes if attributes is None else attributes
        return super().fit(X)

    def _fit(self, X: sp.csr_matrix) -> None:
        check_number(self.alpha, "alpha", low=0, low_open=True)
        attributes = _attribute_matrix(_require_attributes(self.attributes_), X.shape[1])
        log_counts = np.log1p(np.bincount(X.indices, minlength=X.shape[1]))
        warm = _warm_items(X)
        ridge = Ridge(alpha=self.alpha).fit(attributes[warm], log_counts[warm])
        self.predicted_ = ridge.predict(attributes)
        self.item_scores_ = self.predicted_.copy()
        self.item_scores_[warm] = log_counts[warm]

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.item_scores_, (len(users), self.n_items_))


def cold_item_exposure(recommended, cold_items, k: int = 10) -> float:
    """Share of the top-``k`` slots that go to ``cold_items``: how much a new item is shown.

    ``exposure = #(slots in the first k columns holding a cold item) / (n_lists * k)``.
    A model that never saw an item gives it almost none, so it never gets the clicks that
    would make it warm (lesson 10 explores on purpose). Lesson 05.
    """
    k = check_k(k)
    recommended = check_recommended(recommended, k)
    return float(np.isin(recommended[:, :k], np.asarray(cold_items)).mean())
