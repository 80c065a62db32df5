"""The one training loop of the neural area: Adam on a loss, jit-compiled, seeded.

Every neural model of the course writes its loss as a function ``loss(params, batch, key)``
of its parameters (a pytree of arrays), one batch (a pytree of numpy arrays) and a PRNG key
(for dropout), and hands it to :func:`fit_adam`. Autodiff (``jax.value_and_grad``) replaces
the hand-derived gradients of lesson 04.

| function | job |
| --- | --- |
| :func:`fit_adam` | Adam on ``loss + regularization * sum of squares``; optional early stopping |
| :func:`epoch_batches` | the batches of several epochs: seeded shuffles of the row indices |
| :func:`positive_pairs` | the ``(user, item)`` pairs of the stored entries of a matrix |
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time
from collections.abc import Callable, Iterable

import jax
import jax.numpy as jnp
import numpy as np
import optax
import scipy.sparse as sp
from tqdm.auto import tqdm

from recsys_lessons.validation import check_number, check_positive_int, check_seed

__all__ = ["epoch_batches", "fit_adam", "l2_penalty", "positive_pairs", "show_progress"]


def show_progress(progress) -> bool:
    """Whether to draw a progress bar: ``progress`` if given, else only on a terminal.

    ``None`` means "a bar unless standard error is not a terminal or the environment
    variable ``RECSYS_LESSONS_NO_PROGRESS`` is set" (tests and CI set it).
    """
    if progress is not None:
        return bool(progress)
    return sys.stderr.isatty() and not os.environ.get("RECSYS_LESSONS_NO_PROGRESS")


def l2_penalty(params) -> jax.Array:
    """Sum of the squares of every parameter array of the pytree."""
    return sum(jnp.sum(jnp.square(leaf)) for leaf in jax.tree_util.tree_leaves(params))


def fit_adam(
    loss: Callable,
    params,
    batches: Iterable,
    *,
    learning_rate: float,
    regularization: float = 0.0,
    seed: int = 0,
    progress: bool | None = None,
    description: str = "training",
    time_budget: float | None = None,
    validate: Callable | None = None,
    check_every: int | None = None,
    patience: int | None = None,
):
    """Minimise ``loss(params, batch, key)`` with Adam (optax), one jit-compiled step per batch.

    The objective of each step is::

        loss(params, batch, key) + regularization * sum over parameters of p ** 2

    a coupled L2 penalty (added to the loss, so it goes through Adam's scaling like the
    data gradient; not AdamW's decoupled weight decay). Adam is Kingma and Ba, ICLR 2015.

    Parameters
    ----------
    loss : callable
        ``loss(params, batch, key) -> scalar`` written with ``jax.numpy``.
    params : pytree of arrays
        Initial parameters (dict of arrays, ...).
    batches : iterable
        Batches (pytrees of numpy arrays) already covering every epoch, e.g.
        :func:`epoch_batches`. Its ``len``, when it has one, sizes the progress bar.
    learning_rate : float
        Adam's step size, > 0.
    regularization : float
        Weight of the L2 penalty, >= 0.
    seed : int
        Seeds the PRNG keys: step ``t`` receives ``fold_in(PRNGKey(seed), t)``.
    progress : bool or None
        ``None``: a tqdm bar unless standard error is not a terminal or
        ``RECSYS_LESSONS_NO_PROGRESS`` is set; ``False``: silent; ``True``: always.
    description : str
        Label of the progress bar.
    time_budget : float or None
        Stop after this many seconds (compilation included, validation too); ``None``: run
        every batch.
    validate : callable or None
        Early stopping and model selection: ``validate(params) -> float``, higher is better
        (e.g. a validation nDCG@10). Called every ``check_every`` steps and after the last
        step taken; ``fit_adam`` then returns the parameters of the best check (the first
        one on ties), not the last. Training itself is unchanged: Adam's state runs on
        across checks and the compiled step is reused.
    check_every : int or None
        Steps between two calls of ``validate`` (e.g. the steps of one epoch); required
        with ``validate``.
    patience : int or None
        Stop once this many checks in a row have not beaten the best score; ``None``: run
        every batch (still returning the best-checked parameters). Requires ``validate``.

    Returns
    -------
    params : pytree of jax arrays
        The final parameters, or with ``validate`` the best-checked ones.
    losses : ndarray of float, shape (steps,)
        The data loss (without the penalty) of each step taken.
    """
    learning_rate = check_number(learning_rate, "learning_rate", 0, low_open=True)
    regularization = check_number(regularization, "regularization", 0)
    seed = check_seed(seed)
    if time_budget is not None:
        time_budget = check_number(time_budget, "time_budget", 0, low_open=True)
    best = _Best(validate, check_every, patience)
    optimizer, step = _make_step(loss, learning_rate, regularization)
    params = jax.tree_util.tree_map(jnp.asarray, params)
    state = optimizer.init(params)
    base_key = jax.random.PRNGKey(seed)
    start = time.perf_counter()
    losses = []
    total = len(batches) if hasattr(batches, "__len__") else None
    bar = tqdm(batches, total=total, desc=description, disable=not show_progress(progress))
    for t, batch in enumerate(bar):
        params, state, value = step(params, state, batch, jax.random.fold_in(base_key, t))
        losses.append(value)
        if best.due(t + 1) and best.check(params):
            break
        if time_budget is not None and _elapsed(value, start) > time_budget:
            break
    bar.close()
    return best.final(params, len(losses)), np.asarray(jax.device_get(losses), dtype=np.float64)


class _Best:
    """The best-validated parameters of :func:`fit_adam` and when to stop (no copies:
    JAX arrays are immutable, so keeping a reference is enough)."""

    def __init__(self, validate, check_every, patience):
        if validate is None:
            if check_every is not None or patience is not None:
                raise ValueError(
                    "check_every and patience need validate (the score to early-stop on); "
                    "pass validate=callable(params) -> float, or neither."
                )
        elif not callable(validate):
            raise ValueError(f"validate must be callable(params) -> float; got {validate!r}.")
        else:
            check_every = check_positive_int(check_every, "check_every", "steps between checks")
            if patience is not None:
                patience = check_positive_int(patience, "patience", "checks without progress")
        self.validate, self.check_every, self.patience = validate, check_every, patience
        self.score, self.best, self.stale = -math.inf, None, 0

    def due(self, steps: int) -> bool:
        """Whether ``validate`` runs after ``steps`` steps."""
        return self.validate is not None and steps % self.check_every == 0

    def check(self, params) -> bool:
        """Score ``params``, keep them if they beat the best; True when patience ran out."""
        score = float(self.validate(params))
        if math.isnan(score):
            raise ValueError("validate returned NaN; it must return a number, higher is better.")
        if self.best is None or score > self.score:
            self.score, self.best, self.stale = score, params, 0
        else:
            self.stale += 1
        return self.patience is not None and self.stale >= self.patience

    def final(self, last, steps: int):
        """The parameters to return: ``last`` without validation, else the best checked
        (``last`` is checked first if its step was not)."""
        if self.validate is None:
            return last
        if steps and not self.due(steps):
            self.check(last)
        return last if self.best is None else self.best


@functools.lru_cache(maxsize=16)
def _make_step(loss: Callable, learning_rate: float, regularization: float) -> tuple:
    """Adam and its jit-compiled step ``(params, state, batch, key) -> (params, state, loss)``.

    Cached: a model whose loss is a module-level function (data and settings in the batch)
    reuses the compiled step when it is fitted again on data of the same shapes (clones,
    other seeds, the logQ correction on and off).
    """
    optimizer = optax.adam(learning_rate)

    def objective(params, batch, key):
        value = loss(params, batch, key)
        return value + regularization * l2_penalty(params), value

    @jax.jit
    def step(params, state, batch, key):
        (_, value), grads = jax.value_and_grad(objective, has_aux=True)(params, batch, key)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    return optimizer, step


def _elapsed(value, start: float) -> float:
    """Seconds since ``start`` once ``value`` is computed (JAX dispatches asynchronously)."""
    jax.block_until_ready(value)
    return time.perf_counter() - start


class _EpochBatches:
    """Sized iterable of the batches of :func:`epoch_batches` (built lazily)."""

    def __init__(self, n_rows, batch_size, iterations, seed, make):
        self.n_rows, self.batch_size, self.iterations = n_rows, batch_size, iterations
        self.seed, self.make = seed, make

    def __len__(self) -> int:
        return self.iterations * math.ceil(self.n_rows / self.batch_size)

    def __iter__(self):
        rng = np.random.default_rng(self.seed)
        size = min(self.batch_size, self.n_rows)
        for _ in range(self.iterations):
            order = rng.permutation(self.n_rows)
            for begin in range(0, self.n_rows, size):
                begin = min(begin, self.n_rows - size)
                yield self.make(order[begin : begin + size])


def epoch_batches(
    n_rows: int, batch_size: int, iterations: int, seed: int = 0, make: Callable | None = None
):
    """Batches of ``iterations`` epochs over ``n_rows`` training rows, shuffled anew each epoch.

    Each epoch is a seeded permutation of ``range(n_rows)`` cut into batches of
    ``min(batch_size, n_rows)`` rows. Every batch has that size, so the jit-compiled step
    is compiled once: the last batch of an epoch is its last ``batch_size`` rows, which
    overlap the batch before (every row is seen at least once per epoch). ``make(indices)`` turns a batch of
    row indices into the batch the loss reads (default: the indices themselves). The
    result has a ``len`` (the number of steps) and is built lazily, so every epoch is not
    held in memory at once; iterating it twice gives the same batches.
    """
    n_rows = check_positive_int(n_rows, "n_rows", "the number of training rows")
    batch_size = check_positive_int(batch_size, "batch_size", "rows per gradient step")
    iterations = check_positive_int(iterations, "iterations", "the number of epochs")
    seed = check_seed(seed)
    return _EpochBatches(n_rows, batch_size, iterations, seed, make or (lambda index: index))


def positive_pairs(X: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every stored entry of ``X`` (its value ignored), as ``int32`` arrays."""
    X = sp.csr_matrix(X)
    users = np.repeat(np.arange(X.shape[0], dtype=np.int32), np.diff(X.indptr))
    return users, X.indices.astype(np.int32)
