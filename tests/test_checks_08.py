"""Exercise 08: learner-style answers pass or fail their check with their own hint.

Each answer is written the way a learner would write it (JAX or NumPy, not the module's own
mistake implementations), so a test fails if the check lets a wrong answer pass, names another
bug, or refuses a correct answer written differently. The references are the library's own
functions: the last tests tie the checks to ``recsys_lessons.neural``.
"""

from __future__ import annotations

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import logsumexp

from recsys_lessons.checks import Status
from recsys_lessons.neural import causal_mask as library_causal_mask
from recsys_lessons.neural import in_batch_softmax_loss as library_loss
from recsys_lessons.neural.mf import LOSSES

lesson08 = importlib.import_module("recsys_lessons.checks.lesson08")
q1, q2, q3, q4 = lesson08.q1, lesson08.q2, lesson08.q3, lesson08.q4


def _grade(question, answer):
    return question.grade(answer, namespace={})


def _hint_of(question, answer):
    result = _grade(question, answer)
    assert result.status is Status.MISTAKE, result.message
    return result.hint


def _solution_of(question):
    namespace: dict = {}
    exec(question.solution_code, namespace)
    return namespace[question.name]


@pytest.mark.parametrize("question", [q1, q2, q3, q4], ids=lambda q: q.label)
def test_the_solution_shown_to_the_learner_passes(question):
    assert _grade(question, _solution_of(question)).passed


# --------------------------------------------------------------------------------------
# q1: in-batch softmax loss
# --------------------------------------------------------------------------------------


def loss_numpy(user, item, items, temperature, log_q):
    logits = user @ item.T / temperature - log_q
    duplicate = (items[:, None] == items) & ~np.eye(len(items), dtype=bool)
    logits[duplicate] = -np.inf
    return np.mean(logsumexp(logits, axis=1) - np.diag(logits))


def loss_log_softmax(user, item, items, temperature, log_q):
    logits = jnp.dot(user, item.T) / temperature - log_q[None, :]
    other_copy = (jnp.asarray(items)[:, None] == jnp.asarray(items)[None, :]) & (
        jnp.arange(len(items))[:, None] != jnp.arange(len(items))
    )
    logits = jnp.where(other_copy, -1e9, logits)
    return -jnp.mean(jnp.diagonal(jax.nn.log_softmax(logits, axis=1)))


def loss_no_correction(user, item, items, temperature, log_q):
    logits = user @ item.T / temperature
    logits = jnp.where(
        (items[:, None] == items[None, :]) & ~jnp.eye(len(items), dtype=bool), -jnp.inf, logits
    )
    return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.diagonal(logits))


def loss_correction_on_rows(user, item, items, temperature, log_q):
    return loss_numpy(user, item, items, temperature, log_q[:, None])


def loss_plus_log_q(user, item, items, temperature, log_q):
    return loss_numpy(user, item, items, temperature, -log_q)


def loss_axis_0(user, item, items, temperature, log_q):
    logits = user @ item.T / temperature - log_q[None, :]
    logits = jnp.where(
        (items[:, None] == items[None, :]) & ~jnp.eye(len(items), dtype=bool), -jnp.inf, logits
    )
    return jnp.mean(jax.nn.logsumexp(logits, axis=0) - jnp.diagonal(logits))


def loss_temperature_times(user, item, items, temperature, log_q):
    return loss_numpy(user, item, items, 1 / temperature, log_q)


def loss_correction_divided(user, item, items, temperature, log_q):
    logits = (user @ item.T - log_q) / temperature
    logits[(items[:, None] == items) & ~np.eye(len(items), dtype=bool)] = -np.inf
    return np.mean(logsumexp(logits, axis=1) - np.diag(logits))


def loss_duplicates_kept(user, item, items, temperature, log_q):
    logits = user @ item.T / temperature - log_q
    return np.mean(logsumexp(logits, axis=1) - np.diag(logits))


def loss_whole_equality_masked(user, item, items, temperature, log_q):
    logits = user @ item.T / temperature - log_q
    logits[items[:, None] == items] = -np.inf  # the diagonal too
    return np.mean(logsumexp(logits, axis=1) - np.diag(logits))


def loss_sum(user, item, items, temperature, log_q):
    return len(items) * loss_numpy(user, item, items, temperature, log_q)


def loss_scaling_user_in_place(user, item, items, temperature, log_q):
    user /= temperature  # writes into the caller's array
    logits = user @ item.T - log_q
    logits[(items[:, None] == items) & ~np.eye(len(items), dtype=bool)] = -np.inf
    return np.mean(logsumexp(logits, axis=1) - np.diag(logits))


@pytest.mark.parametrize("answer", [loss_numpy, loss_log_softmax])
def test_q1_correct_numpy_and_jax_answers_pass(answer):
    assert _grade(q1, answer).passed


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (loss_no_correction, "WITHOUT the logQ correction"),
        (loss_correction_on_rows, "WITHOUT the logQ correction"),
        (loss_plus_log_q, "You ADDED log q"),
        (loss_correction_divided, "divided the correction by the temperature"),
        (loss_temperature_times, "multiplied by the temperature"),
        (loss_axis_0, "wrong axis"),
        (loss_duplicates_kept, "Duplicates are not masked"),
        (loss_whole_equality_masked, "masked the positive itself"),
        (loss_sum, "summed the rows' losses"),
    ],
)
def test_q1_wrong_answers_get_their_own_hint(answer, phrase):
    assert phrase in _hint_of(q1, answer)


def test_q1_writing_into_the_user_vectors_is_refused():
    assert "changes its argument `user` in place" in _hint_of(q1, loss_scaling_user_in_place)


def test_q1_has_duplicates_and_a_correction_that_varies():
    assert any(len(set(c.args[2].tolist())) < len(c.args[2]) for c in q1.cases)
    assert all(np.ptp(c.args[4]) > 0.5 for c in q1.cases)


# --------------------------------------------------------------------------------------
# q2: causal mask
# --------------------------------------------------------------------------------------


def mask_compare(length):
    t = np.arange(length)
    return t[:, None] >= t[None, :]


def mask_jax(length):
    return jnp.tril(jnp.ones((length, length), dtype=bool))


def mask_upper(length):
    return np.triu(np.ones((length, length), dtype=bool))


def mask_transposed(length):
    return np.tril(np.ones((length, length), dtype=bool)).T


def mask_pytorch_style(length):
    return np.ones((length, length), dtype=bool) & (
        np.arange(length)[None, :] > np.arange(length)[:, None]
    )


def mask_strictly_lower(length):
    t = np.arange(length)
    return t[None, :] < t[:, None]


def mask_everything(length):
    return np.full((length, length), True)


def mask_floats(length):
    return np.tril(np.ones((length, length)))


def mask_jax_floats(length):
    return jnp.tril(jnp.ones((length, length)))


@pytest.mark.parametrize("answer", [mask_compare, mask_jax])
def test_q2_correct_answers_pass(answer):
    assert _grade(q2, answer).passed


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (mask_upper, "upside down"),
        (mask_transposed, "upside down"),
        (mask_pytorch_style, "FORBIDDEN pairs"),
        (mask_strictly_lower, "hid the diagonal"),
        (mask_everything, "Everything is True"),
        (mask_floats, "holds numbers"),
        (mask_jax_floats, "holds numbers"),
    ],
)
def test_q2_wrong_answers_get_their_own_hint(answer, phrase):
    assert phrase in _hint_of(q2, answer)


def test_q2_a_float_mask_would_pass_without_the_dtype_rule():
    """The framework compares True with 1.0 as equal numbers: the dtype rule is what fails it."""
    from recsys_lessons.checks import answers_match

    assert answers_match(library_causal_mask(4), mask_floats(4))
    assert not _grade(q2, mask_floats).passed


# --------------------------------------------------------------------------------------
# q3: one step of gradient descent
# --------------------------------------------------------------------------------------


def step_tree_map(loss, params, batch, learning_rate, regularization=0.0):
    def objective(p):
        squares = sum(jnp.vdot(a, a) for a in jax.tree_util.tree_leaves(p))
        return loss(p, batch) + regularization * squares

    grads = jax.grad(objective)(params)
    return jax.tree_util.tree_map(lambda p, g: p - learning_rate * g, params, grads)


def _data_grads(loss, params, batch):
    return jax.grad(loss)(params, batch)


def step_ascent(loss, params, batch, learning_rate, regularization=0.0):
    g = _data_grads(loss, params, batch)
    return {n: params[n] + learning_rate * (g[n] + 2 * regularization * params[n]) for n in params}


def step_no_learning_rate(loss, params, batch, learning_rate, regularization=0.0):
    g = _data_grads(loss, params, batch)
    return {n: params[n] - (g[n] + 2 * regularization * params[n]) for n in params}


def step_no_penalty(loss, params, batch, learning_rate, regularization=0.0):
    g = _data_grads(loss, params, batch)
    return {n: params[n] - learning_rate * g[n] for n in params}


def step_weight_decay(loss, params, batch, learning_rate, regularization=0.0):
    g = _data_grads(loss, params, batch)
    return {
        n: params[n] * (1 - learning_rate * regularization) - learning_rate * g[n] for n in params
    }


def step_outer_params(loss, params, batch, learning_rate, regularization=0.0):
    def objective(p):  # the loss reads the enclosing `params`, so its gradient is zero
        return loss(params, batch) + regularization * sum(jnp.sum(a**2) for a in p.values())

    g = jax.grad(objective)(params)
    return {n: params[n] - learning_rate * g[n] for n in params}


def step_in_place(loss, params, batch, learning_rate, regularization=0.0):
    g = jax.grad(
        lambda p: loss(p, batch) + regularization * sum(jnp.sum(a**2) for a in p.values())
    )(params)
    for name in params:
        params[name] = params[name] - learning_rate * g[name]  # rewrites the caller's dict
    return params


def step_numpy_in_place(loss, params, batch, learning_rate, regularization=0.0):
    g = jax.grad(
        lambda p: loss(p, batch) + regularization * sum(jnp.sum(a**2) for a in p.values())
    )(params)
    for name in params:
        params[name] -= learning_rate * np.asarray(g[name])  # writes into the caller's arrays
    return params


def test_q3_a_tree_map_answer_passes():
    assert _grade(q3, step_tree_map).passed


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (step_ascent, "ADDED the gradient"),
        (step_no_learning_rate, "forgot the learning rate"),
        (step_no_penalty, "ignored `regularization`"),
        (step_weight_decay, "factor 2 is missing"),
        (step_outer_params, "loss's gradient is zero"),
    ],
)
def test_q3_wrong_answers_get_their_own_hint(answer, phrase):
    assert phrase in _hint_of(q3, answer)


@pytest.mark.parametrize("answer", [step_in_place, step_numpy_in_place])
def test_q3_updating_the_callers_params_is_refused(answer):
    assert "changes its argument `params` in place" in _hint_of(q3, answer)


def test_q3_uses_the_library_losses():
    """mf_loss is GradientMF's training loss; the step is the library's objective's gradient."""
    params, batch = q3.cases[1].args[1:3]
    assert np.isclose(lesson08.mf_loss(params, batch), LOSSES["dot"](params, batch, None))


# --------------------------------------------------------------------------------------
# q4: recommend unseen items
# --------------------------------------------------------------------------------------


def recommend_loop(scores, seen, k):
    rows = []
    for row, items in zip(scores, seen, strict=True):
        row = row.copy()
        row[items] = -np.inf
        top = np.argpartition(-row, k - 1)[:k]
        rows.append(top[np.argsort(-row[top])])
    return np.array(rows)


def recommend_kept(scores, seen, k):
    return np.argsort(-scores, axis=1)[:, :k]


def recommend_zero(scores, seen, k):
    scores = scores.copy()
    for u, items in enumerate(seen):
        scores[u, items] = 0
    return np.argsort(-scores, axis=1)[:, :k]


def recommend_everyone(scores, seen, k):
    scores = scores.copy()
    scores[:, np.unique(np.concatenate([np.asarray(s, dtype=int) for s in seen]))] = -np.inf
    return np.argsort(-scores, axis=1)[:, :k]


def recommend_filter_later(scores, seen, k):
    top = np.argsort(-scores, axis=1)[:, :k]
    return [[i for i in row if i not in items] for row, items in zip(top, seen, strict=True)]


def recommend_partition(scores, seen, k):
    scores = scores.copy()
    for u, items in enumerate(seen):
        scores[u, items] = -np.inf
    return np.argpartition(-scores, k - 1, axis=1)[:, :k]


def recommend_worst_first(scores, seen, k):
    scores = scores.copy()
    for u, items in enumerate(seen):
        scores[u, items] = np.inf
    return np.argsort(scores, axis=1)[:, :k]


def recommend_in_place(scores, seen, k):
    for u, items in enumerate(seen):
        scores[u, items] = -np.inf  # writes into the caller's score matrix
    return np.argsort(-scores, axis=1)[:, :k]


def test_q4_a_loop_with_a_sorted_partition_passes():
    assert _grade(q4, recommend_loop).passed


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (recommend_kept, "already seen"),
        (recommend_zero, "scores to 0"),
        (recommend_everyone, "EVERY user's seen items"),
        (recommend_filter_later, "shorter than k"),
        (recommend_partition, "not best first"),
        (recommend_worst_first, "worst first"),
    ],
)
def test_q4_wrong_answers_get_their_own_hint(answer, phrase):
    assert phrase in _hint_of(q4, answer)


def test_q4_writing_into_the_scores_is_refused():
    assert "changes its argument `scores` in place" in _hint_of(q4, recommend_in_place)


def test_q4_large_cases_are_not_returned_sorted_by_argpartition():
    for c in q4.cases[2:]:
        scores, seen, k = c.args
        assert not np.array_equal(
            recommend_partition(scores, seen, k), q4.reference(scores, seen, k)
        )


# --------------------------------------------------------------------------------------
# The references are the library's functions
# --------------------------------------------------------------------------------------


def test_references_are_the_library_functions():
    for c in q1.cases:
        expected = float(library_loss(*c.args))
        assert np.isclose(q1.reference(*c.args), expected, rtol=1e-6)
        assert np.isclose(loss_numpy(*c.args), expected, rtol=1e-5)
    for c in q2.cases:
        assert np.array_equal(q2.reference(*c.args), library_causal_mask(*c.args))
