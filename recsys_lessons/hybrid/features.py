"""The feature table a learned ranker reads: one row per (user, candidate item).

Features, each one line of numpy over the candidate frame of
:func:`recsys_lessons.hybrid.candidates.generate_candidates`:

- per source ``s``: ``s_score`` (raw), ``s_rank`` and ``s_z`` (the score as a z-score over
  the user's candidates from that source; missing -> the user's lowest z minus one);
- ``n_sources``: how many sources proposed the item;
- ``item_popularity``: the item's percentile among items by training interactions (0 to 1);
- ``item_age_days``: days between the item's release and the reference time (if given);
- ``user_activity``: the user's percentile among users by training interactions.

Percentiles rather than counts, and per-user z-scores beside raw scores, because the ranker is
trained on retrievers fitted to part of train and applied to retrievers refitted on all of
it: counts and raw scores grow with the data, percentiles and z-scores do not;
- ``genre_match``: cosine between the user's genre profile (sum of the genre vectors of
  everything they watched) and the item's genre vector;
- ``recent_genre_match``: the same with only the user's most recent interactions, the
  "recency of taste" signal (what they are into *now*).

Lesson 06 (``notebooks/06_hybrid_ranking.ipynb``) trains a ranker on this table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.validation import check_columns, check_indices


def genre_matrix(items: pd.DataFrame) -> sp.csr_matrix:
    """Items x genres 0/1 matrix from the ``genres`` list column, rows in ``items`` order."""
    genres = items["genres"].apply(
        lambda value: list(value) if isinstance(value, (list, tuple, np.ndarray)) else []
    )
    names = sorted({g for row in genres for g in row})
    column = {name: j for j, name in enumerate(names)}
    rows = np.repeat(np.arange(len(items)), genres.apply(len).to_numpy())
    cols = np.array([column[g] for row in genres for g in row], dtype=np.int64)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(items), len(names)))


def recent_matrix(interactions: pd.DataFrame, user_ids, item_ids, last: int = 10) -> sp.csr_matrix:
    """Users x items 0/1 matrix of each user's ``last`` most recent interactions."""
    ordered = interactions.sort_values("timestamp", kind="stable")
    recent = ordered.groupby("user_id", sort=False).tail(last)
    rows = pd.Index(user_ids).get_indexer(recent["user_id"])
    cols = pd.Index(item_ids).get_indexer(recent["item_id"])
    if (rows < 0).any() or (cols < 0).any():
        raise ValueError(
            "interactions hold users or items outside user_ids/item_ids; build both from the same matrix."
        )
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(user_ids), len(item_ids)))


def candidate_features(
    candidates: pd.DataFrame,
    X,
    genres=None,
    item_age_days=None,
    recent=None,
) -> pd.DataFrame:
    """Add the ranker's features to a candidate frame (returns a new frame).

    Parameters
    ----------
    candidates : DataFrame from ``generate_candidates``
    X : scipy.sparse matrix, users x items
        The training interactions (popularity, activity, genre profiles).
    genres : scipy.sparse matrix, items x genres, optional
        From :func:`genre_matrix`; enables ``genre_match`` (and ``recent_genre_match``).
    item_age_days : array of float, one per item, optional
        Age of every item at the reference time; enables ``item_age_days``.
    recent : scipy.sparse matrix, users x items, optional
        From :func:`recent_matrix`; enables ``recent_genre_match``.

    Raises
    ------
    ValueError
        If ``candidates`` lacks the ``user`` or ``item`` column, holds indices outside ``X``,
        or a side matrix does not match the items of ``X``.
    """
    check_columns(
        candidates, ("user", "item"), "candidates", "pass the output of generate_candidates"
    )
    X = sp.csr_matrix(X)
    X.data = np.ones_like(X.data)
    user = check_indices(candidates["user"].to_numpy(), X.shape[0], "user", allow_empty=True)
    item = check_indices(candidates["item"].to_numpy(), X.shape[1], "item", allow_empty=True)
    features = candidates.copy()
    for column in [c for c in candidates.columns if c.endswith("_score")]:
        features[column[: -len("_score")] + "_z"] = _z_within_user(
            candidates[column].to_numpy(), user
        )
    features["item_popularity"] = _percentile(np.asarray(X.sum(axis=0)).ravel())[item]
    features["user_activity"] = _percentile(np.diff(X.indptr))[user]
    if item_age_days is not None:
        age = np.asarray(item_age_days, dtype=np.float64)
        if age.shape != (X.shape[1],):
            raise ValueError(
                f"item_age_days needs one value per item ({X.shape[1]}); got shape {age.shape}."
            )
        features["item_age_days"] = age[item]
    if genres is not None:
        genres = sp.csr_matrix(genres, dtype=np.float64)
        if genres.shape[0] != X.shape[1]:
            raise ValueError(
                f"genres has {genres.shape[0]} rows but there are {X.shape[1]} items; build it from items in matrix order."
            )
        features["genre_match"] = _profile_cosine(X, genres, user, item)
        if recent is not None:
            features["recent_genre_match"] = _profile_cosine(
                sp.csr_matrix(recent), genres, user, item
            )
    return features


def feature_columns(features: pd.DataFrame) -> list[str]:
    """The columns a ranker learns from: everything except ``user``, ``item`` and labels."""
    return [c for c in features.columns if c not in ("user", "item", "label")]


def _percentile(counts: np.ndarray) -> np.ndarray:
    """Share of entries with a count <= this one's (ties share the highest share)."""
    ordered = np.sort(counts)
    return np.searchsorted(ordered, counts, side="right") / len(counts)


def _z_within_user(values: np.ndarray, user: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame({"user": user, "value": values})
    grouped = frame.groupby("user")["value"]
    mean, std = grouped.transform("mean"), grouped.transform("std", ddof=0)
    z = ((frame["value"] - mean) / std.where(std > 0, 1.0)).to_numpy()
    floor = pd.Series(z).groupby(user).transform("min").fillna(0.0).to_numpy() - 1.0
    return np.where(np.isnan(z), floor, z)


def _profile_cosine(history: sp.csr_matrix, genres: sp.csr_matrix, user, item) -> np.ndarray:
    profiles = np.asarray((history @ genres).todense())
    item_genres = genres.toarray()
    dots = np.einsum("ij,ij->i", profiles[user], item_genres[item])
    norms = np.linalg.norm(profiles, axis=1)[user] * np.linalg.norm(item_genres, axis=1)[item]
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)


__all__ = ["candidate_features", "feature_columns", "genre_matrix", "recent_matrix"]
