"""Candidate generation: the union of the top-N lists of several retrievers, per user.

A production ranker never scores the whole catalogue. Cheap retrievers (ALS through an
ANN index, item-kNN, EASE, content, popularity) each propose their top ``N`` unseen items;
the union is the candidate set the ranker reorders. Every candidate keeps, for each source,
its score and its rank (``N + 1`` and score ``NaN`` when that source did not propose it),
because "how many sources agree, and how high" is exactly what a ranker learns from.

Candidate recall, the share of a user's held-out items that reach the candidate set, caps
what any ranker can achieve. Lesson 06 (``notebooks/06_hybrid_ranking.ipynb``) plots it
against ``N`` per source.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.validation import (
    check_columns,
    check_indices,
    check_k,
    check_positive_int,
)

#: What to do when a frame is not a candidate frame.
CANDIDATES_HINT = "pass the output of generate_candidates (columns user, item, ...)"


class IndexRetriever:
    """Serve a fitted factor model (ALS, BPR) through a lesson 04 vector index.

    ``recommend(users, k)`` queries the index with the users' vectors for ``k`` plus the
    largest number of items any of them has seen, removes each user's seen items and keeps
    the ``k`` best: the same lists as ``model.recommend`` when the index is exact, and
    nearly the same when it is an :class:`~recsys_lessons.retrieval.indexes.ApproximateIndex`.

    It is a ranker, not an online policy: its answer holds scores, not propensities, so
    :class:`~recsys_lessons.online.environment.OnlineEnvironment` refuses it; serve it
    online as ``RankingPolicy(retriever)`` (:class:`~recsys_lessons.online.policies.RankingPolicy`).

    Parameters
    ----------
    model : fitted Recommender with ``user_factors_`` and ``item_factors_``
    index : ExactIndex or ApproximateIndex, metric ``"dot"``, not yet built
        Built here on ``model.item_factors_``.
    """

    def __init__(self, model, index):
        if not hasattr(model, "user_factors_") or not hasattr(model, "item_factors_"):
            raise ValueError(
                "IndexRetriever needs a fitted factor model (ALS or BPR) with user_factors_ "
                "and item_factors_; fit the model first."
            )
        if index.metric != "dot":
            raise ValueError(
                f"a factor model ranks by dot product; build the index with metric='dot', not {index.metric!r}."
            )
        self.model = model
        self.index = index.build(model.item_factors_)
        self.X_ = model.X_
        self.n_items_ = model.X_.shape[1]

    def recommend(self, users, k: int = 10, exclude_seen: bool = True):
        """Top-``k`` unseen items per user from the index: ``(items, scores)``, best first."""
        users = check_indices(users, self.X_.shape[0], "user")
        seen = self.X_[users] if exclude_seen else sp.csr_matrix((len(users), self.n_items_))
        return self.query(self.model.user_factors_[users], seen, k)

    def query(self, vectors, seen, k: int = 10):
        """Top-``k`` items for query ``vectors``, skipping the items marked in the CSR ``seen``.

        Equal scores are ordered by the lower item id, as everywhere in the course
        (:func:`recsys_lessons.top_k.top_k_indices`), whatever order the index returned them in.
        """
        k = check_k(k, self.n_items_)
        seen = sp.csr_matrix(seen)
        depth = min(self.n_items_, k + int(np.diff(seen.indptr).max(initial=0)))
        ids, scores = self.index.query(np.asarray(vectors), k=depth)
        rows = np.repeat(np.arange(len(ids)), depth)
        is_seen = np.asarray(seen[rows, ids.ravel()]).reshape(ids.shape) != 0
        scores = np.where(is_seen, -np.inf, scores)
        keep = np.lexsort((ids, -scores), axis=1)[:, :k]
        return np.take_along_axis(ids, keep, axis=1), np.take_along_axis(scores, keep, axis=1)


def generate_candidates(sources: Mapping[str, object], users, n: int = 200) -> pd.DataFrame:
    """The union of every source's top-``n`` unseen items for each user.

    Parameters
    ----------
    sources : dict of name -> fitted recommender
        Anything with ``recommend(users, k, exclude_seen=True) -> (items, scores)``.
    users : array-like of int
        0-based user indices.
    n : int
        Items each source proposes per user.

    Returns
    -------
    pandas.DataFrame
        One row per (user, item) candidate, sorted by user then item, with columns
        ``user``, ``item``, ``n_sources`` (how many sources proposed it) and, for each
        source ``s``, ``s_score`` (``NaN`` if not proposed) and ``s_rank`` (1 = best;
        ``n + 1`` if not proposed).

    Raises
    ------
    ValueError
        If ``sources`` or ``users`` is empty, ``users`` are not integer indices, or ``n`` is
        not a positive integer.
    """
    if not sources:
        raise ValueError(
            "sources is empty; pass e.g. {'als': fitted_als, 'popularity': fitted_pop}."
        )
    n = check_positive_int(n, "n", "items per source")
    users = np.atleast_1d(np.asarray(users))
    if users.size == 0 or not np.issubdtype(users.dtype, np.integer):
        raise ValueError(
            f"users must be a non-empty array of integer user indices; got {users!r:.80}."
        )
    lists = {
        name: source.recommend(users, k=n, exclude_seen=True) for name, source in sources.items()
    }
    n_items = max(int(items.max()) for items, _ in lists.values()) + 1
    pair_keys = []
    for items, scores in lists.values():
        found = np.isfinite(scores)  # -inf pads users with fewer than n unseen items
        pair_keys.append((users[:, None] * n_items + items)[found])
    keys = np.unique(np.concatenate(pair_keys))
    frame = pd.DataFrame({"user": keys // n_items, "item": keys % n_items})
    counts = np.zeros(len(keys), dtype=np.int64)
    for name, (items, scores) in lists.items():
        found = np.isfinite(scores)
        position = np.searchsorted(keys, (users[:, None] * n_items + items)[found])
        score_column = np.full(len(keys), np.nan)
        rank_column = np.full(len(keys), n + 1, dtype=np.int64)
        score_column[position] = scores[found]
        rank_column[position] = np.broadcast_to(np.arange(1, items.shape[1] + 1), items.shape)[
            found
        ]
        frame[f"{name}_score"] = score_column
        frame[f"{name}_rank"] = rank_column
        counts += rank_column <= n
    frame["n_sources"] = counts
    frame.attrs["n"] = int(n)
    return frame


def candidate_recall(
    candidates: pd.DataFrame,
    relevant,
    source: str | None = None,
    n: int | None = None,
    per_user: bool = False,
):
    """Share of each user's relevant items that reach the candidate set, averaged over users.

    ``recall_u = |candidates_u & relevant_u| / |relevant_u|``, over the users of
    ``candidates`` that have at least one relevant item (Manning, Raghavan and Schütze,
    *Introduction to Information Retrieval*, 2008, ch. 8: recall of a retrieved set).

    Parameters
    ----------
    candidates : DataFrame from :func:`generate_candidates`
    relevant : scipy.sparse matrix, users x items
        Non-zero cells are relevant (the validation or test split).
    source : str, optional
        Count only candidates this source proposed (default: the union of all sources).
    n : int, optional
        With ``source``: count only its top ``n`` (``n`` at most the ``n`` used to generate).
    per_user : bool
        Return every evaluated user's ``recall_u`` (in ascending user order) instead of their
        mean, e.g. for a paired bootstrap between two candidate sets of the same users.

    Returns
    -------
    float, or (``per_user=True``) ndarray of float, one value per user with a relevant item.

    Raises
    ------
    ValueError
        If ``candidates`` is not a candidate frame, ``source`` is unknown, ``n`` is not a
        positive integer, or no candidate user has a relevant item.
    """
    check_columns(candidates, ("user", "item"), "candidates", CANDIDATES_HINT)
    if n is not None:
        n = check_positive_int(n, "n", "the top of the source counted")
    relevant = sp.csr_matrix(relevant)
    chosen = candidates
    if source is not None:
        column = f"{source}_rank"
        if column not in candidates.columns:
            raise ValueError(
                f"no source named {source!r} in the candidates; choose one of {_sources(candidates)}."
            )
        limit = candidates.attrs.get("n", candidates[column].max()) if n is None else n
        chosen = candidates[candidates[column] <= limit]
    users = np.unique(candidates["user"].to_numpy())
    n_relevant = np.diff(relevant.indptr)[users]
    hits_per_pair = (
        np.asarray(relevant[chosen["user"].to_numpy(), chosen["item"].to_numpy()]).ravel() != 0
    )
    hits = np.bincount(
        np.searchsorted(users, chosen["user"].to_numpy()[hits_per_pair]), minlength=len(users)
    )
    evaluated = n_relevant > 0
    if not evaluated.any():
        raise ValueError(
            "none of the candidate users has a relevant item; check that relevant is the held-out split."
        )
    recall = hits[evaluated] / n_relevant[evaluated]
    return recall if per_user else float(np.mean(recall))


def rank_candidates(candidates: pd.DataFrame, scores, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Order each user's candidates by ``scores`` (higher first) and keep the top ``k``.

    Returns
    -------
    users : ndarray of int, the distinct users in ascending order
    items : ndarray of int, shape (len(users), k); ties go to the lower item index.

    Raises
    ------
    ValueError
        If ``candidates`` is not a candidate frame, ``scores`` are not numbers, hold NaN or
        do not match the rows, or ``k`` is not a positive integer.
    """
    check_columns(candidates, ("user", "item"), "candidates", CANDIDATES_HINT)
    k = check_k(k)
    try:
        scores = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "scores must be numbers, one per candidate row (e.g. ranker.predict)."
        ) from None
    if scores.shape != (len(candidates),):
        raise ValueError(
            f"scores must hold one value per candidate row ({len(candidates)}); got shape {scores.shape}."
        )
    if np.isnan(scores).any():
        raise ValueError(
            f"scores hold {int(np.isnan(scores).sum())} NaN values, which have no rank; fill "
            "them (e.g. with -inf) or fix the model that produced them."
        )
    user = candidates["user"].to_numpy()
    item = candidates["item"].to_numpy()
    order = np.lexsort((item, -scores, user))
    users, starts, counts = np.unique(user[order], return_index=True, return_counts=True)
    if counts.min() < k:
        raise ValueError(
            f"some users have fewer than k={k} candidates ({counts.min()}); retrieve more per source."
        )
    positions = starts[:, None] + np.arange(k)
    return users, item[order][positions]


def _sources(candidates: pd.DataFrame) -> list[str]:
    return [column[: -len("_rank")] for column in candidates.columns if column.endswith("_rank")]


__all__ = ["IndexRetriever", "candidate_recall", "generate_candidates", "rank_candidates"]
