"""Checks for lesson 08 (exercises/08_deep_learning.ipynb): the pieces of a neural recommender.

- q1, ``in_batch_softmax_loss(user, item, items, temperature, log_q)``: row ``b`` of the batch
  is a pair (user vector ``user[b]``, vector ``item[b]`` of the item ``items[b]`` they watched);
  ``logit[b, b'] = user[b] . item[b'] / temperature - log_q[b']`` (the logQ correction is
  subtracted from the COLUMN of the item); entries ``b' != b`` holding the same item as row
  ``b`` are masked (-inf); the answer is ``mean over b of logsumexp_b' logit[b, b'] -
  logit[b, b]``. Reference: :func:`recsys_lessons.neural.in_batch_softmax_loss`.
- q2, ``causal_mask(length)``: the boolean ``(length, length)`` matrix, True where position
  ``t`` (row) may read position ``s`` (column), i.e. ``s <= t``: the past AND the position
  itself, whose target is the next input. Reference: :func:`recsys_lessons.neural.causal_mask`.
- q3, ``sgd_step(loss, params, batch, learning_rate, regularization)``: one step of plain
  gradient descent on ``loss(params, batch) + regularization * sum of squares of params``
  (the objective of :func:`recsys_lessons.neural.training.fit_adam`, with
  :func:`~recsys_lessons.neural.training.l2_penalty`), params a dict of arrays. Checked on the
  library's matrix-factorization loss (``GradientMF``) and on its in-batch softmax loss.
- q4, ``recommend_unseen(scores, seen, k)``: for each row of a model's score matrix, the ``k``
  best items the user has not seen, best first (the library's ``recommend(exclude_seen=True)``).

Scores and vectors are random, so no two scores tie. Wrong answers with their own hint: q1 no
correction (or the correction on the rows, which cancels), the wrong sign, the correction
divided by the temperature, the temperature multiplied, the wrong axis, duplicates not masked,
the positive masked, a sum over rows; q2 the future visible, the forbidden pairs marked True
(PyTorch's convention), the most recent item hidden, no mask, a 0/1 number matrix; q3 gradient
ascent, no learning rate, no penalty, the penalty's gradient without its factor 2; q4 seen items
kept, set to 0 instead of -inf, everyone's seen items removed from everyone, seen items filtered
out after the cut, worst first, ``np.argpartition`` without a final sort (lists of 200 and 300
out of 1,000 items). An answer that writes into its inputs is refused by the framework.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import logsumexp

from recsys_lessons.checks import FunctionQuestion, Mistake, case
from recsys_lessons.neural.attention import causal_mask as _library_causal_mask
from recsys_lessons.neural.mf import dot_similarity
from recsys_lessons.neural.training import l2_penalty
from recsys_lessons.neural.two_tower import in_batch_softmax_loss as _library_loss
from recsys_lessons.top_k import top_k_indices

__all__ = ["q1", "q2", "q3", "q4"]


# --------------------------------------------------------------------------------------
# q1: the in-batch softmax loss with the logQ correction
# --------------------------------------------------------------------------------------


def _in_batch_softmax_loss(user, item, items, temperature, log_q):
    value = _library_loss(
        np.asarray(user), np.asarray(item), np.asarray(items), temperature, np.asarray(log_q)
    )
    return np.asarray(float(value))  # a 0-d array: compared with a tolerance, JAX or NumPy


def _logits(user, item, temperature):
    return np.asarray(user, float) @ np.asarray(item, float).T / temperature


def _masked(logits, items, keep_positive=True):
    items = np.asarray(items)
    duplicate = items[:, None] == items[None, :]
    if keep_positive:
        duplicate &= ~np.eye(len(items), dtype=bool)
    return np.where(duplicate, -np.inf, logits)


def _row_loss(logits):
    return logsumexp(logits, axis=1) - np.diagonal(logits)


def _loss_from(logits, items):
    return np.asarray(float(np.mean(_row_loss(_masked(logits, items)))))


def _no_correction(user, item, items, temperature, log_q):
    return _loss_from(_logits(user, item, temperature), items)


def _correction_on_rows(user, item, items, temperature, log_q):
    logits = _logits(user, item, temperature) - np.asarray(log_q)[:, None]
    return _loss_from(logits, items)


def _correction_added(user, item, items, temperature, log_q):
    logits = _logits(user, item, temperature) + np.asarray(log_q)[None, :]
    return _loss_from(logits, items)


def _correction_divided_by_temperature(user, item, items, temperature, log_q):
    logits = _logits(user, item, 1.0) - np.asarray(log_q)[None, :]
    return _loss_from(logits / temperature, items)


def _temperature_multiplied(user, item, items, temperature, log_q):
    logits = _logits(user, item, 1.0) * temperature - np.asarray(log_q)[None, :]
    return _loss_from(logits, items)


def _over_columns(user, item, items, temperature, log_q):
    logits = _masked(_logits(user, item, temperature) - np.asarray(log_q)[None, :], items)
    return np.asarray(float(np.mean(logsumexp(logits, axis=0) - np.diagonal(logits))))


def _duplicates_kept(user, item, items, temperature, log_q):
    logits = _logits(user, item, temperature) - np.asarray(log_q)[None, :]
    return np.asarray(float(np.mean(_row_loss(logits))))


def _positive_masked(user, item, items, temperature, log_q):
    logits = _logits(user, item, temperature) - np.asarray(log_q)[None, :]
    return np.asarray(float(np.mean(_row_loss(_masked(logits, items, keep_positive=False)))))


def _summed_over_rows(user, item, items, temperature, log_q):
    logits = _masked(_logits(user, item, temperature) - np.asarray(log_q)[None, :], items)
    return np.asarray(float(np.sum(_row_loss(logits))))


def _loss_case(seed, items, temperature, note):
    """Random unit vectors for the pairs of ``items``, with log q of each item from ``_Q``."""
    rng = np.random.default_rng(seed)
    user, item = rng.normal(size=(2, len(items), 3))
    items = np.asarray(items)
    return case(
        user / np.linalg.norm(user, axis=1, keepdims=True),
        item / np.linalg.norm(item, axis=1, keepdims=True),
        items,
        temperature,
        np.log(np.asarray(_Q)[items]),
        note=note,
    )


# item shares q_i of a catalogue of 8 items: item 0 is the blockbuster
_Q = [0.30, 0.05, 0.20, 0.02, 0.15, 0.10, 0.08, 0.10]

q1 = FunctionQuestion(
    label="q1",
    name="in_batch_softmax_loss",
    reference=_in_batch_softmax_loss,
    cases=[
        _loss_case(1, [3, 0, 7, 1, 4], 0.5, "five pairs, five different items, temperature 0.5"),
        _loss_case(2, [2, 5, 2, 1, 5, 0], 0.2, "items 2 and 5 twice in the batch, temperature 0.2"),
        _loss_case(3, [0, 6, 0, 0], 1.0, "item 0 three times, temperature 1"),
        _loss_case(4, [4, 1, 0, 3, 2, 6, 5], 0.1, "seven different items, temperature 0.1"),
    ],
    mistakes=[
        Mistake(
            "Your loss is the one WITHOUT the logQ correction: either you left log_q out, or "
            "you subtracted it from each ROW (log_q[:, None]), which lowers a row's logsumexp "
            "and its positive logit by the same amount, so it cancels. The correction belongs "
            "to the item of each COLUMN: subtract log_q[None, :] from the logits.",
            _no_correction,
            _correction_on_rows,
        ),
        Mistake(
            "You ADDED log q: that pushes popular items further down, the opposite of the "
            "correction. A popular item is a negative in many batches, so the correction "
            "lowers each column's logit by log q of its item: logit = u.v / temperature MINUS "
            "log_q[None, :].",
            _correction_added,
        ),
        Mistake(
            "You divided the correction by the temperature too: (u.v - log q) / temperature. "
            "The temperature scales the similarity only; log q is subtracted afterwards: "
            "u.v / temperature - log q.",
            _correction_divided_by_temperature,
        ),
        Mistake(
            "You multiplied by the temperature. It DIVIDES the similarities (a small "
            "temperature such as 0.2 sharpens the softmax): u.v / temperature.",
            _temperature_multiplied,
        ),
        Mistake(
            "Your logsumexp runs over the wrong axis (axis 0, the users of a column). Each ROW "
            "is one user's choice among the batch's items: logsumexp over axis=1, then minus "
            "that row's positive logit on the diagonal.",
            _over_columns,
        ),
        Mistake(
            "Duplicates are not masked: when the same item appears in two rows of the batch, "
            "the other copy counts as a negative of a row whose positive it is, and the loss "
            "punishes the right answer. Set logit[b, b'] to -inf where items[b'] == items[b] "
            "and b' != b (keep the diagonal).",
            _duplicates_kept,
        ),
        Mistake(
            "You masked the positive itself (the diagonal), so every row's own item has logit "
            "-inf and the loss is infinite. Mask only the OTHER rows holding the same item: "
            "same item AND b' != b.",
            _positive_masked,
        ),
        Mistake(
            "You summed the rows' losses; the loss is their MEAN, so it does not grow with "
            "the batch size (and the learning rate means the same at every batch size).",
            _summed_over_rows,
        ),
    ],
    hint=[
        "Build the B x B matrix of logits: row b is user b, column b' is the item of pair b'; "
        "the diagonal holds each row's positive. Three things modify it: the temperature, the "
        "correction (which belongs to the column's item), and a mask for other copies of the "
        "row's own item. Then it is a cross-entropy per row.",
        "Steps: (1) the similarity matrix user @ item.T, divided by the temperature; (2) "
        "subtract log_q as a ROW vector, so column b' loses log_q[b']; (3) a boolean matrix "
        "'same item, different row' (compare items as a column with items as a row, and "
        "exclude the identity), and -inf there (np.where or jnp.where); (4) per row, the "
        "logsumexp over axis 1 minus the diagonal entry; (5) the mean over rows. "
        "q1.solution() shows the code.",
    ],
    solution="""
        import jax
        import jax.numpy as jnp

        def in_batch_softmax_loss(user, item, items, temperature, log_q):
            logits = user @ item.T / temperature - log_q[None, :]       # column b' is item b'
            same = (items[:, None] == items[None, :]) & ~jnp.eye(len(items), dtype=bool)
            logits = jnp.where(same, -jnp.inf, logits)                 # other copies of my item
            return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.diagonal(logits))
    """,
    why=(
        "This is how YouTube's retriever trains on billions of pairs: the other items of the "
        "batch are free negatives, and without the logQ correction the model learns to avoid "
        "the popular items its users actually watch."
    ),
    rtol=1e-4,
    atol=1e-6,
)


# --------------------------------------------------------------------------------------
# q2: the causal attention mask
# --------------------------------------------------------------------------------------


class _BooleanMatrixQuestion(FunctionQuestion):
    """Values and dtype both count: a 0/1 number matrix prints like the mask, but ``~mask`` of
    it is -1/-2 (all truthy) and ``mask & valid`` raises, so it is graded as its own mistake."""

    def _run(self, function, watch=False):
        return tuple(
            dataclasses.replace(outcome, value=_boolean_or_description(outcome.value))
            if outcome.error is None
            else outcome
            for outcome in super()._run(function, watch)
        )


def _boolean_or_description(value):
    if value is None or value is Ellipsis:
        return value
    try:
        array = np.asarray(value)
    except Exception:  # not array-like: leave it for the comparison to reject
        return value
    if array.dtype == bool:
        return array
    kind = {"f": "floating-point", "i": "integer", "u": "integer"}.get(
        array.dtype.kind, "non-boolean"
    )
    return f"a {kind} array of shape {array.shape}, not a boolean one"


def _causal_mask(length):
    return np.asarray(_library_causal_mask(length))


def _future_visible(length):
    return np.triu(np.ones((length, length), dtype=bool))


def _forbidden_marked(length):
    return np.triu(np.ones((length, length), dtype=bool), k=1)


def _strictly_lower(length):
    return np.tril(np.ones((length, length), dtype=bool), k=-1)


def _no_mask(length):
    return np.ones((length, length), dtype=bool)


def _float_mask(length):
    return np.tril(np.ones((length, length)))


def _int_mask(length):
    return np.tri(length, dtype=int)


q2 = _BooleanMatrixQuestion(
    label="q2",
    name="causal_mask",
    reference=_causal_mask,
    cases=[
        case(4, note="four positions"),
        case(1, note="a single position"),
        case(3, note="three positions"),
        case(6, note="six positions"),
    ],
    mistakes=[
        Mistake(
            "Your mask is upside down: True where s >= t, so position 0 reads every later "
            "item, the answers included. Row t is the position that READS, column s the "
            "position read; position t may read s <= t (on and BELOW the diagonal).",
            _future_visible,
        ),
        Mistake(
            "Your True entries are ABOVE the diagonal: either position t reads only the "
            "future, or you wrote the mask PyTorch-style, where True marks the FORBIDDEN pairs "
            "(nn.MultiheadAttention's bool attn_mask). Here True means 'may read': on and below "
            "the diagonal.",
            _forbidden_marked,
        ),
        Mistake(
            "You hid the diagonal: position t cannot read its own input. Its target is the "
            "NEXT item x_{t+1}, not x_t, so x_t is not the answer: it is the most recent item, "
            "the one that says most about what comes next (and position 0 would read nothing "
            "at all). Keep s <= t, the diagonal included.",
            _strictly_lower,
        ),
        Mistake(
            "Everything is True: every position reads the whole sequence, including the "
            "items it is trained to predict, so training is trivial and serving (where the "
            "future is unknown) fails. Allow only s <= t.",
            _no_mask,
        ),
        Mistake(
            "Your mask holds numbers (0 and 1), not booleans. It looks right, but ~mask of a "
            "number matrix gives -1 and -2 (both 'true'), and mask & valid fails: build it as "
            "a boolean matrix (dtype=bool) or compare indices (which gives booleans).",
            _float_mask,
            _int_mask,
        ),
    ],
    hint=[
        "Row t is the position that reads, column s the position it may read. Position t is "
        "trained to predict the item AFTER its own input, so it may use its own input and "
        "everything before it, and nothing after. The answer is a boolean matrix.",
        "Two ways: a lower triangle (np.tril, diagonal included) of a square boolean matrix "
        "of ones; or compare a column of position numbers with a row of them (np.arange, "
        "one with [:, None], one with [None, :]) so entry [t, s] is True when s <= t. "
        "q2.solution() shows the code.",
    ],
    solution="""
        import numpy as np

        def causal_mask(length):
            positions = np.arange(length)
            return positions[None, :] <= positions[:, None]    # mask[t, s] = (s <= t)
    """,
    why=(
        "The mask is what makes a transformer a next-item model: trained on every position of "
        "a sequence at once, each position still predicts without seeing its answer."
    ),
)


# --------------------------------------------------------------------------------------
# q3: one step of gradient descent with jax.grad
# --------------------------------------------------------------------------------------


def mf_loss(params, batch):
    """GradientMF's loss: binary cross-entropy of a positive and its sampled negatives."""
    users, positives, negatives = batch
    positive = dot_similarity(params, users, positives)
    negative = dot_similarity(params, users[:, None], negatives)
    return -jnp.mean(jax.nn.log_sigmoid(positive) + jnp.sum(jax.nn.log_sigmoid(-negative), axis=1))


def softmax_loss(params, batch):
    """TwoTower's in-batch softmax on free user and item vectors (temperature 0.5)."""
    users, items, log_q = batch
    return _library_loss(params["user"][users], params["item"][items], items, 0.5, log_q)


def _gradients(loss, params, batch, regularization):
    """Gradient of ``loss(params, batch) + regularization * l2_penalty(params)`` (fit_adam's objective)."""
    return jax.grad(lambda p: loss(p, batch) + regularization * l2_penalty(p))(params)


def _as_numpy(params):
    return {name: np.asarray(value) for name, value in params.items()}


def _sgd_step(loss, params, batch, learning_rate, regularization):
    grads = _gradients(loss, params, batch, regularization)
    return _as_numpy({n: params[n] - learning_rate * grads[n] for n in params})


def _ascent(loss, params, batch, learning_rate, regularization):
    grads = _gradients(loss, params, batch, regularization)
    return _as_numpy({n: params[n] + learning_rate * grads[n] for n in params})


def _no_learning_rate(loss, params, batch, learning_rate, regularization):
    grads = _gradients(loss, params, batch, regularization)
    return _as_numpy({n: params[n] - grads[n] for n in params})


def _no_penalty(loss, params, batch, learning_rate, regularization):
    grads = _gradients(loss, params, batch, 0.0)
    return _as_numpy({n: params[n] - learning_rate * grads[n] for n in params})


def _penalty_without_two(loss, params, batch, learning_rate, regularization):
    grads = _gradients(loss, params, batch, 0.0)
    return _as_numpy(
        {n: params[n] - learning_rate * (grads[n] + regularization * params[n]) for n in params}
    )


def _loss_of_outer_params(loss, params, batch, learning_rate, regularization):
    """The objective reads the caller's ``params``, not its argument: only the penalty moves."""
    grads = jax.grad(lambda p: loss(params, batch) + regularization * l2_penalty(p))(params)
    return _as_numpy({n: params[n] - learning_rate * grads[n] for n in params})


def _mf_case(seed):
    rng = np.random.default_rng(seed)
    params = {
        "user": rng.normal(0, 0.5, (3, 2)).astype(np.float32),
        "item": rng.normal(0, 0.5, (4, 2)).astype(np.float32),
        "bias": rng.normal(0, 0.1, 4).astype(np.float32),
    }
    batch = (
        np.array([0, 2, 1, 0], dtype=np.int32),
        np.array([1, 3, 0, 2], dtype=np.int32),
        rng.integers(0, 4, (4, 2)).astype(np.int32),
    )
    return params, batch


def _softmax_case(seed):
    rng = np.random.default_rng(seed)
    params = {
        "user": rng.normal(0, 0.5, (3, 2)).astype(np.float32),
        "item": rng.normal(0, 0.5, (5, 2)).astype(np.float32),
    }
    items = np.array([4, 0, 2, 0], dtype=np.int32)
    batch = (
        np.array([1, 0, 2, 1], dtype=np.int32),
        items,
        np.log([0.4, 0.1, 0.2, 0.1, 0.2])[items],
    )
    return params, batch


q3 = FunctionQuestion(
    label="q3",
    name="sgd_step",
    reference=_sgd_step,
    cases=[
        case(mf_loss, *_mf_case(1), 0.5, 0.0, note="GradientMF's loss, no penalty"),
        case(mf_loss, *_mf_case(2), 0.5, 0.1, note="GradientMF's loss, regularization 0.1"),
        case(
            softmax_loss,
            *_softmax_case(3),
            0.2,
            0.05,
            note="TwoTower's in-batch softmax, regularization 0.05",
        ),
        case(softmax_loss, *_softmax_case(4), 0.1, 0.0, note="TwoTower's in-batch softmax"),
    ],
    mistakes=[
        Mistake(
            "You ADDED the gradient: that climbs the loss (gradient ascent). The gradient points "
            "to where the loss grows fastest; step against it: p - learning_rate * gradient.",
            _ascent,
        ),
        Mistake(
            "You forgot the learning rate: the step is the whole gradient. Multiply the "
            "gradient by learning_rate before subtracting it.",
            _no_learning_rate,
        ),
        Mistake(
            "You ignored `regularization`: the objective is loss(params, batch) + "
            "regularization * (sum of squares of every parameter array). Put the penalty "
            "inside the function you differentiate, and jax.grad adds its gradient for you.",
            _no_penalty,
        ),
        Mistake(
            "Your penalty's gradient is regularization * p, but the derivative of "
            "regularization * p ** 2 is 2 * regularization * p: the factor 2 is missing "
            "(hand-written 'weight decay' often drops it). Let jax.grad differentiate the "
            "penalty together with the loss.",
            _penalty_without_two,
        ),
        Mistake(
            "Only the penalty moved your parameters: the loss's gradient is zero, because the "
            "function you differentiate computes the loss from the outer `params`, not from its "
            "own argument. jax.grad differentiates with respect to that argument only: write "
            "objective(p) = loss(p, batch) + regularization * penalty(p).",
            _loss_of_outer_params,
        ),
    ],
    hint=[
        "jax.grad turns a function of the parameters into a function returning its gradient, "
        "with the same structure as the parameters (here a dict of arrays). Differentiate the "
        "whole objective, penalty included, then move every array a small step downhill. Build "
        "a new dict: the caller's params must not change.",
        "Steps: (1) define objective(p) returning loss(p, batch) plus regularization times the "
        "sum over the dict's arrays of their squared entries (jnp.sum of the square); (2) "
        "grads = the jax.grad of that objective, evaluated at params; (3) a new dict in which "
        "each name maps to its array minus learning_rate times its gradient (a dict "
        "comprehension, or jax.tree_util.tree_map). q3.solution() shows the code.",
    ],
    solution="""
        import jax
        import jax.numpy as jnp

        def sgd_step(loss, params, batch, learning_rate, regularization=0.0):
            def objective(p):
                penalty = sum(jnp.sum(jnp.square(array)) for array in p.values())
                return loss(p, batch) + regularization * penalty
            grads = jax.grad(objective)(params)                 # a dict shaped like params
            return {name: params[name] - learning_rate * grads[name] for name in params}
    """,
    why=(
        "This step is all of deep learning's training loop: autodiff writes the gradients "
        "lesson 04 derived by hand, for any model. The library's fit_adam does the same with "
        "Adam's per-parameter step sizes, jit-compiled."
    ),
    rtol=1e-5,
    atol=1e-7,
)


# --------------------------------------------------------------------------------------
# q4: recommend from a model's scores, seen items removed
# --------------------------------------------------------------------------------------


def _with_seen_set_to(scores, seen, value):
    scores = np.array(scores, dtype=float)
    for row, items in enumerate(seen):
        scores[row, list(items)] = value
    return scores


def _recommend_unseen(scores, seen, k):
    return top_k_indices(_with_seen_set_to(scores, seen, -np.inf), k)


def _ranked(scores, k):
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def _seen_kept(scores, seen, k):
    return _ranked(np.array(scores, dtype=float), k)


def _seen_set_to_zero(scores, seen, k):
    return _ranked(_with_seen_set_to(scores, seen, 0.0), k)


def _everyones_seen_removed(scores, seen, k):
    everyone = sorted({item for items in seen for item in items})
    return _ranked(_with_seen_set_to(scores, [everyone] * len(seen), -np.inf), k)


def _filtered_after_cut(scores, seen, k):
    top = _ranked(np.array(scores, dtype=float), k)
    return [
        [item for item in row if item not in set(items)]
        for row, items in zip(top, seen, strict=True)
    ]


def _worst_first(scores, seen, k):
    return np.argsort(_with_seen_set_to(scores, seen, np.inf), axis=1, kind="stable")[:, :k]


def _partition_unsorted(scores, seen, k):
    return np.argpartition(-_with_seen_set_to(scores, seen, -np.inf), k - 1, axis=1)[:, :k]


def _partition_unsorted_kth_k(scores, seen, k):
    return np.argpartition(-_with_seen_set_to(scores, seen, -np.inf), k, axis=1)[:, :k]


_rng = np.random.default_rng(8)
_SMALL = np.round(_rng.normal(0, 1, (3, 6)), 3)  # negative scores too: a 0 would outrank them
_LARGE = _rng.normal(0, 1, (3, 1000))
_LARGE_SEEN = [list(_rng.choice(1000, 30, replace=False)) for _ in range(3)]

q4 = FunctionQuestion(
    label="q4",
    name="recommend_unseen",
    reference=_recommend_unseen,
    cases=[
        case(
            _SMALL,
            [[int(np.argmax(_SMALL[0]))], [], [0, 5]],
            2,
            note="user 0 saw their best item, user 1 saw nothing",
        ),
        case(_SMALL, [[1, 2], [3], [int(np.argmax(_SMALL[2]))]], 3, note="three users"),
        case(_LARGE, _LARGE_SEEN, 200, note="1,000 items, the 200 best"),
        case(
            _LARGE, [_LARGE_SEEN[0], [], _LARGE_SEEN[2][:5]], 300, note="1,000 items, the 300 best"
        ),
    ],
    mistakes=[
        Mistake(
            "Your lists contain items the user has already seen. A trained model scores them "
            "HIGH (it learned from them), so they fill the top of the list: give each user's "
            "seen items the score -np.inf before ranking.",
            _seen_kept,
        ),
        Mistake(
            "You set the seen items' scores to 0, but model scores can be negative (a cosine, "
            "a logit), so a seen item with score 0 still outranks every unseen item with a "
            "negative score. Use -np.inf, which ranks last whatever the scale.",
            _seen_set_to_zero,
        ),
        Mistake(
            "You removed EVERY user's seen items from every user's list. Each row has its own "
            "history: row u loses only the items in seen[u].",
            _everyones_seen_removed,
        ),
        Mistake(
            "You cut the top k first and removed the seen items afterwards, so lists come out "
            "shorter than k. Remove them first (score -inf), then take the k best.",
            _filtered_after_cut,
        ),
        Mistake(
            "Your lists are worst first. Rank by decreasing score: argsort of the negated scores.",
            _worst_first,
        ),
        Mistake(
            "You have the right k items per user, but not best first: np.argpartition only "
            "promises that the k best come before the rest, in no particular order. Sort those "
            "k by their scores afterwards (np.take_along_axis reads their scores).",
            _partition_unsorted,
            _partition_unsorted_kth_k,
        ),
    ],
    hint=[
        "A model scores every item for every user, the ones they already watched included, "
        "and it scores those high. Each user's own seen items must never win, whatever the "
        "scale of the scores; then each row is ranked best first.",
        "Steps: (1) a float COPY of the scores (np.array makes one; writing into the "
        "caller's array would damage it); (2) for each row u, the score -np.inf at the columns "
        "listed in seen[u] (a loop over the rows with enumerate); (3) per row, the column "
        "indices sorted by decreasing score (np.argsort of the negated scores along axis=1, "
        'kind="stable"), the first k columns. q4.solution() shows the code.',
    ],
    solution="""
        import numpy as np

        def recommend_unseen(scores, seen, k):
            scores = np.array(scores, dtype=float)             # a copy: never write into the input
            for row, items in enumerate(seen):
                scores[row, list(items)] = -np.inf             # already seen: never recommended
            return np.argsort(-scores, axis=1, kind="stable")[:, :k]
    """,
    why=(
        "Every retriever scores the films a user already watched highest; serving them again is "
        "the most visible bug a recommender can have, and it costs offline accuracy too."
    ),
)
