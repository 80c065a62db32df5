"""Content-based filtering: describe items by their metadata, users by the items they liked.

Lesson 02 (``notebooks/02_content_based.ipynb``) builds a taste profile by hand, scores items
with the cosine and explains each recommendation in words.

Two steps:

1. :func:`build_item_features` turns the item table (genres, tags, words of titles and
   descriptions) into one sparse vector per item.
2. :class:`ContentBased` averages the vectors of the items a user interacted with into a
   profile and recommends the items whose vectors point the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import norm as sparse_norm
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import MultiLabelBinarizer

from recsys_lessons.models.base import Recommender
from recsys_lessons.validation import check_count, check_index, check_number, check_positive_int

__all__ = [
    "FEATURE_BLOCKS",
    "LABEL_BLOCKS",
    "ContentBased",
    "Explanation",
    "ItemFeatures",
    "as_labels",
    "build_item_features",
]

#: Feature blocks :func:`build_item_features` knows, each read from the item column of that name.
FEATURE_BLOCKS = ("genres", "tags", "title", "description")

#: Blocks holding lists of labels (one feature per label); the others hold free text.
LABEL_BLOCKS = ("genres", "tags")

#: Words of at least two letters: digits (years, sequel numbers) are not content words.
WORD_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"

_BLOCK_LABELS = {
    "genres": "genres",
    "tags": "tags",
    "title": "title words",
    "description": "description words",
}


@dataclass(frozen=True, repr=False)
class ItemFeatures:
    """One sparse feature vector per item, with a name and a block for every feature.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix, shape (n_items, n_features)
        Row ``i`` describes item ``i``: the concatenation of its blocks, each scaled to unit
        length and then by ``sqrt(weight)`` (see :func:`build_item_features`).
    names : numpy.ndarray of str, shape (n_features,)
        The genre, tag or word behind each column.
    blocks : numpy.ndarray of str, shape (n_features,)
        The block of each column: ``"genres"``, ``"tags"``, ``"title"`` or ``"description"``.
    """

    matrix: sp.csr_matrix
    names: np.ndarray
    blocks: np.ndarray

    def __repr__(self) -> str:
        counts = pd.Series(self.blocks).value_counts(sort=False)
        parts = ", ".join(f"{block} {count}" for block, count in counts.items())
        n_items, n_features = self.matrix.shape
        return f"ItemFeatures({n_items} items x {n_features} features: {parts})"


def build_item_features(items: pd.DataFrame, weights=None, min_df: int = 2) -> ItemFeatures:
    """Describe every item (row of ``items``) by a sparse vector of its metadata.

    Lesson 02 (``notebooks/02_content_based.ipynb``).

    Blocks, each read from the column of the same name:

    - ``"genres"``: one-hot, 1 for every genre in the item's list (every genre is kept);
    - ``"tags"``: TF-IDF over the item's list of tags, each tag one term (lower-cased, trimmed);
    - ``"title"`` and ``"description"``: scikit-learn ``TfidfVectorizer`` over the words
      (two letters or more, no digits, English stop words removed).

    A genres or tags cell is a list of labels, or one string of ``|``-separated labels as in
    MovieLens' ``movies.csv`` (``"Drama|Comedy"`` is the two labels Drama and Comedy).

    ``TF-IDF(t, i) = count(t, i) * (ln((1 + n_items) / (1 + df(t))) + 1)``, scikit-learn's
    smoothed IDF, where ``df(t)`` is the number of items holding term ``t``. Tags and words
    held by fewer than ``min_df`` items are dropped: an item cannot share them with another.

    Each block is scaled to unit length per item and multiplied by ``sqrt(weight)``, so for
    two items that have every block, ``f_i . f_j = sum over blocks b of weight_b * cos_b(i, j)``:
    the weights say how much each kind of metadata counts in the similarity. Missing
    metadata (NaN, empty list or text) gives that block a zero vector.

    Parameters
    ----------
    items : pandas.DataFrame
        One row per item; row ``i`` becomes row ``i`` of the matrix.
    weights : dict of str to float, optional
        Weight of each block (>= 0; 0 leaves the block out). Default: 1.0 for every block
        whose column exists in ``items``.
    min_df : int >= 1
        Minimum number of items a tag or word must occur in to become a feature.

    Returns
    -------
    ItemFeatures
    """
    weights = _check_weights(items, weights)
    check_positive_int(min_df, "min_df", "a number of items")
    matrices, names, blocks = [], [], []
    for block, weight in weights.items():
        if weight == 0:
            continue
        column = items[block]
        if block in LABEL_BLOCKS:
            counts, vocabulary = _label_counts(column, block)
        else:
            counts, vocabulary = _word_tfidf(column)
        if block != "genres":
            counts, vocabulary = _drop_rare(counts, vocabulary, min_df)
        matrices.append(_unit_rows(counts) * np.sqrt(weight))
        names.append(vocabulary)
        blocks.append(np.full(len(vocabulary), block))
    if sum(len(vocabulary) for vocabulary in names) == 0:
        raise ValueError(
            f"no item has any feature in the blocks {[b for b, w in weights.items() if w > 0]} "
            "(empty genres, tags and texts); add metadata or choose other blocks."
        )
    return ItemFeatures(
        matrix=sp.csr_matrix(sp.hstack(matrices), dtype=np.float64),
        names=np.concatenate(names).astype(str),
        blocks=np.concatenate(blocks).astype(str),
    )


def _unit_rows(matrix) -> sp.csr_matrix:
    """Each row divided by its Euclidean length; all-zero rows stay zero."""
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    lengths = sparse_norm(matrix, axis=1) if matrix.shape[1] else np.zeros(matrix.shape[0])
    scale = np.divide(1.0, lengths, out=np.zeros_like(lengths), where=lengths > 0)
    return sp.csr_matrix(sp.diags(scale) @ matrix)


def _check_weights(items, weights) -> dict:
    if not isinstance(items, pd.DataFrame):
        raise ValueError(
            f"items must be a pandas DataFrame with one row per item; got {type(items).__name__}."
        )
    if len(items) == 0:
        raise ValueError("items is empty; pass the item table (one row per item).")
    if weights is None:
        weights = {block: 1.0 for block in FEATURE_BLOCKS if block in items.columns}
        if not weights:
            raise ValueError(
                f"items has none of the metadata columns content features are built from "
                f"({', '.join(FEATURE_BLOCKS)}); its columns are {list(items.columns)}. Pass "
                "the item table with at least one of them (e.g. dataset.items), or rename "
                "your column."
            )
    weights = dict(weights)
    unknown = sorted(set(weights) - set(FEATURE_BLOCKS))
    if unknown:
        raise ValueError(
            f"unknown feature block(s) {unknown}; choose among {list(FEATURE_BLOCKS)}."
        )
    for block, weight in weights.items():
        check_number(weight, f"the weight of {block!r}", low=0)
        if weight > 0 and block not in items.columns:
            raise ValueError(
                f"weights ask for {block!r} but items has no {block!r} column (columns: "
                f"{list(items.columns)}); give it weight 0 or add the column."
            )
    if not any(weight > 0 for weight in weights.values()):
        raise ValueError("every feature weight is 0; give at least one block a positive weight.")
    return weights


def as_labels(value) -> list[str]:
    """A cell of a genres/tags column as a clean list of labels (NaN or None gives []).

    A single string is split on ``|`` (``"Drama|Comedy"`` -> ``["Drama", "Comedy"]``), the
    format of MovieLens' ``movies.csv``; lessons 02 and 05 read item metadata through it.

    Examples
    --------
    >>> as_labels("Drama| Comedy")
    ['Drama', 'Comedy']
    >>> as_labels(None)
    []
    """
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return []
    if isinstance(value, str):
        value = value.split("|")
    return [str(label).strip() for label in value if str(label).strip()]


def _lower_labels(labels: list[str]) -> list[str]:
    return [label.lower() for label in labels]


def _label_counts(column: pd.Series, block: str):
    labels = [as_labels(value) for value in column]
    if block == "genres":
        binarizer = MultiLabelBinarizer(sparse_output=True)
        return sp.csr_matrix(binarizer.fit_transform(labels), dtype=np.float64), binarizer.classes_
    if not any(labels):
        return sp.csr_matrix((len(labels), 0)), np.array([], dtype=str)
    vectorizer = TfidfVectorizer(analyzer=_lower_labels, norm=None)
    return vectorizer.fit_transform(labels), vectorizer.get_feature_names_out()


def _word_tfidf(column: pd.Series):
    texts = ["" if pd.isna(text) else str(text) for text in column]
    vectorizer = TfidfVectorizer(token_pattern=WORD_PATTERN, stop_words="english", norm=None)
    analyzer = vectorizer.build_analyzer()
    if not any(analyzer(text) for text in texts):
        return sp.csr_matrix((len(texts), 0)), np.array([], dtype=str)
    return vectorizer.fit_transform(texts), vectorizer.get_feature_names_out()


def _drop_rare(counts: sp.csr_matrix, vocabulary: np.ndarray, min_df: int):
    document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    keep = np.flatnonzero(document_frequency >= min_df)
    return sp.csr_matrix(counts[:, keep], dtype=np.float64), np.asarray(vocabulary)[keep]


@dataclass(frozen=True, repr=False)
class Explanation:
    """Why :class:`ContentBased` scored an item for a user, in words and in numbers.

    Attributes
    ----------
    user, item : int
        The user and item indices explained.
    score : float
        ``score(user, item)``, the cosine between the user's profile and the item.
    items : pandas.DataFrame
        The history items with a non-zero contribution, largest first: ``item``, ``title``,
        ``weight`` (the profile weight ``w_uj``), ``similarity`` (``f_j . f_item``) and
        ``contribution``. All contributions sum to ``score``.
    features : pandas.DataFrame
        The features with a non-zero contribution, largest first: ``feature``, ``block`` and
        ``contribution`` (``p_u[f] * f_item[f] / |p_u|``). All contributions sum to ``score``.
    text : str
        The explanation in a sentence ("because you liked ...; shared genres: ...").
    """

    user: int
    item: int
    score: float
    items: pd.DataFrame
    features: pd.DataFrame
    text: str

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


class ContentBased(Recommender):
    """Recommend items whose metadata resembles that of the items a user liked.

    Lesson 02 (``notebooks/02_content_based.ipynb``).

    - Item vectors: ``f_i`` = row ``i`` of :func:`build_item_features` scaled to unit length.
    - Profile weights, with ``r_uj`` the user's value for item ``j`` and ``mean_u`` the mean
      of the user's values: ``w_uj = r_uj - mean_u`` when ``center`` (items rated below the
      user's average push the profile away from their content). When all of a user's values
      are equal, as with implicit 0/1 data, every ``w_uj = 0``, so the profile falls back to
      the plain mean: ``w_uj = 1``. With ``center=False``, always ``w_uj = 1``.
    - Profile: ``p_u = sum_j w_uj * f_j / sum_j |w_uj|``, over the items ``j`` the user
      interacted with.
    - Score: ``score(u, i) = cos(p_u, f_i) = p_u . f_i / |p_u|``, in [-1, 1]; 0 for a user
      whose profile is zero and for an item without metadata.

    The model needs the item metadata: pass the item table to the constructor or to ``fit``
    (``ContentBased().fit(X, items=table)``); a table given to ``fit`` wins over the
    constructor's for that fit, and the constructor's is left unchanged (so a clone refits
    on it). Items without interactions still get scores: a brand-new title with metadata
    can be recommended on day one.

    Parameters
    ----------
    items : pandas.DataFrame, optional
        Item metadata aligned with the columns of the matrix passed to ``fit``: row ``i``
        describes column ``i``. From a :class:`~recsys_lessons.data.dataset.Dataset` and an
        :class:`~recsys_lessons.data.matrix.InteractionMatrix`:
        ``dataset.items.reindex(matrix.item_ids)``. Uses the columns ``genres``, ``tags``,
        ``title``, ``description`` that exist (see :func:`build_item_features`); ``title``
        also names items in explanations.
    feature_weights : dict of str to float, optional
        Weight of each feature block; default 1.0 for every block present.
    min_df : int >= 1
        Tags and words held by fewer items are dropped.
    center : bool
        Weight the profile by mean-centered ratings (``True``) or average plainly.

    Attributes
    ----------
    items_ : pandas.DataFrame
        The item table the model was fitted with.
    features_ : ItemFeatures
        The item features as built (before scaling rows to unit length).
    item_vectors_ : scipy.sparse.csr_matrix, shape (n_items, n_features)
        ``f_i``: rows of ``features_.matrix`` scaled to unit length.
    profiles_ : scipy.sparse.csr_matrix, shape (n_users, n_features)
        ``p_u`` for every user.
    profile_weights_ : scipy.sparse.csr_matrix, shape (n_users, n_items)
        ``w_uj / sum_j |w_uj|``, the share of each history item in the profile.
    """

    def __init__(
        self,
        items: pd.DataFrame | None = None,
        feature_weights: dict | None = None,
        min_df: int = 2,
        center: bool = True,
    ):
        self.items = items
        self.feature_weights = feature_weights
        self.min_df = min_df
        self.center = center

    def fit(self, X, items: pd.DataFrame | None = None) -> ContentBased:
        """Build the item vectors and the users' profiles from ``X``.

        Parameters
        ----------
        X : sparse matrix, dense array or InteractionMatrix, shape (n_users, n_items)
        items : pandas.DataFrame, optional
            The item table; default the constructor's ``items``. Given here, it wins.
        """
        self.items_ = self.items if items is None else items
        return super().fit(X)

    def _fit(self, X: sp.csr_matrix) -> None:
        items = self.items_
        if items is None:
            raise ValueError(
                "ContentBased needs the item metadata: pass it as ContentBased(items) or "
                "fit(X, items=...), e.g. dataset.items.reindex(matrix.item_ids)."
            )
        if not isinstance(items, pd.DataFrame) or len(items) != X.shape[1]:
            size = len(items) if isinstance(items, pd.DataFrame) else "no"
            raise ValueError(
                f"items must have one row per column of X, in column order: X has {X.shape[1]} "
                f"item columns but items has {size} rows. Build it with "
                "dataset.items.reindex(matrix.item_ids)."
            )
        self.features_ = build_item_features(items, self.feature_weights, self.min_df)
        self.item_vectors_ = _unit_rows(self.features_.matrix)
        self.profile_weights_ = _profile_weights(X, self.center)
        self.profiles_ = sp.csr_matrix(self.profile_weights_ @ self.item_vectors_)
        self.profile_norms_ = sparse_norm(self.profiles_, axis=1)

    def _score(self, users: np.ndarray) -> np.ndarray:
        dots = (self.profiles_[users] @ self.item_vectors_.T).toarray()
        norms = self.profile_norms_[users][:, None]
        return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)

    def similar_items(self, item: int, n: int = 10):
        """The ``n`` items whose feature vectors have the largest cosine with ``item``'s.

        Works for items nobody interacted with yet. Items with cosine 0 are left out, so the
        arrays can be shorter than ``n``.

        Returns
        -------
        items : ndarray of int
        scores : ndarray of float
        """
        self._require_fitted()
        item = check_index(item, self.n_items_, "item")
        n = check_count(n)
        cosines = (self.item_vectors_ @ self.item_vectors_[item].T).toarray().ravel()
        cosines[item] = 0.0
        candidates = np.flatnonzero(cosines)
        order = np.lexsort((candidates, -cosines[candidates]))[:n]
        return candidates[order].astype(np.int64), cosines[candidates[order]]

    def explain(self, user: int, item: int, n: int = 3) -> Explanation:
        """Why ``item`` scores what it does for ``user``: which liked items and shared metadata.

        The score splits exactly two ways, by history item ``j``
        (``w_uj / sum |w| * (f_j . f_item) / |p_u|``) and by feature ``f``
        (``p_u[f] * f_item[f] / |p_u|``); both tables in the result sum to the score. The
        sentence names the ``n`` history items and up to ``n`` shared features per block with
        the largest positive contributions.

        Returns
        -------
        Explanation
            Prints as the sentence; ``.items`` and ``.features`` hold the numbers.
        """
        self._require_fitted()
        user = check_index(user, self.n_users_, "user")
        item = check_index(item, self.n_items_, "item")
        n = check_count(n)
        norm = self.profile_norms_[user]
        scale = 1.0 / norm if norm > 0 else 0.0
        target = self.item_vectors_[item]
        history = self.profile_weights_[user]
        similarities = (self.item_vectors_[history.indices] @ target.T).toarray().ravel()
        by_item = pd.DataFrame(
            {
                "item": history.indices.astype(np.int64),
                "title": self._titles(history.indices),
                "weight": history.data,
                "similarity": similarities,
                "contribution": history.data * similarities * scale,
            }
        )
        profile = self.profiles_[user].toarray().ravel()
        feature_contributions = profile[target.indices] * target.data * scale
        by_feature = pd.DataFrame(
            {
                "feature": self.features_.names[target.indices],
                "block": self.features_.blocks[target.indices],
                "contribution": feature_contributions,
            }
        )
        by_item = _nonzero_sorted(by_item, "item")
        by_feature = _nonzero_sorted(by_feature, "feature")
        score = float(self._score(np.array([user]))[0, item])
        text = self._sentence(item, score, by_item, by_feature, n)
        return Explanation(user, item, score, by_item, by_feature, text)

    def _sentence(self, item, score, by_item, by_feature, n) -> str:
        title = self._titles([item])[0]
        liked = by_item.loc[by_item["contribution"] > 0, "title"].head(n).tolist()
        if not liked:
            return (
                f"{title!r} scores {score:.3f}: nothing you liked shares its metadata, so "
                "there is no reason to recommend it."
            )
        reasons = [f"because you liked {_and_join([repr(t) for t in liked])}"]
        shared = by_feature[by_feature["contribution"] > 0]
        for block in FEATURE_BLOCKS:
            names = shared.loc[shared["block"] == block, "feature"].head(n).tolist()
            if names:
                reasons.append(f"shared {_BLOCK_LABELS[block]}: {', '.join(names)}")
        return f"{title!r} (score {score:.3f}) is recommended " + "; ".join(reasons) + "."

    def _titles(self, indices) -> list[str]:
        indices = np.asarray(indices, dtype=np.int64)
        if "title" not in self.items_.columns:
            return [f"item {i}" for i in indices]
        titles = self.items_["title"].iloc[indices]
        return [f"item {i}" if pd.isna(t) else str(t) for i, t in zip(indices, titles, strict=True)]


def _profile_weights(X: sp.csr_matrix, center: bool) -> sp.csr_matrix:
    """``w_uj / sum_j |w_uj|`` for every interaction (definitions in :class:`ContentBased`)."""
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    X.eliminate_zeros()
    counts = np.diff(X.indptr)
    rows = np.repeat(np.arange(X.shape[0]), counts)
    if center:
        active = counts > 0
        means = np.zeros(X.shape[0])
        means[active] = np.add.reduceat(X.data, X.indptr[:-1][active]) / counts[active]
        flat = np.zeros(X.shape[0], dtype=bool)
        starts = X.indptr[:-1][active]
        flat[active] = np.maximum.reduceat(X.data, starts) == np.minimum.reduceat(X.data, starts)
        weights = np.where(flat[rows], 1.0, X.data - means[rows])
    else:
        weights = np.ones_like(X.data)
    absolute_sums = np.bincount(rows, weights=np.abs(weights), minlength=X.shape[0])
    X.data = weights / absolute_sums[rows]
    return X


def _nonzero_sorted(frame: pd.DataFrame, tie_column: str) -> pd.DataFrame:
    frame = frame[frame["contribution"] != 0]
    frame = frame.sort_values(["contribution", tie_column], ascending=[False, True], kind="stable")
    return frame.reset_index(drop=True)


def _and_join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
