"""SASRec: a causal transformer that reads the last items of a history and predicts the next.

Kang and McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018. ``benchmarks/neural.py`` compares
it with lesson 07's Markov chain, session-kNN and ALS + Markov blend under the same
leave-last-out protocol (:mod:`recsys_lessons.sequences.next_item`).

The network
-----------
A history is cut to its last ``L = max_length`` items and left-padded (padding is id 0,
item ``i`` is id ``i + 1``). With ``E`` the item embeddings (one row per id, ``factors``
columns) and ``P`` the learned position embeddings (position ``L - 1`` is the most recent
item)::

    h_t   = (E[x_t] + P[t]) * [x_t is an item]              for t = 0 .. L - 1
    h     = n_blocks x transformer_block(h)                  (causal, see below)
    s_t   = layer_norm(h_t)
    score(j | x_0 .. x_t) = s_t . E[j + 1]                   (the same E: shared output layer)

Each block is causal multi-head self-attention then a point-wise feed-forward network, both
in residual branches with layer norm and dropout (:mod:`recsys_lessons.neural.attention`).
Position ``t`` reads the items ``x_0 .. x_t`` (its own input included) and never a later one,
so ``s_t`` predicts ``x_{t+1}`` from what came before it; padding is read by nobody.

Training and scoring
--------------------
Every training sequence is cut, from its end, into windows of ``L + 1`` items (the inputs
are the first ``L``, the targets the last ``L``; consecutive windows share one item, so each
transition of the data is a target exactly once). The loss is the full softmax over all
items at every position that has a target::

    loss = mean over (window, t) of  -log( exp(score(y_t)) / sum over j of exp(score(j)) )

The paper samples one negative per position with a binary cross-entropy; the full softmax
is cheap on catalogues of a few thousand items and ranks better (issue 22's prototype on
MovieLens 100K: HR@10 0.169 against 0.130). Adam (:func:`~recsys_lessons.neural.training.fit_adam`)
runs ``iterations`` epochs, or fewer when ``time_budget`` seconds run out.

Early stopping: ``fit(sequences, validation=(histories, targets))`` scores the network after
every epoch by full-ranking nDCG@10 of ``targets`` given ``histories`` (each history's own
items excluded, as :func:`~recsys_lessons.sequences.next_item.evaluate_next_item` does),
keeps the parameters of the best epoch and, with ``patience``, stops once that many epochs
in a row have not beaten it. Build the pair with
:func:`~recsys_lessons.sequences.next_item.next_item_split` on the training history, so the
test targets are never read::

    history, test_targets, _ = next_item_split(sequences)
    inner, validation_targets, _ = next_item_split(history)
    model = SASRec(patience=3).fit(inner, validation=(inner, validation_targets))
``score(histories, rows)`` runs the network over each history's last ``L`` items and
returns the scores of the last position, ``s_{L-1} . E[j + 1]`` for every item ``j``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from recsys_lessons.metrics import ndcg_at_k
from recsys_lessons.neural.attention import (
    attention_mask,
    causal_mask,
    dropout,
    init_block,
    layer_norm,
    transformer_block,
)
from recsys_lessons.neural.training import epoch_batches, fit_adam
from recsys_lessons.sequences.models import SequentialRecommender
from recsys_lessons.sequences.next_item import Sequences
from recsys_lessons.top_k import top_k_indices
from recsys_lessons.validation import (
    check_number,
    check_positive_int,
    check_probability,
    check_seed,
)

__all__ = ["SASRec", "causal_mask", "encode", "init_params", "network_scores", "training_windows"]

#: Histories scored per call of the compiled network (the last call is padded to it).
SCORE_BATCH = 256
#: Cutoff of the validation nDCG that early stopping watches.
VALIDATION_K = 10


class SASRec(SequentialRecommender):
    """Self-attentive sequential recommendation (Kang and McAuley, ICDM 2018), in JAX.

    See the module docstring for the network, the loss and what each position may read.

    Parameters
    ----------
    factors : int
        Width of the item and position embeddings and of every layer.
    max_length : int
        Most recent items read per history (``L``).
    n_blocks : int
        Transformer blocks.
    n_heads : int
        Attention heads per block; must divide ``factors``.
    dropout : float in [0, 1)
        Dropout rate on the embeddings and on the output of every residual branch.
    iterations : int
        Epochs over the training windows.
    learning_rate : float
        Adam's step size.
    regularization : float
        L2 penalty on every parameter (see :func:`~recsys_lessons.neural.training.fit_adam`).
    batch_size : int
        Windows per gradient step.
    seed : int
        Seeds the initialization, the shuffles and the dropout: same seed, same scores.
    time_budget : float or None
        Stop training after this many seconds, compilation included (None: every epoch).
    progress : bool or None
        Progress bar during training (None: only on a terminal, see ``fit_adam``).
    patience : int or None
        With ``fit(..., validation=...)``: stop after this many epochs in a row without a
        better validation nDCG@10 (None: run every epoch, still keeping the best one).

    Attributes
    ----------
    params_ : dict of ndarray
        ``items`` (``(n_items + 1, factors)``, row 0 is padding), ``positions``
        (``(max_length, factors)``), ``blocks`` (one dict per block) and ``norm``.
    losses_ : ndarray
        Training loss of each step.
    validation_scores_ : ndarray
        Only after ``fit(..., validation=...)``: the validation nDCG@10 after each epoch
        (and after the last step when ``time_budget`` cut an epoch short). ``params_`` are
        those of the first best one.
    """

    def __init__(
        self,
        factors: int = 64,
        max_length: int = 50,
        n_blocks: int = 2,
        n_heads: int = 1,
        dropout: float = 0.2,
        iterations: int = 10,
        learning_rate: float = 5e-3,
        regularization: float = 0.0,
        batch_size: int = 64,
        seed: int = 0,
        time_budget: float | None = None,
        progress: bool | None = None,
        patience: int | None = None,
    ):
        self.factors = factors
        self.max_length = max_length
        self.n_blocks = n_blocks
        self.n_heads = n_heads
        self.dropout = dropout
        self.iterations = iterations
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.batch_size = batch_size
        self.seed = seed
        self.time_budget = time_budget
        self.progress = progress
        self.patience = patience

    def fit(self, sequences: Sequences, validation=None) -> SASRec:
        """Learn from ``sequences``; ``validation=(histories, targets)`` turns on early stopping.

        ``histories`` is a :class:`~recsys_lessons.sequences.next_item.Sequences` indexed like
        ``sequences`` and ``targets`` its held-out item per sequence (-1: not evaluated), as
        returned by :func:`~recsys_lessons.sequences.next_item.next_item_split`. See the
        module docstring.
        """
        self._validation = validation  # read by _fit, which the base class's fit calls
        try:
            return super().fit(sequences)
        finally:
            del self._validation

    def _check_params(self) -> None:
        factors = check_positive_int(self.factors, "factors", "the embedding width")
        check_positive_int(self.max_length, "max_length", "items read per history")
        check_positive_int(self.n_blocks, "n_blocks", "transformer blocks")
        n_heads = check_positive_int(self.n_heads, "n_heads", "attention heads")
        if factors % n_heads:
            raise ValueError(
                f"n_heads={n_heads} must divide factors={factors} (each head reads "
                "factors / n_heads columns); change one of them."
            )
        check_probability(self.dropout, "dropout")
        if self.dropout == 1:
            raise ValueError("dropout must be below 1 (1 drops everything); got 1.")
        check_positive_int(self.iterations, "iterations", "epochs")
        check_number(self.learning_rate, "learning_rate", 0, low_open=True)
        check_number(self.regularization, "regularization", 0)
        check_positive_int(self.batch_size, "batch_size", "windows per gradient step")
        check_seed(self.seed)
        if self.time_budget is not None:
            check_number(self.time_budget, "time_budget", 0, low_open=True)
        if self.patience is not None:
            check_positive_int(self.patience, "patience", "epochs without progress")

    def _fit(self, sequences: Sequences) -> None:
        inputs, targets = training_windows(sequences, self.max_length)
        if len(inputs) == 0:
            raise ValueError(
                "no sequence has two events, so there is no next item to learn; SASRec "
                "needs sequences of at least two events."
            )
        scores = []  # the validation nDCG@10 of each check
        validate = self._validator(self._validation, scores)
        init_key, _ = jax.random.split(jax.random.PRNGKey(self.seed))
        params = init_params(init_key, self.n_items_, self.factors, self.max_length, self.n_blocks)

        def make(index):  # pad the last batch with empty windows: one shape, one compilation
            index = np.concatenate([index, np.full(self.batch_size - len(index), -1)])
            empty = (index < 0)[:, None]
            return {
                "inputs": np.where(empty, 0, inputs[index]),
                "targets": np.where(empty, -1, targets[index]),
            }

        batches = epoch_batches(len(inputs), self.batch_size, self.iterations, self.seed, make)
        stopping = {}
        if validate is not None:
            stopping = {
                "validate": validate,
                "check_every": len(batches) // self.iterations,  # once per epoch
                "patience": self.patience,
            }
        params, self.losses_ = fit_adam(
            _training_loss(self.n_heads, float(self.dropout)),
            params,
            batches,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            seed=self.seed,
            progress=self.progress,
            description="SASRec",
            time_budget=self.time_budget,
            **stopping,
        )
        self.params_ = jax.device_get(params)
        if validate is not None:
            self.validation_scores_ = np.array(scores)

    def _validator(self, validation, scores: list):
        """``params -> validation nDCG@10`` (also appended to ``scores``) for
        ``validation=(histories, targets)``, or None without validation."""
        if validation is None:
            if self.patience is not None:
                raise ValueError(
                    f"patience={self.patience} needs fit(sequences, validation=(histories, "
                    "targets)) to know when to stop; pass one, or set patience=None."
                )
            return None
        if not isinstance(validation, tuple) or len(validation) != 2:
            raise ValueError(
                "validation must be a (histories, targets) pair, e.g. the first two results "
                "of next_item_split(history)."
            )
        histories, targets = validation
        self._check_histories(histories, None)
        targets = np.asarray(targets)
        if (
            targets.shape != (histories.n_sequences,)
            or not np.issubdtype(targets.dtype, np.integer)
            or targets.max(initial=-1) >= self.n_items_
            or not (targets >= 0).any()
        ):
            raise ValueError(
                f"validation targets must hold one item index (or -1) per history sequence "
                f"({histories.n_sequences}), at least one of them an item; got shape "
                f"{targets.shape}."
            )
        rows = np.flatnonzero(targets >= 0)
        inputs = history_inputs(histories, rows, self.max_length)
        seen = histories.history_matrix()[rows].nonzero()
        k = min(VALIDATION_K, self.n_items_)

        def validate(params):
            ranked = network_scores(params, inputs, self.n_heads)
            ranked[seen] = -np.inf
            scores.append(ndcg_at_k(top_k_indices(ranked, k), targets[rows, None], k=k))
            return scores[-1]

        return validate

    def _score(self, histories, rows):
        inputs = history_inputs(histories, rows, self.max_length)
        return network_scores(self.params_, inputs, self.n_heads)


@functools.lru_cache(maxsize=16)
def _training_loss(n_heads: int, rate: float):
    """The loss ``fit_adam`` minimises, one function per setting: a refit with the same
    settings and shapes reuses the compiled step (``fit_adam`` caches it per loss)."""

    def loss(params, batch, key):
        return next_item_loss(params, batch["inputs"], batch["targets"], n_heads, rate, key)

    return loss


def network_scores(params, inputs, n_heads: int) -> np.ndarray:
    """``(n, n_items)`` scores from the last position for ``(n, L)`` input ids, in batches of
    ``SCORE_BATCH`` (the last one padded, so the network compiles once per shape)."""
    n = len(inputs)
    padded = np.zeros((-(-n // SCORE_BATCH) * SCORE_BATCH, inputs.shape[1]), np.int32)
    padded[:n] = inputs
    parts = [
        _last_position_scores(params, padded[start : start + SCORE_BATCH], n_heads)
        for start in range(0, len(padded), SCORE_BATCH)
    ]
    return np.concatenate([np.asarray(part) for part in parts])[:n]


def init_params(key, n_items: int, factors: int, max_length: int, n_blocks: int) -> dict:
    """Initial parameters: embeddings ``N(0, 1/factors)``, blocks by :func:`init_block`."""
    keys = jax.random.split(key, n_blocks + 2)
    scale = 1.0 / np.sqrt(factors)
    return {
        "items": jax.random.normal(keys[0], (n_items + 1, factors)) * scale,
        "positions": jax.random.normal(keys[1], (max_length, factors)) * scale,
        "blocks": [init_block(k, factors) for k in keys[2:]],
        "norm": {"scale": jnp.ones(factors), "bias": jnp.zeros(factors)},
    }


def encode(params, inputs, n_heads: int, rate: float = 0.0, key=None):
    """The network: ``(batch, L)`` input ids (0 = padding) -> ``(batch, L, factors)`` states.

    The state at position ``t`` depends on the inputs at ``0..t`` only, and never on a
    padding input. ``key=None`` switches dropout off (scoring).
    """
    valid = inputs > 0
    keep = valid[..., None]
    keys = [None] * (len(params["blocks"]) + 1)
    if key is not None:
        keys = list(jax.random.split(key, len(keys)))
    h = (params["items"][inputs] + params["positions"]) * keep
    h = dropout(h, rate, keys[0])
    mask = attention_mask(valid)
    for block, block_key in zip(params["blocks"], keys[1:], strict=True):
        h = transformer_block(block, h, mask, n_heads, rate, block_key) * keep
    return layer_norm(params["norm"], h)


def next_item_loss(params, inputs, targets, n_heads: int, rate: float, key):
    """Mean full-softmax cross-entropy of the target item at every position that has one.

    ``targets`` is ``(batch, L)`` item indices, -1 where there is no target (padding).
    """
    states = encode(params, inputs, n_heads, rate, key)
    logits = states @ params["items"][1:].T
    has_target = targets >= 0
    picked = jnp.take_along_axis(logits, jnp.maximum(targets, 0)[..., None], axis=-1)[..., 0]
    losses = jax.nn.logsumexp(logits, axis=-1) - picked
    return jnp.sum(losses * has_target) / jnp.maximum(has_target.sum(), 1)


@jax.jit(static_argnames="n_heads")
def _last_position_scores(params, inputs, n_heads: int):
    """Scores of every item from the last position's state, ``(batch, n_items)``."""
    return encode(params, inputs, n_heads)[:, -1] @ params["items"][1:].T


def training_windows(sequences: Sequences, max_length: int):
    """Cut every sequence, from its end, into windows of ``max_length`` transitions.

    Returns ``inputs`` and ``targets``, both ``(n_windows, max_length)`` int32: ``inputs``
    holds item ids (item + 1, 0 = padding, left-padded), ``targets`` the item that followed
    each input (-1 where there is none). Transition ``x -> y`` of a sequence appears once.
    """
    max_length = check_positive_int(max_length, "max_length")
    sequence = sequences.sequence_of_event
    same = sequence[1:] == sequence[:-1]  # event e -> e + 1 is a transition
    source = np.flatnonzero(same)
    transitions = np.bincount(sequence[source], minlength=sequences.n_sequences)
    from_end = sequences.indptr[1:][sequence[source]] - 2 - source  # 0 = the last transition
    windows = -(-transitions // max_length)
    first_window = np.concatenate(([0], np.cumsum(windows)))[:-1]
    window = first_window[sequence[source]] + windows[sequence[source]] - 1 - from_end // max_length
    slot = max_length - 1 - from_end % max_length
    inputs = np.zeros((windows.sum(), max_length), np.int32)
    targets = np.full((windows.sum(), max_length), -1, np.int32)
    inputs[window, slot] = sequences.items[source] + 1
    targets[window, slot] = sequences.items[source + 1]
    return inputs, targets


def history_inputs(histories: Sequences, rows, max_length: int) -> np.ndarray:
    """``(len(rows), max_length)`` int32 ids of each history's last items, oldest first, left-padded."""
    last = histories.last_items(max_length)[rows][:, ::-1]  # -1 for missing
    return (last + 1).astype(np.int32)
