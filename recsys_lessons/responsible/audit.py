"""Auditing a recommender for bias: popularity, consumer and provider fairness, calibration.

Accuracy says how often a list is right on average. An audit asks *for whom* and *at whose
expense*: do users with niche tastes get worse lists than blockbuster fans (consumer
fairness)? Do independent providers get the attention their share of good items deserves
(provider fairness)? Does a user who watches 70 % drama and 30 % comedy get a list in
roughly that proportion (calibration)? Lesson 11
(``notebooks/11_responsible_personalization.ipynb``) teaches every function here.

Conventions: ``recommended`` is a 2-D array of ranked item indices (users x >= k), as in
:mod:`recsys_lessons.metrics`; ``histories`` is the training matrix (users x items, a stored
entry = the user interacted with the item); ``item_genres`` is an items x genres 0/1
matrix (dense or sparse). Every interval comes from :mod:`recsys_lessons.evaluation.stats`.

References
----------
- Abdollahpouri, Mansoury, Burke, Mobasher, "The Unfairness of Popularity Bias in
  Recommendation", RMSE workshop at RecSys 2019: head items, niche / diverse / blockbuster
  users, popularity lift.
- Abdollahpouri, Burke, Mobasher, "Managing Popularity Bias in Recommender Systems with
  Personalized Re-ranking", FLAIRS 2019: APLT (average percentage of long-tail items).
- Ekstrand et al., "All The Cool Kids, How Do They Fit In?", FAT* 2018: accuracy by
  demographic group.
- Singh & Joachims, "Fairness of Exposure in Rankings", KDD 2018: position-discounted
  exposure of groups.
- Steck, "Calibrated Recommendations", RecSys 2018: the calibration KL divergence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons import metrics
from recsys_lessons.evaluation.stats import (
    Interval,
    bootstrap_interval,
    unpaired_bootstrap_interval,
)
from recsys_lessons.validation import (
    check_interaction_pattern,
    check_item_popularity,
    check_ranked_lists,
    check_ratio,
)

__all__ = [
    "MAINSTREAM_GROUPS",
    "audit_report",
    "average_percentage_long_tail",
    "calibration_kl",
    "exposure_by_group",
    "genre_distribution",
    "group_gap",
    "head_items",
    "homogenization",
    "item_genre_shares",
    "long_tail_exposure",
    "mainstream_groups",
    "plot_report",
    "popularity_lift",
    "popularity_miscalibration",
    "position_attention",
]

#: User groups by how mainstream their history is, least mainstream first.
MAINSTREAM_GROUPS = ("niche", "diverse", "blockbuster")


# --------------------------------------------------------------------------------------
# Popularity bias
# --------------------------------------------------------------------------------------


def head_items(item_popularity, head_share: float = 0.2) -> np.ndarray:
    """Boolean mask of the short head: the ``ceil(head_share * n_items)`` most popular items.

    The other items form the long tail. Ties in popularity go to the lower item index, so
    the head always holds exactly that many items (Abdollahpouri et al. 2019 use the top
    20 % of items).

    Parameters
    ----------
    item_popularity : array-like of shape (n_items,)
        Interaction counts in the training data.
    head_share : float in (0, 1)
        Share of the catalogue that counts as head.
    """
    popularity = check_item_popularity(item_popularity)
    check_ratio(head_share, "head_share")
    n_head = int(np.ceil(head_share * popularity.size))
    order = np.argsort(-popularity, kind="stable")
    head = np.zeros(popularity.size, dtype=bool)
    head[order[:n_head]] = True
    return head


def average_percentage_long_tail(recommended, head, k: int = 10, per_user: bool = False):
    """APLT: share of each top-k list that comes from the long tail.

    ``APLT@k = mean over users of |{i in top-k(u) : i not in head}| / k``

    Parameters
    ----------
    recommended : array-like of int, shape (n_users, >= k)
    head : array-like of bool, shape (n_items,)
        Short-head mask, e.g. from :func:`head_items`.
    """
    head = _mask(head, "head")
    top = check_ranked_lists(recommended, k, n_items=head.size)
    per_list = (~head[top]).mean(axis=1)
    return per_list if per_user else float(per_list.mean())


def position_attention(k: int) -> np.ndarray:
    """Attention a user pays to ranks 1..k: ``1 / log2(rank + 1)`` (the nDCG discount)."""
    return 1.0 / np.log2(np.arange(2, k + 2))


def long_tail_exposure(recommended, head, k: int = 10) -> float:
    """Share of all position-discounted attention that goes to long-tail items.

    ``sum over lists and ranks r of a_r [item not in head] / sum over lists and ranks of a_r``
    with ``a_r = 1 / log2(r + 1)``. Unlike APLT, a long-tail item at rank 10 counts less than
    one at rank 1.
    """
    head = _mask(head, "head")
    top = check_ranked_lists(recommended, k, n_items=head.size)
    attention = position_attention(k)
    return float(((~head[top]) @ attention).sum() / (attention.sum() * top.shape[0]))


def mainstream_groups(histories, head, shares=(0.2, 0.2)) -> np.ndarray:
    """Label users niche / diverse / blockbuster by the head share of their history.

    Each user's mainstreamness is ``|history(u) and head| / |history(u)|``. The
    ``shares[0]`` least mainstream users are "niche", the ``shares[1]`` most mainstream are
    "blockbuster", the rest "diverse" (Abdollahpouri et al. 2019 use 20 % / 20 %). Users
    are ranked by that ratio, ties by index, so the group sizes are exact.

    Returns
    -------
    ndarray of str, shape (n_users,)
    """
    history = check_interaction_pattern(histories, "histories")
    head = _mask(head, "head", history.shape[1])
    low, high = shares
    if low <= 0 or high <= 0 or low + high >= 1:
        raise ValueError(f"shares must be two positive shares summing below 1; got {shares!r}.")
    sizes = history.getnnz(axis=1)
    if (sizes == 0).any():
        raise ValueError(
            f"user row {int(np.argmin(sizes))} has an empty history; mainstreamness needs at "
            "least one interaction per user (drop users without training data)."
        )
    ratio = (history @ head.astype(np.float64)) / sizes
    rank = np.empty(ratio.size, dtype=np.int64)
    rank[np.argsort(ratio, kind="stable")] = np.arange(ratio.size)
    groups = np.full(ratio.size, MAINSTREAM_GROUPS[1], dtype=object)
    groups[rank < round(low * ratio.size)] = MAINSTREAM_GROUPS[0]
    groups[rank >= ratio.size - round(high * ratio.size)] = MAINSTREAM_GROUPS[2]
    return groups.astype(str)


def popularity_lift(recommended, histories, item_popularity, k: int = 10, per_user=False):
    """How much more popular the list is than what the user watched.

    ``GAP_profile(u) = mean popularity of the items in history(u)``
    ``GAP_list(u) = mean popularity of the top-k items``
    ``lift(u) = (GAP_list(u) - GAP_profile(u)) / GAP_profile(u)``

    A lift of 1.5 means the list is 2.5 times as popular as the user's own taste. Returns
    the mean lift, or per user.
    """
    popularity = check_item_popularity(item_popularity)
    history = check_interaction_pattern(histories, "histories", n_items=popularity.size)
    profile = _row_means(history, popularity)
    listed = metrics.average_recommendation_popularity(recommended, popularity, k=k, per_user=True)
    if listed.size != profile.size:
        raise ValueError(_user_mismatch(listed.size, profile.size))
    lift = (listed - profile) / np.maximum(profile, np.finfo(float).tiny)
    return lift if per_user else float(lift.mean())


def popularity_miscalibration(recommended, histories, head, k: int = 10, per_user=False):
    """Jensen-Shannon divergence between the head / tail mix of history and list.

    With ``p = (share of head, share of tail)`` in the user's history and ``q`` the same in
    the top-k list, ``JS(p, q) = KL(p || m) / 2 + KL(q || m) / 2`` with ``m = (p + q) / 2``
    and log base 2, so it lies in [0, 1]: 0 when the list has the user's own popularity mix
    (Abdollahpouri et al., "The Connection Between Popularity Bias, Calibration, and
    Fairness", 2020, use the same measure).
    """
    head = _mask(head, "head")
    history = check_interaction_pattern(histories, "histories", n_items=head.size)
    top = check_ranked_lists(recommended, k, n_items=head.size)
    if top.shape[0] != history.shape[0]:
        raise ValueError(_user_mismatch(top.shape[0], history.shape[0]))
    p_head = _row_means(history, head.astype(np.float64))
    q_head = head[top].mean(axis=1)
    p = np.column_stack([p_head, 1 - p_head])
    q = np.column_stack([q_head, 1 - q_head])
    m = (p + q) / 2
    js = (_kl_terms(p, m, np.log2) + _kl_terms(q, m, np.log2)) / 2
    return js if per_user else float(js.mean())


# --------------------------------------------------------------------------------------
# Consumer fairness: any per-user metric by group
# --------------------------------------------------------------------------------------


def group_gap(
    per_user_values, groups, n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """Mean of a per-user metric in every user group, with bootstrap intervals and the gap.

    Each group's interval is :func:`recsys_lessons.evaluation.stats.bootstrap_interval` of its
    users' values. The ``gap`` column is ``group mean - mean of the best group`` (0 for the
    best group, negative for the others), and ``gap_low`` / ``gap_high`` its interval from
    :func:`recsys_lessons.evaluation.stats.unpaired_bootstrap_interval`: both groups' users are
    resampled independently, as they are different people. The best group's gap is 0 by
    definition, so its interval is exactly ``[0, 0]``. Users whose value is NaN (no relevant
    test item) are left out, as in :mod:`recsys_lessons.metrics`.

    Parameters
    ----------
    per_user_values : array-like of float, shape (n_users,)
        E.g. ``ndcg_at_k(..., per_user=True)``.
    groups : array-like, shape (n_users,)
        A group label per user (gender, age band, niche / diverse / blockbuster...).

    Returns
    -------
    pandas.DataFrame
        One row per group (sorted by label): ``group, n_users, mean, low, high, gap,
        gap_low, gap_high``.
    """
    values = np.asarray(per_user_values, dtype=np.float64)
    labels = np.asarray(groups)
    if values.ndim != 1 or labels.shape != values.shape:
        raise ValueError(
            f"per_user_values ({values.shape}) and groups ({labels.shape}) must be 1-D with "
            "one entry per user, in the same user order."
        )
    keep = ~np.isnan(values)
    values, labels = values[keep], labels[keep]
    names = np.unique(labels)
    if names.size < 2:
        raise ValueError(
            f"group_gap needs at least two groups with evaluated users; got {names.tolist()}."
        )
    members = {name: values[labels == name] for name in names}
    too_small = [str(name) for name, group in members.items() if group.size < 2]
    if too_small:
        raise ValueError(f"groups {too_small} have fewer than 2 evaluated users; merge them.")
    rows = []
    for name, group in members.items():
        interval = bootstrap_interval(group, n_resamples, confidence, seed)
        rows.append((name, group.size, interval.estimate, interval.low, interval.high))
    table = pd.DataFrame(rows, columns=["group", "n_users", "mean", "low", "high"])
    best_name = table.loc[table["mean"].idxmax(), "group"]
    gaps = []
    for name, group in members.items():
        if name == best_name:
            gap = Interval(0.0, 0.0, 0.0, confidence)
        else:
            gap = unpaired_bootstrap_interval(
                group, members[best_name], n_resamples, confidence, seed
            )
        gaps.append((gap.estimate, gap.low, gap.high))
    table[["gap", "gap_low", "gap_high"]] = gaps
    return table


# --------------------------------------------------------------------------------------
# Provider fairness: exposure of item groups
# --------------------------------------------------------------------------------------


def exposure_by_group(recommended, item_groups, relevant=None, k: int = 10) -> pd.DataFrame:
    """Position-discounted attention each item group receives, beside what it "deserves".

    Every slot of rank ``r`` gives its item the attention ``a_r = 1 / log2(r + 1)`` (users
    look at the top of a list far more than at its bottom). For a group ``G``:

    - ``exposure_share = sum of a_r over slots holding an item of G / sum of all a_r``
    - ``slot_share``: the same without the discount (share of slots), for contrast;
    - ``catalogue_share = |G| / n_items``;
    - ``relevant_share``: share of the relevant (user, item) pairs whose item is in ``G``
      (only with ``relevant``), what Singh & Joachims (2018) compare exposure with.

    Parameters
    ----------
    recommended : array-like of int, shape (n_users, >= k)
    item_groups : array-like, shape (n_items,)
        A label per item (provider, head / tail...).
    relevant : sparse matrix (n_users, n_items), optional
        Held-out relevant items, e.g. the test matrix.

    Returns
    -------
    pandas.DataFrame
        One row per group (sorted by label): ``group, n_items, catalogue_share,
        relevant_share (if relevant given), slot_share, exposure_share``.
    """
    labels = np.asarray(item_groups)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError("item_groups must be a 1-D array with one label per item.")
    top = check_ranked_lists(recommended, k, n_items=labels.size)
    names, codes = np.unique(labels, return_inverse=True)
    attention = np.broadcast_to(position_attention(k), top.shape)
    table = pd.DataFrame({"group": names, "n_items": np.bincount(codes, minlength=names.size)})
    table["catalogue_share"] = table["n_items"] / labels.size
    if relevant is not None:
        pattern = check_interaction_pattern(relevant, "relevant", n_items=labels.size)
        if pattern.nnz == 0:
            raise ValueError("relevant holds no items; pass the held-out interactions.")
        counts = np.bincount(codes[pattern.indices], minlength=names.size)
        table["relevant_share"] = counts / pattern.nnz
    slots = np.bincount(codes[top].ravel(), minlength=names.size)
    table["slot_share"] = slots / top.size
    weighted = np.bincount(codes[top].ravel(), weights=attention.ravel(), minlength=names.size)
    table["exposure_share"] = weighted / attention.sum()
    return table


# --------------------------------------------------------------------------------------
# Calibration (Steck 2018)
# --------------------------------------------------------------------------------------


def item_genre_shares(item_genres) -> np.ndarray:
    """``p(g|i)``: each item's genres as a row summing to 1 (all-zero rows stay zero).

    ``p(g|i) = 1 / |genres(i)|`` for each genre ``g`` of item ``i``, else 0: the building
    block of :func:`genre_distribution` and of calibrated re-ranking.
    """
    genres = item_genres.toarray() if sp.issparse(item_genres) else np.asarray(item_genres)
    if genres.ndim != 2 or not np.isfinite(genres.astype(np.float64)).all():
        raise ValueError("item_genres must be a finite 2-D items x genres 0/1 matrix.")
    genres = (genres != 0).astype(np.float64)
    counts = genres.sum(axis=1, keepdims=True)
    return np.divide(genres, counts, out=np.zeros_like(genres), where=counts > 0)


def genre_distribution(item_sets, item_genres) -> np.ndarray:
    """Per-user genre distribution of a set of items, every item weighted equally.

    Each item spreads a weight of 1 uniformly over its genres (``p(g|i) = 1 / |genres(i)|``)
    and the user's distribution is the mean over the items:
    ``p(g|u) = (1 / |I_u|) * sum over i in I_u of p(g|i)``.

    Parameters
    ----------
    item_sets : sparse matrix (n_users, n_items) or 2-D int array of item indices
        A history matrix (stored entries are the items) or ranked lists.
    item_genres : array-like or sparse matrix, shape (n_items, n_genres)
        Non-zero where an item has a genre; every item used must have at least one.

    Returns
    -------
    ndarray, shape (n_users, n_genres); each row sums to 1.
    """
    per_item = item_genre_shares(item_genres)
    if sp.issparse(item_sets) or hasattr(item_sets, "X"):
        membership = check_interaction_pattern(item_sets, "histories", n_items=per_item.shape[0])
    else:
        lists = np.asarray(item_sets)
        top = check_ranked_lists(
            lists, lists.shape[1] if lists.ndim == 2 else 0, n_items=per_item.shape[0]
        )
        n_users, width = top.shape
        membership = sp.csr_matrix(
            (np.ones(top.size), top.ravel(), np.arange(0, top.size + 1, width)),
            shape=(n_users, per_item.shape[0]),
        )
    sizes = membership.getnnz(axis=1)
    if (sizes == 0).any():
        raise ValueError(
            f"user row {int(np.argmin(sizes))} has no items; a genre distribution needs at "
            "least one item per user."
        )
    ungenred = membership.indices[per_item.sum(axis=1)[membership.indices] == 0]
    if ungenred.size:
        raise ValueError(
            f"item {int(ungenred[0])} has no genre; give such items a genre such as "
            "'(unknown)' so that its weight has somewhere to go."
        )
    return np.asarray(membership @ per_item) / sizes[:, None]


def calibration_kl(recommended, histories, item_genres, alpha: float = 0.01, k: int = 10):
    """Steck's miscalibration: KL divergence from the history's genre mix to the list's.

    ``p(g|u)``: genre distribution of the user's history, ``q(g|u)``: of the top-k list
    (both from :func:`genre_distribution`: each item spreads 1 over its genres, items
    weighted equally). ``q`` is smoothed towards ``p`` so the divergence stays finite:

    ``q~(g|u) = (1 - alpha) * q(g|u) + alpha * p(g|u)``

    ``C_KL(u) = sum over genres g with p(g|u) > 0 of p(g|u) * ln(p(g|u) / q~(g|u))``

    (natural log; 0 when the list has exactly the history's genre mix). Steck,
    "Calibrated Recommendations", RecSys 2018.

    Returns
    -------
    ndarray, shape (n_users,)
        One value per user (take ``.mean()`` for the model's miscalibration).
    """
    check_ratio(alpha, "alpha (Steck uses 0.01)")
    top = check_ranked_lists(recommended, k)
    p = genre_distribution(histories, item_genres)
    q = genre_distribution(top, item_genres)
    if p.shape != q.shape:
        raise ValueError(_user_mismatch(q.shape[0], p.shape[0]))
    return _kl_terms(p, (1 - alpha) * q + alpha * p, np.log)


# --------------------------------------------------------------------------------------
# Homogenization
# --------------------------------------------------------------------------------------


def homogenization(recommended, k: int = 10) -> float:
    """Mean share of a top-k list that another user's list also holds.

    ``H = mean over pairs of different users (u, v) of |top-k(u) and top-k(v)| / k``

    1 when everybody gets the same list, close to 0 when lists never overlap (Chaney,
    Stewart & Engelhardt, RecSys 2018, measure homogenization by such overlaps). Computed
    exactly without forming pairs: an item shown to ``c`` users is shared by ``c (c - 1) / 2``
    pairs, so ``H = sum_i c_i (c_i - 1) / 2 / (k * n (n - 1) / 2)``.
    """
    top = check_ranked_lists(recommended, k)
    n_users = top.shape[0]
    if n_users < 2:
        raise ValueError("homogenization compares pairs of users; pass at least two lists.")
    counts = np.bincount(top.ravel()).astype(np.float64)
    return float((counts * (counts - 1)).sum() / (k * n_users * (n_users - 1)))


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------


def audit_report(
    recommendations: dict,
    train,
    test,
    *,
    item_genres=None,
    user_groups: dict | None = None,
    item_groups=None,
    k: int = 10,
    head_share: float = 0.2,
    n_resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Every audit figure for several models in one tidy table.

    Parameters
    ----------
    recommendations : dict of name -> array (n_users, >= k)
        Each model's ranked lists for all users of ``train`` (rows = user indices).
    train, test : sparse matrix (n_users, n_items)
        Training interactions (popularity, histories) and held-out relevant items.
    item_genres : items x genres matrix, optional
        Adds ``calibration_kl``.
    user_groups : dict of name -> labels (n_users,), optional
        E.g. ``{"gender": ..., "age": ...}``; nDCG@k by group with intervals and gaps. The
        niche / diverse / blockbuster grouping is always included as ``"mainstream"``.
    item_groups : labels (n_items,), optional
        Provider groups; adds each group's exposure share.

    Returns
    -------
    pandas.DataFrame
        Columns ``model, metric, grouping, group, value, low, high``: one row per figure.
        Overall figures have ``grouping = group = "all"``; ``low`` / ``high`` hold the 95 %
        bootstrap interval where there is one (NaN otherwise). Metrics: ``ndcg@k``, ``arp``,
        ``aplt``, ``long_tail_exposure``, ``coverage``, ``gini``, ``popularity_lift``,
        ``popularity_miscalibration``, ``calibration_kl``, ``ndcg_gap`` (per group, gap to
        the best group) and ``exposure_share`` (per item group).

    Raises
    ------
    ValueError
        If ``recommendations`` is not a non-empty dict (an empty one would give an empty
        table), a list is malformed, or ``train`` and ``test`` disagree.

    Examples
    --------
    Twenty users, twelve items; popularity shows everyone the same five films:

    >>> import scipy.sparse as sp
    >>> rng = np.random.default_rng(0)
    >>> watched = (rng.random((20, 12)) < 0.3) | (np.arange(12) == np.arange(20)[:, None] % 12)
    >>> liked = (rng.random((20, 12)) < 0.3) & ~watched
    >>> train, test = sp.csr_matrix(watched), sp.csr_matrix(liked)
    >>> popular = np.argsort(-train.getnnz(axis=0), kind="stable")[:5]
    >>> shuffled = rng.permuted(np.tile(np.arange(12), (20, 1)), axis=1)[:, :5]
    >>> lists = {"popularity": np.tile(popular, (20, 1)), "random": shuffled}
    >>> report = audit_report(lists, train, test, k=5, n_resamples=200)
    >>> overall = report.query("grouping == 'all'")
    >>> overall.pivot(index="metric", columns="model", values="value").loc[
    ...     ["coverage", "aplt", "gini"]
    ... ].round(2)
    model     popularity  random
    metric
    coverage        0.42    1.00
    aplt            0.40    0.74
    gini            0.58    0.19
    """
    if not isinstance(recommendations, dict) or not recommendations:
        raise ValueError(
            "recommendations must be a non-empty dict of model name -> ranked lists, e.g. "
            f"{{'als': als_lists}}; got {recommendations!r:.80}."
        )
    history = check_interaction_pattern(train, "train")
    relevant = check_interaction_pattern(test, "test", n_items=history.shape[1])
    if relevant.shape[0] != history.shape[0]:
        raise ValueError("train and test must have the same users (rows) in the same order.")
    popularity = history.getnnz(axis=0)
    head = head_items(popularity, head_share)
    groupings = {"mainstream": mainstream_groups(history, head)}
    groupings.update(user_groups or {})
    rows = []

    def add(model, metric, value, low=np.nan, high=np.nan, grouping="all", group="all"):
        rows.append((model, metric, grouping, group, float(value), float(low), float(high)))

    for model, recommended in recommendations.items():
        top = check_ranked_lists(recommended, k, n_items=history.shape[1])
        if top.shape[0] != history.shape[0]:
            raise ValueError(f"{model}: " + _user_mismatch(top.shape[0], history.shape[0]))
        ndcg = metrics.ndcg_at_k(top, relevant, k=k, per_user=True)
        evaluated = ndcg[~np.isnan(ndcg)]
        interval = bootstrap_interval(evaluated, n_resamples, seed=seed)
        add(model, f"ndcg@{k}", interval.estimate, interval.low, interval.high)
        add(model, "arp", metrics.average_recommendation_popularity(top, popularity, k=k))
        add(model, "aplt", average_percentage_long_tail(top, head, k=k))
        add(model, "long_tail_exposure", long_tail_exposure(top, head, k=k))
        add(model, "coverage", metrics.catalog_coverage(top, history.shape[1], k=k))
        add(model, "gini", metrics.gini_index(top, history.shape[1], k=k))
        add(model, "popularity_lift", popularity_lift(top, history, popularity, k=k))
        add(model, "popularity_miscalibration", popularity_miscalibration(top, history, head, k=k))
        if item_genres is not None:
            kl = calibration_kl(top, history, item_genres, k=k)
            interval = bootstrap_interval(kl, n_resamples, seed=seed)
            add(model, "calibration_kl", interval.estimate, interval.low, interval.high)
        for grouping, labels in groupings.items():
            gaps = group_gap(ndcg, labels, n_resamples=n_resamples, seed=seed)
            for row in gaps.itertuples():
                add(model, f"ndcg@{k}", row.mean, row.low, row.high, grouping, row.group)
                add(model, "ndcg_gap", row.gap, row.gap_low, row.gap_high, grouping, row.group)
        if item_groups is not None:
            exposure = exposure_by_group(top, item_groups, relevant, k=k)
            for row in exposure.itertuples():
                add(
                    model,
                    "exposure_share",
                    row.exposure_share,
                    grouping="provider",
                    group=row.group,
                )
    return pd.DataFrame(
        rows, columns=["model", "metric", "grouping", "group", "value", "low", "high"]
    )


# --------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------


def _mask(values, name, n_items=None) -> np.ndarray:
    mask = np.asarray(values)
    if mask.dtype != bool or mask.ndim != 1:
        raise ValueError(f"{name} must be a 1-D boolean mask over items (e.g. head_items(...)).")
    if n_items is not None and mask.size != n_items:
        raise ValueError(f"{name} has {mask.size} entries but there are {n_items} items.")
    return mask


def _row_means(pattern: sp.csr_matrix, values: np.ndarray) -> np.ndarray:
    sizes = pattern.getnnz(axis=1)
    if (sizes == 0).any():
        raise ValueError(
            f"user row {int(np.argmin(sizes))} has an empty history; drop users without "
            "training interactions first."
        )
    return (pattern @ values) / sizes


def _kl_terms(p, q, log) -> np.ndarray:
    """Row-wise ``sum over p > 0 of p * log(p / q)``."""
    ratio = np.divide(p, q, out=np.ones_like(p), where=p > 0)
    return (p * log(ratio)).sum(axis=1)


def _user_mismatch(n_lists, n_history) -> str:
    return (
        f"recommended has {n_lists} lists but the histories have {n_history} users; pass "
        "both for the same users in the same order."
    )


def plot_report(report: pd.DataFrame, metrics_shown=("ndcg@10", "aplt", "gini", "calibration_kl")):
    """One bar chart per metric of an :func:`audit_report` table, models side by side.

    Overall figures only (``grouping == "all"``); error bars where the report has an
    interval. Returns the matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt  # lazy: the audit itself needs no plotting library

    overall = report[report["grouping"] == "all"]
    missing = sorted(set(metrics_shown) - set(overall["metric"]))
    if missing:
        raise ValueError(
            f"the report has no overall {missing}; pick from {sorted(set(overall['metric']))}."
        )
    fig, axes = plt.subplots(1, len(metrics_shown), figsize=(3.2 * len(metrics_shown), 3.2))
    for ax, metric in zip(np.atleast_1d(axes), metrics_shown, strict=True):
        rows = overall[overall["metric"] == metric]
        errors = np.vstack([rows["value"] - rows["low"], rows["high"] - rows["value"]])
        ax.barh(rows["model"], rows["value"], xerr=np.nan_to_num(errors), color="tab:blue")
        ax.set_xlabel(metric)
        ax.invert_yaxis()
    for ax in np.atleast_1d(axes)[1:]:
        ax.set_yticklabels([])
    fig.suptitle("Audit report (95 % bootstrap intervals where available)")
    fig.tight_layout()
    return fig
