"""Checks for lesson 04 (exercises/04_matrix_factorization.ipynb): one SGD step, top-k, recall.

The learner writes the three small pieces behind a factorization model and its retrieval:

- q1, ``sgd_step(mu, b_u, b_i, p_u, q_i, r, lr, reg)``: one stochastic gradient step of biased
  matrix factorization on one rating ``r`` of user ``u`` for item ``i``. With the prediction
  ``r_hat = mu + b_u + b_i + p_u . q_i`` and the error ``e = r - r_hat``, the answer is the
  tuple of the updated ``(b_u, b_i, p_u, q_i)``::

      b_u + lr * (e - reg * b_u),          b_i + lr * (e - reg * b_i),
      p_u + lr * (e * q_i - reg * p_u),    q_i + lr * (e * p_u - reg * q_i)

  where every right-hand side uses the values *before* the step (in particular the old
  ``p_u`` in the update of ``q_i``). ``p_u`` and ``q_i`` are 1-D NumPy arrays. This is the
  step :class:`recsys_lessons.models.FunkSVD` applies, a mini-batch at a time, with
  ``reg_bias = reg``.
- q2, ``top_k_by_dot(item_vectors, query, k, exclude=())``: the ``k`` rows of
  ``item_vectors`` with the largest dot product with ``query``, best first, never returning
  an id listed in ``exclude`` (the items a user has already seen). This is exact retrieval,
  :class:`recsys_lessons.retrieval.indexes.ExactIndex` with ``metric="dot"`` plus the exclusion
  ``Recommender.recommend`` applies. The test cases have no ties among the scores that
  decide the answer, so any tie-breaking passes.
- q3, ``recall_at_k(approximate_ids, exact_ids, k)``: how much of the exact top-k an
  approximate index found, ``mean over queries of |approx[:k] & exact[:k]| / k`` for two
  2-D arrays with one row per query (padding ids ``-1``, which annoy leaves when it finds
  too few items, are never in the exact list). With ``k`` equal to the number of columns
  it is :func:`recsys_lessons.retrieval.recall.retrieval_recall`.

Lesson 04 (notebooks/04_matrix_factorization.ipynb) teaches all three; the exercise notebook
runs the learner's functions on real data and compares them with the library. Each question
lists the mistakes learners make most often as buggy implementations, so a check can name
the exact bug.
"""

from __future__ import annotations

import numpy as np

from recsys_lessons.checks import FunctionQuestion, Mistake, case

__all__ = ["q1", "q2", "q3"]


# --------------------------------------------------------------------------------------
# q1: one SGD step of biased matrix factorization
# --------------------------------------------------------------------------------------


def _vectors(p_u, q_i):
    return np.asarray(p_u, dtype=np.float64), np.asarray(q_i, dtype=np.float64)


def _error(mu, b_u, b_i, p_u, q_i, r):
    return r - (mu + b_u + b_i + p_u @ q_i)


def _sgd_step(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = _error(mu, b_u, b_i, p_u, q_i, r)
    return (
        b_u + lr * (e - reg * b_u),
        b_i + lr * (e - reg * b_i),
        p_u + lr * (e * q_i - reg * p_u),
        q_i + lr * (e * p_u - reg * q_i),
    )


def _step_with_error(b_u, b_i, p_u, q_i, e, lr, reg):
    """The correct update rule, given an error (possibly computed wrongly)."""
    return (
        b_u + lr * (e - reg * b_u),
        b_i + lr * (e - reg * b_i),
        p_u + lr * (e * q_i - reg * p_u),
        q_i + lr * (e * p_u - reg * q_i),
    )


def _step_updated_p_for_q(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = _error(mu, b_u, b_i, p_u, q_i, r)
    new_p = p_u + lr * (e * q_i - reg * p_u)
    return (
        b_u + lr * (e - reg * b_u),
        b_i + lr * (e - reg * b_i),
        new_p,
        q_i + lr * (e * new_p - reg * q_i),
    )


def _step_updated_p_for_q_in_place(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    # The same bug as learners write it with in-place updates of the arrays.
    p_u, q_i = _vectors(p_u, q_i)
    e = _error(mu, b_u, b_i, p_u, q_i, r)
    b_u += lr * (e - reg * b_u)
    b_i += lr * (e - reg * b_i)
    p_u += lr * (e * q_i - reg * p_u)
    q_i += lr * (e * p_u - reg * q_i)
    return b_u, b_i, p_u, q_i


def _step_without_regularization(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    return _sgd_step(mu, b_u, b_i, p_u, q_i, r, lr, 0.0)


def _step_regularizes_factors_only(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = _error(mu, b_u, b_i, p_u, q_i, r)
    return (
        b_u + lr * e,
        b_i + lr * e,
        p_u + lr * (e * q_i - reg * p_u),
        q_i + lr * (e * p_u - reg * q_i),
    )


def _step_regularizes_biases_only(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = _error(mu, b_u, b_i, p_u, q_i, r)
    return (
        b_u + lr * (e - reg * b_u),
        b_i + lr * (e - reg * b_i),
        p_u + lr * e * q_i,
        q_i + lr * e * p_u,
    )


def _step_error_reversed(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = (mu + b_u + b_i + p_u @ q_i) - r  # prediction minus rating
    return _step_with_error(b_u, b_i, p_u, q_i, e, lr, reg)


def _step_subtracts(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = _error(mu, b_u, b_i, p_u, q_i, r)
    return (
        b_u - lr * (e - reg * b_u),
        b_i - lr * (e - reg * b_i),
        p_u - lr * (e * q_i - reg * p_u),
        q_i - lr * (e * p_u - reg * q_i),
    )


def _step_prediction_without_biases(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = r - (mu + p_u @ q_i)
    return _step_with_error(b_u, b_i, p_u, q_i, e, lr, reg)


def _step_prediction_dot_only(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = r - p_u @ q_i
    return _step_with_error(b_u, b_i, p_u, q_i, e, lr, reg)


def _step_prediction_without_mean(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = r - (b_u + b_i + p_u @ q_i)
    return _step_with_error(b_u, b_i, p_u, q_i, e, lr, reg)


def _step_regularization_without_lr(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = _error(mu, b_u, b_i, p_u, q_i, r)
    return (
        b_u + lr * e - reg * b_u,
        b_i + lr * e - reg * b_i,
        p_u + lr * e * q_i - reg * p_u,
        q_i + lr * e * p_u - reg * q_i,
    )


def _step_own_vector_gradient(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = _error(mu, b_u, b_i, p_u, q_i, r)
    return (
        b_u + lr * (e - reg * b_u),
        b_i + lr * (e - reg * b_i),
        p_u + lr * (e * p_u - reg * p_u),
        q_i + lr * (e * q_i - reg * q_i),
    )


def _step_factor_two_everywhere(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    # The 2 of the derivative of the square kept on the whole step.
    p_u, q_i = _vectors(p_u, q_i)
    e = _error(mu, b_u, b_i, p_u, q_i, r)
    return _step_with_error(b_u, b_i, p_u, q_i, e, 2 * lr, reg)


def _step_factor_two_on_error(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = _error(mu, b_u, b_i, p_u, q_i, r)
    return _step_with_error(b_u, b_i, p_u, q_i, 2 * e, lr, reg)


def _step_factor_two_on_regularization(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = _error(mu, b_u, b_i, p_u, q_i, r)
    return _step_with_error(b_u, b_i, p_u, q_i, e, lr, 2 * reg)


def _step_clipped_prediction(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = r - np.clip(mu + b_u + b_i + p_u @ q_i, 1.0, 5.0)
    return _step_with_error(b_u, b_i, p_u, q_i, e, lr, reg)


def _step_biases_not_updated(mu, b_u, b_i, p_u, q_i, r, lr, reg):
    p_u, q_i = _vectors(p_u, q_i)
    e = _error(mu, b_u, b_i, p_u, q_i, r)
    return b_u, b_i, p_u + lr * (e * q_i - reg * p_u), q_i + lr * (e * p_u - reg * q_i)


q1 = FunctionQuestion(
    label="q1",
    name="sgd_step",
    reference=_sgd_step,
    cases=[
        case(
            3.5,
            0.2,
            -0.1,
            np.array([0.1, -0.2, 0.3]),
            np.array([0.2, 0.1, -0.4]),
            5.0,
            0.1,
            0.1,
            note="a 5-star rating above the prediction",
        ),
        case(
            3.5,
            0.3,
            0.4,
            np.array([0.5, 0.1, -0.2]),
            np.array([0.3, -0.2, 0.6]),
            1.0,
            0.05,
            0.2,
            note="a 1-star rating below the prediction",
        ),
        case(
            3.0,
            -0.2,
            0.5,
            np.array([0.4, -0.3]),
            np.array([-0.1, 0.7]),
            4.0,
            0.1,
            0.0,
            note="no regularization (reg = 0)",
        ),
        case(
            3.0,
            0.25,
            -0.25,
            np.array([0.6, 0.8]),
            np.array([0.5, 0.5]),
            3.7,
            0.1,
            0.5,
            note="a rating exactly equal to the prediction (error 0)",
        ),
        case(
            3.6,
            0.1,
            0.3,
            np.array([0.2, -0.1, 0.4, 0.3, -0.2]),
            np.array([0.1, 0.3, -0.2, 0.5, 0.2]),
            2.0,
            0.02,
            0.05,
            note="five factors, small learning rate",
        ),
        case(
            4.0,
            0.8,
            0.6,
            np.array([0.5, 0.4]),
            np.array([0.6, 0.5]),
            5.0,
            0.1,
            0.1,
            note="a prediction of 5.9, above the 1-5 scale, for a 5-star rating",
        ),
        case(
            2.0,
            -0.7,
            -0.6,
            np.array([0.5, -0.4]),
            np.array([-0.3, 0.5]),
            1.0,
            0.1,
            0.1,
            note="a prediction of 0.35, below the 1-5 scale, for a 1-star rating",
        ),
    ],
    mistakes=[
        Mistake(
            "You updated q_i with the NEW p_u. Both vectors must move from the values they had "
            "before the step: compute both updates first (or keep a copy of the old p_u), "
            "then assign. In-place updates (p_u += ...) followed by q_i += ... * p_u fall into "
            "the same trap.",
            _step_updated_p_for_q,
            _step_updated_p_for_q_in_place,
        ),
        Mistake(
            "Regularization is missing somewhere. Every parameter is pulled towards zero by "
            "reg times itself, inside the step: b_u + lr * (e - reg * b_u), the same for b_i, "
            "and p_u + lr * (e * q_i - reg * p_u), the same for q_i.",
            _step_without_regularization,
            _step_regularizes_factors_only,
            _step_regularizes_biases_only,
        ),
        Mistake(
            "The sign is the wrong way round, so the step climbs the error instead of "
            "descending it. Define the error as rating minus prediction, e = r - r_hat, and "
            "ADD lr * (...) to each parameter.",
            _step_error_reversed,
            _step_subtracts,
        ),
        Mistake(
            "Your prediction inside the error is incomplete. The model predicts "
            "r_hat = mu + b_u + b_i + p_u . q_i: the global mean, both biases and the dot "
            "product. Leaving any of them out makes every step chase the wrong error.",
            _step_prediction_without_biases,
            _step_prediction_dot_only,
            _step_prediction_without_mean,
        ),
        Mistake(
            "The regularization term must also be multiplied by the learning rate: "
            "b_u + lr * (e - reg * b_u), not b_u + lr * e - reg * b_u. Otherwise a large "
            "reg wipes out the parameters in one step, whatever lr is.",
            _step_regularization_without_lr,
        ),
        Mistake(
            "Each vector's gradient uses the OTHER vector: p_u moves along e * q_i and q_i "
            "along e * p_u (the derivative of p_u . q_i with respect to p_u is q_i).",
            _step_own_vector_gradient,
        ),
        Mistake(
            "You kept the factor 2 from the derivative of the square. The derivative of "
            "e**2 + reg * |p_u|**2 with respect to p_u is -2 * (e * q_i - reg * p_u), but the "
            "update rule folds that 2 into the learning rate: p_u + lr * (e * q_i - reg * p_u), "
            "and the same for every parameter (as in the lesson, FunkSVD and Funk's blog post). "
            "Drop the 2, on the error and on reg.",
            _step_factor_two_everywhere,
            _step_factor_two_on_error,
            _step_factor_two_on_regularization,
        ),
        Mistake(
            "You clipped the prediction to the 1-5 scale before computing the error. Clip only "
            "predictions you SHOW; inside training the error must use the raw "
            "r_hat = mu + b_u + b_i + p_u @ q_i. Otherwise a prediction of 5.9 for a 5-star "
            "rating has error 0, and the model is never told it overshoots.",
            _step_clipped_prediction,
        ),
        Mistake(
            "You returned the biases unchanged. They learn too: b_u + lr * (e - reg * b_u) and "
            "b_i + lr * (e - reg * b_i).",
            _step_biases_not_updated,
        ),
    ],
    hint=[
        "Start from the error of the current model on this one rating: the rating minus the "
        "full prediction (global mean, both biases and the dot product). Every parameter then "
        "moves a small step downhill, and the penalty pulls each one towards zero.",
        "Compute e once, from the values before the step. Each parameter moves by lr times "
        "(how much it would reduce the error minus reg times itself): for a bias that is just "
        "e; for p_u it is e times the OTHER vector, q_i; for q_i, e times the old p_u. Keep "
        "the old p_u until q_i's new value is computed (compute all four, then return them). "
        "q1.solution() shows the code.",
    ],
    solution="""
        def sgd_step(mu, b_u, b_i, p_u, q_i, r, lr, reg):
            e = r - (mu + b_u + b_i + p_u @ q_i)          # error of the current model
            new_b_u = b_u + lr * (e - reg * b_u)
            new_b_i = b_i + lr * (e - reg * b_i)
            new_p_u = p_u + lr * (e * q_i - reg * p_u)    # uses the OLD q_i ...
            new_q_i = q_i + lr * (e * p_u - reg * q_i)    # ... and the OLD p_u
            return new_b_u, new_b_i, new_p_u, new_q_i
    """,
    why=(
        "This step, repeated over millions of ratings, is the whole training loop of the "
        "Netflix Prize factorization models; FunkSVD applies it to a mini-batch of ratings "
        "at once in vectorized NumPy."
    ),
)


# --------------------------------------------------------------------------------------
# q2: exact top-k retrieval by dot product
# --------------------------------------------------------------------------------------


def _dot_scores(item_vectors, query):
    return np.asarray(item_vectors, dtype=np.float64) @ np.asarray(query, dtype=np.float64)


def _best_first(scores, k):
    return np.argsort(-scores, kind="stable")[:k]


def _top_k_by_dot(item_vectors, query, k, exclude=()):
    scores = _dot_scores(item_vectors, query)
    scores[list(exclude)] = -np.inf
    return _best_first(scores, k)


def _top_k_lowest(item_vectors, query, k, exclude=()):
    scores = _dot_scores(item_vectors, query)
    scores[list(exclude)] = np.inf
    return np.argsort(scores, kind="stable")[:k]


def _top_k_reversed(item_vectors, query, k, exclude=()):
    scores = _dot_scores(item_vectors, query)
    scores[list(exclude)] = -np.inf
    return np.argsort(scores, kind="stable")[-k:]


def _top_k_keeps_excluded(item_vectors, query, k, exclude=()):
    return _best_first(_dot_scores(item_vectors, query), k)


def _top_k_excluded_to_zero(item_vectors, query, k, exclude=()):
    scores = _dot_scores(item_vectors, query)
    scores[list(exclude)] = 0.0
    return _best_first(scores, k)


def _top_k_filtered_after_cut(item_vectors, query, k, exclude=()):
    top = _best_first(_dot_scores(item_vectors, query), k)
    return np.array([item for item in top if item not in set(exclude)], dtype=np.int64)


def _top_k_deletes_positions(item_vectors, query, k, exclude=()):
    order = _best_first(_dot_scores(item_vectors, query), len(item_vectors))
    return np.delete(order, list(exclude))[:k]


def _top_k_partition_unsorted(item_vectors, query, k, exclude=()):
    scores = _dot_scores(item_vectors, query)
    scores[list(exclude)] = -np.inf
    return np.argpartition(-scores, k - 1)[:k]  # the k best, in no particular order


def _top_k_partition_unsorted_kth_k(item_vectors, query, k, exclude=()):
    scores = _dot_scores(item_vectors, query)
    scores[list(exclude)] = -np.inf
    return np.argpartition(-scores, k)[:k]


def _top_k_scores(item_vectors, query, k, exclude=()):
    scores = _dot_scores(item_vectors, query)
    scores[list(exclude)] = -np.inf
    return np.sort(scores)[::-1][:k]


def _top_k_cosine(item_vectors, query, k, exclude=()):
    items = np.asarray(item_vectors, dtype=np.float64)
    items = items / np.linalg.norm(items, axis=1, keepdims=True)
    scores = items @ np.asarray(query, dtype=np.float64)
    scores[list(exclude)] = -np.inf
    return _best_first(scores, k)


_ITEMS = np.array(
    [
        [1.0, 0.0, 0.5],
        [0.2, 1.5, 0.1],
        [2.0, 0.1, 1.0],
        [-0.5, 0.4, 0.3],
        [0.9, 0.9, 0.0],
        [0.1, -1.0, 0.6],
        [0.3, 0.3, 0.3],
        [0.6, 0.8, 0.4],
    ]
)
_QUERY = np.array([0.8, 0.3, 0.1])  # scores: 0.85, 0.62, 1.73, -0.25, 0.99, -0.16, 0.36, 0.76
# A catalogue of 1,000 random vectors and a top-300: long enough that np.argpartition does not
# hand the k best back in sorted order (on small arrays some NumPy builds sort them anyway).
_rng = np.random.default_rng(4)
_LARGE_ITEMS = _rng.normal(size=(1000, 8))
_LARGE_QUERY = _rng.normal(size=8)
_NEGATIVE_QUERY = np.array([-0.5, -0.2, -0.3])  # every score but item 3's is negative
_NORMS_MATTER = np.array(
    [
        [3.0, 0.5],  # long vector, a little off the query's direction: the best dot product
        [1.0, 0.0],  # short vector exactly along the query: the best cosine
        [0.1, 2.0],
        [0.5, 0.1],
        [-1.0, 0.5],
    ]
)

q2 = FunctionQuestion(
    label="q2",
    name="top_k_by_dot",
    reference=_top_k_by_dot,
    cases=[
        case(_ITEMS, _QUERY, 3, note="top 3, nothing excluded"),
        case(_ITEMS, _QUERY, 3, exclude=[2, 4], note="the two best items excluded"),
        case(_ITEMS, _QUERY, 1, exclude=[2], note="k = 1, the best item excluded"),
        case(_ITEMS, _QUERY, 5, exclude=[7, 0, 2], note="five of the eight items"),
        case(
            _ITEMS,
            _NEGATIVE_QUERY,
            3,
            exclude=[3],
            note="every remaining score is negative",
        ),
        case(_NORMS_MATTER, np.array([1.0, 0.0]), 2, note="vectors of very different lengths"),
        case(_LARGE_ITEMS, _LARGE_QUERY, 300, exclude=[5, 17], note="1,000 items, the 300 best"),
    ],
    mistakes=[
        Mistake(
            "You returned the items with the LOWEST scores. The best match has the largest "
            "dot product: sort by decreasing score, e.g. np.argsort(-scores)[:k].",
            _top_k_lowest,
        ),
        Mistake(
            "You have the right k items, but not best first: np.argpartition only promises that "
            "the k best come before the rest, in no particular order (on a small catalogue it "
            "may look sorted by luck; on 1,000 items it is not). Sort those k by their scores "
            "afterwards, as the lesson's exact_top_k does: top = np.argpartition(-scores, "
            "k - 1)[:k]; top[np.argsort(-scores[top])].",
            _top_k_partition_unsorted,
            _top_k_partition_unsorted_kth_k,
        ),
        Mistake(
            "You found the right k items but in increasing order (worst of them first). Return "
            "them best first: np.argsort(-scores)[:k], or reverse what you have with [::-1].",
            _top_k_reversed,
        ),
        Mistake(
            "Your list contains ids from `exclude` (items the user has already seen). Set their "
            "scores to -np.inf before ranking.",
            _top_k_keeps_excluded,
        ),
        Mistake(
            "You set the excluded scores to 0, but dot products can be negative: an excluded "
            "item with score 0 then beats every item with a negative score. Use -np.inf, which "
            "nothing can tie with.",
            _top_k_excluded_to_zero,
        ),
        Mistake(
            "You removed the excluded items AFTER cutting the list to k, so it comes back "
            "shorter than k. Remove them first (score -np.inf), then take the k best.",
            _top_k_filtered_after_cut,
        ),
        Mistake(
            "`exclude` holds item ids (row numbers of item_vectors), not positions in your "
            "ranking: np.delete(order, exclude) removed the wrong entries. Set "
            "scores[exclude] = -np.inf before sorting.",
            _top_k_deletes_positions,
        ),
        Mistake(
            "You returned scores. Return the item ids (row numbers) of the k best, best first: "
            "np.argsort gives indices, np.sort gives values.",
            _top_k_scores,
        ),
        Mistake(
            "You ranked by cosine (you normalised the item vectors). A factorization model "
            "scores by the plain dot product item_vectors @ query: an item's vector length "
            "carries how broadly it appeals, and it must count.",
            _top_k_cosine,
        ),
    ],
    hint=[
        "An item's score is the dot product of its row with the query, and one matrix-vector "
        "product gives all of them. What you return are row numbers (ids), best first.",
        "Three steps: (1) score every item with item_vectors @ query; (2) give the ids in "
        "`exclude` a score that nothing can tie with, minus infinity (index with a list); "
        "(3) rank the ids by decreasing score with np.argsort on the negated scores and keep "
        "the first k (or np.argpartition, then sort those k). q2.solution() shows the code.",
    ],
    solution="""
        import numpy as np

        def top_k_by_dot(item_vectors, query, k, exclude=()):
            scores = item_vectors @ query           # one dot product per item
            scores[list(exclude)] = -np.inf         # never return what the user has seen
            return np.argsort(-scores)[:k]          # ids of the k best, best first
    """,
    why=(
        "This is exact retrieval for any embedding model: one matrix-vector product over the "
        "catalogue. Its cost grows with the catalogue size, which is what an approximate index "
        "such as annoy avoids."
    ),
)


# --------------------------------------------------------------------------------------
# q3: recall@k of an approximate search against the exact one
# --------------------------------------------------------------------------------------


def _found(approximate_ids, exact_ids, k):
    """Per query: how many of the exact top-k are among the approximate top-k."""
    return np.array(
        [len(set(a[:k]) & set(e[:k])) for a, e in zip(approximate_ids, exact_ids, strict=True)]
    )


def _recall_at_k(approximate_ids, exact_ids, k):
    return float(np.mean(_found(approximate_ids, exact_ids, k) / k))


def _recall_positional(approximate_ids, exact_ids, k):
    approximate_ids, exact_ids = np.asarray(approximate_ids), np.asarray(exact_ids)
    return float(np.mean(approximate_ids[:, :k] == exact_ids[:, :k]))


def _recall_isin_across_queries(approximate_ids, exact_ids, k):
    approximate_ids, exact_ids = np.asarray(approximate_ids), np.asarray(exact_ids)
    return float(np.mean(np.isin(exact_ids[:, :k], approximate_ids[:, :k])))


def _recall_isin_across_queries_reversed(approximate_ids, exact_ids, k):
    approximate_ids, exact_ids = np.asarray(approximate_ids), np.asarray(exact_ids)
    return float(np.mean(np.isin(approximate_ids[:, :k], exact_ids[:, :k])))


def _recall_not_truncated(approximate_ids, exact_ids, k):
    found = [len(set(a) & set(e[:k])) for a, e in zip(approximate_ids, exact_ids, strict=True)]
    return float(np.mean(np.array(found) / k))


def _recall_over_list_length(approximate_ids, exact_ids, k):
    found = [
        len(set(a) & set(e[:k])) / len(a) for a, e in zip(approximate_ids, exact_ids, strict=True)
    ]
    return float(np.mean(found))


def _recall_per_query(approximate_ids, exact_ids, k):
    return _found(approximate_ids, exact_ids, k) / k


def _recall_summed(approximate_ids, exact_ids, k):
    return float(np.sum(_found(approximate_ids, exact_ids, k) / k))


def _recall_floor_division(approximate_ids, exact_ids, k):
    return float(np.mean(_found(approximate_ids, exact_ids, k) // k))


def _recall_jaccard(approximate_ids, exact_ids, k):
    return float(
        np.mean(
            [
                len(set(a[:k]) & set(e[:k])) / len(set(a[:k]) | set(e[:k]))
                for a, e in zip(approximate_ids, exact_ids, strict=True)
            ]
        )
    )


def _recall_hit_count(approximate_ids, exact_ids, k):
    return float(np.mean(_found(approximate_ids, exact_ids, k)))


q3 = FunctionQuestion(
    label="q3",
    name="recall_at_k",
    reference=_recall_at_k,
    cases=[
        case(
            np.array([[4, 2, 9], [1, 7, 3]]),
            np.array([[2, 4, 5], [1, 3, 7]]),
            3,
            note="the same items in another order count as found",
        ),
        case(
            np.array([[8, 1, 6, 2, 5], [3, 0, 4, 9, 7]]),
            np.array([[1, 2, 8], [4, 3, 2]]),
            3,
            note="the approximate lists are longer than k: compare the top 3 only",
        ),
        case(
            np.array([[5, 3, -1, -1], [6, 0, 2, 1]]),
            np.array([[3, 5, 7, 9], [0, 6, 1, 2]]),
            4,
            note="annoy found only two items for the first query (padding -1)",
        ),
        case(np.array([[3], [4], [5]]), np.array([[3], [5], [4]]), 1, note="k = 1"),
        case(
            np.array([[0, 1, 2, 3, 4, 5]]),
            np.array([[0, 1, 2, 3, 4, 5]]),
            6,
            note="a perfect approximate search",
        ),
    ],
    mistakes=[
        Mistake(
            "You compared the lists position by position. Recall asks whether each exact item "
            "was found at all, in any position: count the common items, "
            "len(set(approx[:k]) & set(exact[:k])).",
            _recall_positional,
        ),
        Mistake(
            "You matched each query's items against the lists of ALL queries: np.isin(a, b) on "
            "2-D arrays looks for every element of a anywhere in b. Compare row by row: for "
            "each query, the items common to its approximate and its exact list.",
            _recall_isin_across_queries,
            _recall_isin_across_queries_reversed,
        ),
        Mistake(
            "Compare the top k with the top k: take approx[:k] and exact[:k] of each row before "
            "counting the common items, even when the approximate lists are longer.",
            _recall_not_truncated,
            _recall_over_list_length,
        ),
        Mistake(
            "Return one number: the MEAN over the queries of |common| / k, not one value per "
            "query (np.mean of your array).",
            _recall_per_query,
        ),
        Mistake(
            "You added up the queries' recalls; take their mean instead, so that the answer lies "
            "between 0 and 1 whatever the number of queries.",
            _recall_summed,
        ),
        Mistake(
            "Integer division: hits // k is 0 unless every item was found. Use /, which gives "
            "the fraction.",
            _recall_floor_division,
        ),
        Mistake(
            "You divided by the size of the union of the two lists (a Jaccard index). Recall@k "
            "divides the common items by k, the number of exact items to be found.",
            _recall_jaccard,
        ),
        Mistake(
            "You returned the number of common items; divide it by k to get the share of the "
            "exact top-k that was found.",
            _recall_hit_count,
        ),
    ],
    hint=[
        "Recall is computed per query (per row) and then averaged: for one query, what share "
        "of the exact top-k also appears in the approximate top-k, in any position?",
        "Loop over the two arrays row by row (zip); for each pair of rows, cut both to their "
        "first k entries, count the ids they have in common (Python sets have an intersection, "
        "&), and divide by k with / (not //). The answer is the mean of those fractions, one "
        "number. q3.solution() shows the code.",
    ],
    solution="""
        import numpy as np

        def recall_at_k(approximate_ids, exact_ids, k):
            found = [len(set(a[:k]) & set(e[:k])) for a, e in zip(approximate_ids, exact_ids, strict=True)]
            return np.mean(np.array(found) / k)     # share of the exact top-k found, on average
    """,
    why=(
        "Recall against exact search is how every approximate index is tuned: it tells you "
        "how many of the best items you silently lose in exchange for speed."
    ),
)
