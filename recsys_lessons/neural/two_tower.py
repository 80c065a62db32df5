"""A two-tower retriever: users from what they watched, items from their id and raw content.

YouTube's candidate generator (Covington, Adams and Sargin, "Deep Neural Networks for
YouTube Recommendations", RecSys 2016) embeds a user as the average of the embeddings of
the videos they watched and trains with a softmax over videos; Yi, Yang, Hong, Cheng,
Heldt, Kumthekar, Zhao, Wei and Chi ("Sampling-Bias-Corrected Neural Modeling for Large
Corpus Item Recommendations", RecSys 2019) use the other items of the batch as negatives
and correct for how often each item is sampled (the logQ correction). Both towers output
one vector; a score is their cosine, so serving is a nearest-neighbour search
(:mod:`recsys_lessons.retrieval` on ``user_factors_`` and ``item_factors_``).
"""

from __future__ import annotations

import jax
import jax.experimental.sparse as jsparse
import jax.numpy as jnp
import numpy as np
import pandas as pd
import scipy.sparse as sp

from recsys_lessons.models.base import Recommender, as_history_csr
from recsys_lessons.models.content_based import ItemFeatures
from recsys_lessons.neural.training import epoch_batches, fit_adam, positive_pairs
from recsys_lessons.validation import (
    check_indices,
    check_number,
    check_positive_int,
    check_seed,
)

__all__ = ["TwoTower", "in_batch_softmax_loss", "two_tower_loss"]

#: Added to squared vector lengths before dividing, so an empty history gives a zero vector, not NaN.
EPSILON = 1e-12


class TwoTower(Recommender):
    """Two towers trained with an in-batch sampled softmax, a temperature and the logQ correction.

    Towers (every vector is scaled to unit length, so a score is a cosine in ``[-1, 1]``):

    - item tower: ``v_i = normalize(e_i + sum_f x_if c_f)``, an id embedding ``e_i`` plus a
      linear map of the item's content features ``x_i`` (words, genres, ...: see
      :func:`~recsys_lessons.neural.content.item_content`). Either part may be left out
      (``use_item_ids=False``; no ``item_features``);
    - user tower: ``u = normalize(sum over the user's items j of h_j)``, the mean direction
      of separate history embeddings ``h_j``. It is a function of the history, so a new user
      is scored from theirs without retraining (:meth:`fold_in`).

    Training sees every stored entry of ``X`` as a positive pair ``(u, i)`` (values
    ignored). The user vector of a pair leaves ``h_i`` out of the sum: otherwise the model
    would learn to find the item in the history. For a batch of ``B`` pairs the logits
    are::

        logit[b, b'] = cos(u_b, v_{i_b'}) / temperature - log q_{i_b'}

    (the last term only with ``logq_correction``), where ``q_i`` is item ``i``'s share of
    the training pairs; other pairs of the batch with the same item are masked out. The loss
    is the cross-entropy of each row against its own item:
    ``mean over b of logsumexp_b' logit[b, b'] - logit[b, b]`` (:func:`in_batch_softmax_loss`).

    Why the correction, and its sign: the negatives of a row are the other items of the
    batch, so item ``j`` is a negative about ``B q_j`` times per batch, popular items far
    more often than a uniform sample would hold them. A sampled softmax with proposal ``Q``
    estimates the full softmax only with logits ``s - log Q`` (Bengio and Senecal 2008).
    Without the correction the optimum is ``s(u, i) = log P(i | u) - log q_i + const(u)``:
    popular items are *over*-penalised and the model recommends items less popular than
    its users watch (on MovieLens 100K, its accuracy collapses). Subtracting ``log q`` during
    training moves the ``-log q_i`` into the training logits, so ``s`` itself learns
    ``log P(i | u)`` and serving (which uses ``s``) ranks popular items back up.

    Items without a training interaction (new items) are scored by their content alone,
    ``normalize(sum_f x_if c_f)``; ``id_dropout`` trains that path to stand alone by
    dropping each batch item's id embedding with that probability. Items given only by
    their features (never columns of ``X``) are scored with :meth:`score_items`.

    Parameters
    ----------
    factors : int
        Length of the vectors.
    iterations : int
        Epochs over the positive pairs.
    learning_rate : float
        Adam's step size.
    regularization : float
        L2 penalty on every parameter (:func:`~recsys_lessons.neural.training.fit_adam`).
    batch_size : int
        Pairs per step, and so ``batch_size - 1`` negatives per pair.
    temperature : float > 0
        Divides the cosines: small values sharpen the softmax.
    logq_correction : bool
        Subtract ``log q_i`` from the training logits (Yi et al. 2019).
    use_item_ids : bool
        Give every item an id embedding ``e_i`` (else the item tower is content only).
    id_dropout : float in [0, 1)
        Probability of dropping a batch item's id embedding during training.
    item_features : ItemFeatures, sparse matrix, array or DataFrame, optional
        ``(n_items, n_features)``, row ``i`` for column ``i`` of ``X``; may be given to
        ``fit`` instead (there it wins). ``None``: ids only.
    seed : int
        Seeds the initialisation, the shuffles and the dropout: same seed, same scores.
    time_budget : float, optional
        Stop training after this many seconds, compilation included (the scores then
        depend on the machine's speed).

    Attributes
    ----------
    params_ : dict of str -> ndarray
        ``history`` (n_items, factors), ``item`` (n_items, factors) if ids are used and
        ``content`` (n_features, factors) if features are given.
    user_factors_ : ndarray, shape (n_users, factors)
        Unit user vectors of the training users.
    item_factors_ : ndarray, shape (n_items, factors)
        Unit item vectors (content only for items without interactions).
    item_probabilities_ : ndarray, shape (n_items,)
        ``q_i``: each item's share of the training pairs.
    losses_ : ndarray
        The loss of every training step.
    """

    def __init__(
        self,
        factors: int = 64,
        iterations: int = 4,
        learning_rate: float = 0.01,
        regularization: float = 0.0,
        batch_size: int = 1024,
        temperature: float = 0.2,
        logq_correction: bool = True,
        use_item_ids: bool = True,
        id_dropout: float = 0.0,
        item_features=None,
        seed: int = 0,
        time_budget: float | None = None,
    ):
        self.factors = factors
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.batch_size = batch_size
        self.temperature = temperature
        self.logq_correction = logq_correction
        self.use_item_ids = use_item_ids
        self.id_dropout = id_dropout
        self.item_features = item_features
        self.seed = seed
        self.time_budget = time_budget

    def fit(self, X, item_features=None) -> TwoTower:
        """Train both towers on ``X``; ``item_features`` given here win over the constructor's."""
        self.item_features_ = self.item_features if item_features is None else item_features
        return super().fit(X)

    def _fit(self, X: sp.csr_matrix) -> None:
        factors = check_positive_int(self.factors, "factors", "the vector length")
        iterations = check_positive_int(self.iterations, "iterations", "the number of epochs")
        batch_size = check_positive_int(self.batch_size, "batch_size", "pairs per step")
        temperature = check_number(self.temperature, "temperature", 0, low_open=True)
        check_number(self.id_dropout, "id_dropout", 0, 1, high_open=True)
        seed = check_seed(self.seed)
        self.content_ = _content_rows(self.item_features_, X.shape[1])
        if not self.use_item_ids and self.content_ is None:
            raise ValueError(
                "use_item_ids=False needs item_features (the item tower would be empty); pass "
                "item_features=item_content(dataset.items.reindex(matrix.item_ids))."
            )
        users, items = positive_pairs(X)
        counts = np.bincount(items, minlength=X.shape[1])
        self.item_probabilities_ = counts / len(items)
        log_q = np.log(np.maximum(self.item_probabilities_, EPSILON)).astype(np.float32)
        if not self.logq_correction:
            log_q = np.zeros_like(log_q)
        params = self._init_params(X.shape[1], factors, np.random.default_rng(seed))
        shared = self._shared_batch(X, temperature)
        batches = epoch_batches(
            len(users),
            batch_size,
            iterations,
            seed,
            make=lambda rows: {
                **shared,
                "users": users[rows],
                "items": items[rows],
                "log_q": log_q[items[rows]],
            },
        )
        params, self.losses_ = fit_adam(
            two_tower_loss,
            params,
            batches,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            seed=seed,
            description="TwoTower",
            time_budget=self.time_budget,
        )
        self.params_ = {name: np.asarray(value) for name, value in params.items()}
        self.warm_items_ = np.flatnonzero(counts)
        self.item_factors_ = self._item_vectors(warm=counts > 0)
        self.user_factors_ = self._user_vectors(X)

    def _init_params(self, n_items: int, factors: int, rng) -> dict:
        params = {"history": rng.normal(0.0, 0.1, (n_items, factors)).astype(np.float32)}
        if self.use_item_ids:
            params["item"] = rng.normal(0.0, 0.1, (n_items, factors)).astype(np.float32)
        if self.content_ is not None:
            n_features = self.content_[2]
            params["content"] = rng.normal(0.0, 0.1, (n_features, factors)).astype(np.float32)
        return params

    def _shared_batch(self, X: sp.csr_matrix, temperature: float) -> dict:
        """What every training step reads besides its pairs: histories, content, settings."""
        pattern = sp.coo_matrix(X)
        shared = {
            "history": jsparse.BCOO(
                (jnp.ones(X.nnz), jnp.stack([pattern.row, pattern.col], axis=1)), shape=X.shape
            ),
            "temperature": np.float32(temperature),
            "keep": np.float32(1.0 - self.id_dropout if self.use_item_ids else 0.0),
        }
        if self.content_ is not None:
            shared["content"] = tuple(jnp.asarray(array) for array in self.content_[:2])
        return shared

    def _item_vectors(self, warm: np.ndarray) -> np.ndarray:
        """Unit vectors of every column: id + content when warm, content only when cold."""
        items = np.arange(len(warm))
        keep = warm if self.use_item_ids else None
        return np.asarray(_unit(_item_tower(self.params_, items, self.content_, keep)))

    def _user_vectors(self, history: sp.csr_matrix) -> np.ndarray:
        pattern = sp.csr_matrix(
            (np.ones(history.nnz), history.indices, history.indptr), shape=history.shape
        )
        return _unit_numpy(pattern @ self.params_["history"])

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def fold_in(self, history) -> np.ndarray:
        """Scores of every item for new users known only by ``history``, without retraining.

        The user tower applied to the history (every stored entry counts once, values
        ignored): ``fold_in(X[users])`` equals ``score(users)`` for training users.

        Returns
        -------
        ndarray, shape (n_new_users, n_items)
        """
        self._require_fitted()
        return self._user_vectors(as_history_csr(history, self.n_items_)) @ self.item_factors_.T

    def item_vectors(self, item_features) -> np.ndarray:
        """Unit vectors of items described by ``item_features`` alone (the content tower).

        For items that were not columns of ``X``: row ``i`` of ``item_features`` (same
        columns as the features given to ``fit``) becomes ``normalize(sum_f x_if c_f)``.
        """
        self._require_fitted()
        if self.content_ is None:
            raise ValueError(
                "this TwoTower was fitted without item_features, so it has no content tower; "
                "fit it with item_features to score items by their content."
            )
        n_features = self.content_[2]
        rows = _content_rows(item_features, None, n_features)
        items = np.arange(rows[0].shape[0])
        return np.asarray(_unit(_item_tower(self.params_, items, rows, None)))

    def score_items(self, users, item_features) -> np.ndarray:
        """Scores ``(len(users), n_new_items)`` of new items, from their content alone."""
        self._require_fitted()
        users = check_indices(users, self.n_users_, "user")
        return self.user_factors_[users] @ self.item_vectors(item_features).T


def two_tower_loss(params, batch, key):
    """The training loss of one batch of pairs (see :class:`TwoTower`).

    ``batch`` holds the pairs (``users``, ``items``, their ``log_q``: zeros without the
    correction), the training ``history`` (sparse users x items pattern), the item
    ``content`` rows (if any), the ``temperature`` and ``keep`` (1 - id_dropout; 0 without
    ids). The user vector of a pair leaves its own item out of the history sum.
    """
    users, items = batch["users"], batch["items"]
    sums = batch["history"] @ params["history"]
    user = _unit(sums[users] - params["history"][items])
    keep = jax.random.bernoulli(key, batch["keep"], items.shape)
    item = _unit(_item_tower(params, items, batch.get("content"), keep))
    return in_batch_softmax_loss(user, item, items, batch["temperature"], batch["log_q"])


def in_batch_softmax_loss(user, item, items, temperature, log_q=None):
    """Sampled softmax over the batch: each row's positive against the other rows' items.

    Parameters
    ----------
    user, item : arrays, shape (B, d)
        Unit vectors of the users and of their positive items (row ``b`` is a pair).
    items : int array, shape (B,)
        The item ids, to mask other pairs of the batch holding the same item.
    temperature : float
    log_q : array, shape (B,), optional
        ``log q`` of each row's item; subtracted from its column of logits (logQ correction).

    Returns
    -------
    scalar: ``mean_b [logsumexp_b' logit[b, b'] - logit[b, b]]``.
    """
    logits = user @ item.T / temperature
    if log_q is not None:
        logits = logits - log_q[None, :]
    duplicate = (items[:, None] == items[None, :]) & ~jnp.eye(len(items), dtype=bool)
    logits = jnp.where(duplicate, -jnp.inf, logits)
    return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.diagonal(logits))


def _item_tower(params, items, content, keep):
    """``keep * e_i + sum_f x_if c_f`` for ``items`` (either term absent when unused)."""
    vectors = 0.0
    if "item" in params and keep is not None:
        vectors = jnp.where(jnp.asarray(keep)[:, None], params["item"][items], 0.0)
    if content is not None:
        index, weight = content[:2]
        vectors = vectors + jnp.einsum("nm,nmd->nd", weight[items], params["content"][index[items]])
    return vectors


def _unit(vectors):
    """``v / sqrt(|v|^2 + EPSILON)``: unit length, and a zero vector (a user whose only item
    is the one left out) stays zero with a finite gradient (``jnp.linalg.norm`` has none at 0)."""
    return vectors * jax.lax.rsqrt(jnp.sum(jnp.square(vectors), axis=-1, keepdims=True) + EPSILON)


def _unit_numpy(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.sqrt(np.sum(np.square(vectors), axis=1, keepdims=True) + EPSILON)


def _content_rows(features, n_items: int | None, n_features: int | None = None):
    """Features as padded rows ``(index, weight, n_features)`` for an embedding bag, or None.

    Row ``i`` lists the non-zero columns of item ``i`` (padded with column 0, weight 0).
    """
    if features is None:
        return None
    if isinstance(features, ItemFeatures):
        features = features.matrix
    if isinstance(features, pd.DataFrame):
        features = features.to_numpy(dtype=np.float64)
    matrix = sp.csr_matrix(features, dtype=np.float32)
    if matrix.ndim != 2 or (n_items is not None and matrix.shape[0] != n_items):
        raise ValueError(
            f"item_features must have one row per item column of X ({n_items}); got shape "
            f"{matrix.shape}. Build them with item_content(dataset.items.reindex(matrix.item_ids))."
        )
    if n_features is not None and matrix.shape[1] != n_features:
        raise ValueError(
            f"item_features have {matrix.shape[1]} columns but the model was fitted on "
            f"{n_features}; describe new items with the same feature columns."
        )
    if not np.isfinite(matrix.data).all():
        raise ValueError("item_features hold NaN or infinite values; fill them first.")
    lengths = np.diff(matrix.indptr)
    width = max(int(lengths.max(initial=0)), 1)
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    slots = np.arange(matrix.nnz) - np.repeat(matrix.indptr[:-1], lengths)
    index = np.zeros((matrix.shape[0], width), dtype=np.int32)
    weight = np.zeros((matrix.shape[0], width), dtype=np.float32)
    index[rows, slots], weight[rows, slots] = matrix.indices, matrix.data
    return index, weight, matrix.shape[1]
