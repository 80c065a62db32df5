"""Checks for lesson 05 (exercises/05_cold_start.ipynb): ALS fold-in and onboarding questions.

- q1, ``fold_in(Y, items, regularization, alpha)``: the ALS vector of a new user who
  interacted once with each item in ``items`` (an array of item indices), with the item
  vectors ``Y`` (n_items x factors) fixed. With ``Y_u = Y[items]``::

      A = Y^T Y + regularization * I + alpha * Y_u^T Y_u
      b = (1 + alpha) * (sum of the rows of Y_u)
      x_u = solve(A, b)

  the exact minimiser of ALS's loss for one user (confidence ``1 + alpha`` on each of their
  items, 1 on every other item, preference 1 on their items and 0 elsewhere). This is
  :func:`recsys_lessons.models.als_fold_in` for one user with binary data.
- q2, ``popularity_entropy_questions(R, n)``: the ``n`` items an onboarding questionnaire asks
  about first, by ``log(count_i) * H(i)`` (Rashid et al. 2002), best first, ties to the lower
  index; ``R`` is a dense users x items array of 1..5 stars with 0 for "not rated",
  ``count_i`` the number of ratings of item ``i`` and ``H(i)`` the entropy of the shares of its
  ratings equal to 1, 2, 3, 4, 5 (zeros are not ratings; items with no rating score 0). This
  is :func:`recsys_lessons.coldstart.new_users.question_order` with ``"popularity_entropy"``.

Lesson 05 (notebooks/05_cold_start.ipynb) teaches both.
"""

from __future__ import annotations

import numpy as np

from recsys_lessons.checks import FunctionQuestion, Mistake, case

__all__ = ["q1", "q2"]


# --------------------------------------------------------------------------------------
# q1: fold a new user into ALS
# --------------------------------------------------------------------------------------


def _parts(Y, items):
    Y = np.asarray(Y, dtype=np.float64)
    return Y, Y[np.asarray(items, dtype=np.int64)]


def _fold_in(Y, items, regularization, alpha):
    Y, Y_u = _parts(Y, items)
    A = Y.T @ Y + regularization * np.eye(Y.shape[1]) + alpha * Y_u.T @ Y_u
    b = (1 + alpha) * Y_u.sum(axis=0)
    return np.linalg.solve(A, b)


def _fold_in_without_regularization(Y, items, regularization, alpha):
    Y, Y_u = _parts(Y, items)
    A = Y.T @ Y + alpha * Y_u.T @ Y_u
    return np.linalg.solve(A, (1 + alpha) * Y_u.sum(axis=0))


def _fold_in_without_regularization_inverse(Y, items, regularization, alpha):
    Y, Y_u = _parts(Y, items)
    A = Y.T @ Y + alpha * Y_u.T @ Y_u
    return np.linalg.inv(A) @ ((1 + alpha) * Y_u.sum(axis=0))


def _fold_in_without_regularization_lstsq(Y, items, regularization, alpha):
    Y, Y_u = _parts(Y, items)
    A = Y.T @ Y + alpha * Y_u.T @ Y_u
    return np.linalg.lstsq(A, (1 + alpha) * Y_u.sum(axis=0), rcond=None)[0]


def _fold_in_all_items_in_b(Y, items, regularization, alpha):
    Y, Y_u = _parts(Y, items)
    A = Y.T @ Y + regularization * np.eye(Y.shape[1]) + alpha * Y_u.T @ Y_u
    return np.linalg.solve(A, (1 + alpha) * Y.sum(axis=0))


def _fold_in_all_items_confident(Y, items, regularization, alpha):
    Y, Y_u = _parts(Y, items)
    A = (1 + alpha) * Y.T @ Y + regularization * np.eye(Y.shape[1])
    return np.linalg.solve(A, (1 + alpha) * Y_u.sum(axis=0))


def _fold_in_all_items_everywhere(Y, items, regularization, alpha):
    Y, _ = _parts(Y, items)
    A = (1 + alpha) * Y.T @ Y + regularization * np.eye(Y.shape[1])
    return np.linalg.solve(A, (1 + alpha) * Y.sum(axis=0))


def _fold_in_only_user_items_in_A(Y, items, regularization, alpha):
    Y, Y_u = _parts(Y, items)
    A = (1 + alpha) * Y_u.T @ Y_u + regularization * np.eye(Y.shape[1])
    return np.linalg.solve(A, (1 + alpha) * Y_u.sum(axis=0))


def _fold_in_without_confidence_in_b(Y, items, regularization, alpha):
    Y, Y_u = _parts(Y, items)
    A = Y.T @ Y + regularization * np.eye(Y.shape[1]) + alpha * Y_u.T @ Y_u
    return np.linalg.solve(A, Y_u.sum(axis=0))


def _fold_in_confidence_counted_twice(Y, items, regularization, alpha):
    Y, Y_u = _parts(Y, items)
    A = Y.T @ Y + regularization * np.eye(Y.shape[1]) + (1 + alpha) * Y_u.T @ Y_u
    return np.linalg.solve(A, (1 + alpha) * Y_u.sum(axis=0))


def _fold_in_without_confidence(Y, items, regularization, alpha):
    Y, Y_u = _parts(Y, items)
    A = Y.T @ Y + regularization * np.eye(Y.shape[1])
    return np.linalg.solve(A, Y_u.sum(axis=0))


_Y6 = np.array(
    [
        [0.9, 0.1],
        [0.8, -0.2],
        [0.1, 1.0],
        [-0.3, 0.7],
        [0.5, 0.5],
        [0.2, -0.6],
    ]
)
_Y8 = np.array(
    [
        [0.4, 0.1, -0.2],
        [0.3, 0.6, 0.1],
        [-0.1, 0.2, 0.8],
        [0.7, -0.3, 0.2],
        [0.2, 0.2, 0.2],
        [-0.5, 0.4, 0.3],
        [0.6, 0.1, -0.4],
        [0.1, -0.7, 0.5],
    ]
)
# A factor that no item uses (its column is 0, as a dead ALS factor can be): without the
# regularization A has a zero row and column, so it is singular.
_Y_DEAD_FACTOR = np.array(
    [
        [0.5, 0.2, 0.0],
        [0.1, 0.9, 0.0],
        [-0.4, 0.3, 0.0],
        [0.6, -0.5, 0.0],
        [0.2, 0.7, 0.0],
    ]
)

q1 = FunctionQuestion(
    label="q1",
    name="fold_in",
    reference=_fold_in,
    cases=[
        case(_Y6, np.array([0, 1]), 1.0, 2.0, note="two similar items, 2 factors"),
        case(_Y6, np.array([2, 3, 4]), 0.5, 5.0, note="three items, strong confidence"),
        case(_Y8, np.array([1, 4, 6]), 2.0, 1.0, note="8 items, 3 factors"),
        case(_Y8, np.array([7]), 0.1, 10.0, note="a single item, little regularization"),
        case(_Y8, np.array([0, 2, 3, 5]), 3.0, 0.5, note="four items, strong regularization"),
        case(
            _Y_DEAD_FACTOR,
            np.array([1, 3]),
            0.5,
            2.0,
            note="a factor no item uses: Y^T Y alone is singular",
        ),
    ],
    mistakes=[
        Mistake(
            "You forgot the regularization: add the regularization term, regularization times "
            "the factors x factors identity matrix, to A. Without it a user with one or two "
            "items gets a vector that fits them perfectly and generalises badly, and A can be "
            "singular (np.linalg.solve then raises LinAlgError: 'Singular matrix'), as it is "
            "when a factor is unused.",
            _fold_in_without_regularization,
            _fold_in_without_regularization_inverse,
            _fold_in_without_regularization_lstsq,
        ),
        Mistake(
            "You used the full item matrix where only the user's items belong. The "
            "right-hand side sums the vectors of the user's items only, "
            "b = (1 + alpha) * Y[items].sum(axis=0); the extra confidence alpha * Y_u^T Y_u "
            "also uses only Y_u = Y[items]. Every other item has confidence 1 and "
            "preference 0: it enters A only through Y^T Y.",
            _fold_in_all_items_in_b,
            _fold_in_all_items_confident,
            _fold_in_all_items_everywhere,
        ),
        Mistake(
            "Your A uses only the user's items, but ALS fits every cell: the items the user "
            "did NOT interact with count too, with confidence 1 and preference 0. That is the "
            "Y^T Y term: A = Y^T Y + regularization * I + alpha * Y_u^T Y_u.",
            _fold_in_only_user_items_in_A,
        ),
        Mistake(
            "The confidence is off. Each of the user's items has c = 1 + alpha: the "
            "right-hand side is (1 + alpha) * Y_u.sum(axis=0), and A adds only the EXTRA "
            "confidence alpha * Y_u^T Y_u (the 1 is already inside Y^T Y).",
            _fold_in_without_confidence_in_b,
            _fold_in_confidence_counted_twice,
            _fold_in_without_confidence,
        ),
    ],
    hint=[
        "With the item vectors fixed, one user's ALS loss is a weighted ridge regression: write "
        "its normal equations (Y^T C_u Y + regularization * I) x = Y^T C_u p_u, with confidence "
        "c = 1 + alpha and preference p = 1 on the user's items, c = 1 and p = 0 elsewhere.",
        "Split C_u into 1 everywhere plus alpha on the user's items: the matrix is Y^T Y (all "
        "items) plus the regularization on the diagonal plus alpha times the Gram matrix of the "
        "user's rows Y[items]; the right-hand side is (1 + alpha) times the sum of those rows. "
        "Then solve the small factors x factors system.",
    ],
    solution="""
        import numpy as np

        def fold_in(Y, items, regularization, alpha):
            Y_u = Y[items]                                    # only the user's items
            A = Y.T @ Y + regularization * np.eye(Y.shape[1]) + alpha * Y_u.T @ Y_u
            b = (1 + alpha) * Y_u.sum(axis=0)                 # confidence 1 + alpha, preference 1
            return np.linalg.solve(A, b)
    """,
    why=(
        "Folding in gives a new user a personalized vector the moment they act, without "
        "retraining the model: one small k x k solve, cheap enough to run per request."
    ),
)


# --------------------------------------------------------------------------------------
# q2: onboarding questions by popularity x entropy
# --------------------------------------------------------------------------------------


def _entropy_of_counts(counts):
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    logs = np.log2(shares, out=np.zeros(shares.shape), where=shares > 0)
    return -(shares * logs).sum(axis=1)


def _star_counts(R, values=range(1, 6)):
    R = np.asarray(R)
    return np.stack([(R == value).sum(axis=0) for value in values], axis=1).astype(float)


def _best_first(score, n):
    return np.argsort(-score, kind="stable")[:n]


def _rated(R):
    return (np.asarray(R) > 0).sum(axis=0).astype(float)


def _questions(R, n):
    score = np.log(np.maximum(_rated(R), 1.0)) * _entropy_of_counts(_star_counts(R))
    return _best_first(score, n)


def _questions_zeros_counted(R, n):
    counts = _star_counts(R, values=range(0, 6))  # "not rated" counted as a rating of 0
    return _best_first(np.log(np.maximum(_rated(R), 1.0)) * _entropy_of_counts(counts), n)


def _questions_entropy_of_the_ratings(R, n):
    # the column of ratings treated as a probability distribution (scipy.stats.entropy(R[:, i]))
    R = np.asarray(R, dtype=float)
    return _best_first(np.log(np.maximum(_rated(R), 1.0)) * _entropy_of_counts(R.T), n)


def _questions_entropy_across_items(R, n):
    # shares of each star value across items instead of across the item's own ratings
    counts = _star_counts(R)
    across = counts / np.maximum(counts.sum(axis=0, keepdims=True), 1.0)
    entropy = _entropy_of_counts(across)
    return _best_first(np.log(np.maximum(_rated(R), 1.0)) * entropy, n)


def _questions_unlogged_popularity(R, n):
    return _best_first(_rated(R) * _entropy_of_counts(_star_counts(R)), n)


def _questions_entropy_only(R, n):
    return _best_first(_entropy_of_counts(_star_counts(R)), n)


def _questions_popularity_only(R, n):
    return _best_first(_rated(R), n)


def _questions_worst_first(R, n):
    score = np.log(np.maximum(_rated(R), 1.0)) * _entropy_of_counts(_star_counts(R))
    return np.argsort(score, kind="stable")[:n]


def _questions_unstable_sort(R, n):
    score = np.log(np.maximum(_rated(R), 1.0)) * _entropy_of_counts(_star_counts(R))
    return np.argsort(-score)[:n]  # the default sort is not stable: ties in any order


def _questions_reversed_ascending(R, n):
    score = np.log(np.maximum(_rated(R), 1.0)) * _entropy_of_counts(_star_counts(R))
    return np.argsort(score, kind="stable")[::-1][:n]  # ties to the HIGHER index


def _questions_scores(R, n):
    score = np.log(np.maximum(_rated(R), 1.0)) * _entropy_of_counts(_star_counts(R))
    return np.sort(score)[::-1][:n]


# Items: 0 a crowd-pleaser everyone rates 5 (popular, entropy 0); 1 popular and divisive;
# 2 rare but maximally divisive; 3 fairly popular, two opinions; 4 rated by one person;
# 5 nobody; 6 popular with three opinions; 7 mid popularity, mostly 4s.
_R1 = np.array(
    [
        [5, 1, 0, 4, 0, 0, 3, 4],
        [5, 5, 0, 2, 0, 0, 3, 4],
        [5, 1, 1, 4, 0, 0, 4, 0],
        [5, 5, 5, 0, 0, 0, 5, 4],
        [5, 3, 0, 2, 3, 0, 0, 4],
        [5, 2, 0, 4, 0, 0, 4, 3],
        [5, 4, 3, 0, 0, 0, 3, 0],
        [5, 1, 0, 2, 0, 0, 5, 4],
    ]
)
_R2 = np.random.default_rng(5).integers(1, 6, (30, 12)) * (
    np.random.default_rng(6).random((30, 12)) < np.linspace(0.1, 0.9, 12)
)
# Many ties: every third item has spread-out ratings, the others are unrated or all 4 stars
# (entropy 0, so score 0), and the top 30 reach deep into the tied items.
_R_TIES = np.zeros((12, 40), dtype=np.int64)
_rng_ties = np.random.default_rng(11)
for _column in range(40):
    if _column % 3 == 0:
        _R_TIES[:, _column] = _rng_ties.integers(1, 6, 12) * (_rng_ties.random(12) < 0.7)
    elif _column % 3 == 1:
        _R_TIES[:, _column] = 4 * (_rng_ties.random(12) < 0.5)

_R3 = np.array(
    [
        [1, 2, 3, 4, 5, 0],
        [1, 2, 0, 4, 5, 5],
        [1, 0, 0, 4, 0, 5],
        [0, 0, 0, 4, 0, 1],
    ]
)

q2 = FunctionQuestion(
    label="q2",
    name="popularity_entropy_questions",
    reference=_questions,
    cases=[
        case(_R1, 4, note="eight items with very different rating patterns"),
        case(_R2, 5, note="30 users x 12 items, random ratings, popularity rising with the index"),
        case(_R3, 3, note="a few users, constant and spread-out columns"),
        case(_R1, 8, note="every item ranked"),
        case(_R_TIES, 30, note="40 items, 26 of them tied at score 0: ties go to the lower index"),
    ],
    mistakes=[
        Mistake(
            "Entropy of the wrong distribution: you counted the zeros (not rated) as a rating "
            "value. The entropy is over the item's OWN ratings only: the shares of its "
            "ratings equal to 1, 2, 3, 4 and 5 stars, among the users who rated it.",
            _questions_zeros_counted,
        ),
        Mistake(
            "Entropy of the wrong distribution: you treated the column of ratings itself as "
            "probabilities (as scipy.stats.entropy(R[:, i]) does). Count how many ratings of "
            "each star value the item has (1..5), divide by its number of ratings, and take "
            "the entropy of those shares.",
            _questions_entropy_of_the_ratings,
        ),
        Mistake(
            "Entropy of the wrong distribution: you normalised the star counts across items "
            "(per star value) instead of within each item. For item i: p_r = (ratings of i "
            "equal to r) / (number of ratings of i).",
            _questions_entropy_across_items,
        ),
        Mistake(
            "Popularity enters through its logarithm: score = log(count_i) * H(i). Without "
            "the log, popularity swamps entropy and you are back to asking about blockbusters.",
            _questions_unlogged_popularity,
        ),
        Mistake(
            "You ranked by entropy alone (or by popularity alone). The strategy multiplies "
            "both: log(number of ratings) * entropy, so that questions are both answerable "
            "and informative.",
            _questions_entropy_only,
            _questions_popularity_only,
        ),
        Mistake(
            "Your list starts with the WORST items. Sort by decreasing score: "
            "np.argsort(-score, kind='stable')[:n].",
            _questions_worst_first,
        ),
        Mistake(
            "Your scores are right but tied items come out in the wrong order. np.argsort's "
            "default sort (quicksort) is not stable: equal scores can come back in any order. "
            "Ties go to the lower item index: sort -score with kind='stable'.",
            _questions_unstable_sort,
        ),
        Mistake(
            "Your scores are right but tied items come out highest index first: reversing an "
            "ascending sort ([::-1]) also reverses the order of ties. Ties go to the lower item "
            "index: sort -score (decreasing score) with kind='stable' instead of reversing.",
            _questions_reversed_ascending,
        ),
        Mistake(
            "You returned the scores. Return the item indices of the n best, best first "
            "(np.argsort gives indices, np.sort gives values).",
            _questions_scores,
        ),
    ],
    hint=[
        "Work item by item (column by column): an item's score needs how many users rated it "
        "and how divided their ratings are; zeros in R are not ratings.",
        "For each item count the ratings equal to 1, 2, 3, 4 and 5 stars, turn the counts into "
        "shares of the item's own ratings, take the entropy -sum(p log2 p) over the non-zero "
        "shares, multiply by the log of the number of ratings, and return the indices of the n "
        "largest scores, best first, with a stable sort so that ties go to the lower index.",
    ],
    solution="""
        import numpy as np

        def popularity_entropy_questions(R, n):
            counts = np.stack([(R == r).sum(axis=0) for r in range(1, 6)], axis=1)  # items x 5
            n_rated = counts.sum(axis=1)
            p = np.divide(counts, n_rated[:, None], out=np.zeros(counts.shape), where=n_rated[:, None] > 0)
            logs = np.log2(p, out=np.zeros(p.shape), where=p > 0)
            entropy = -(p * logs).sum(axis=1)                    # bits; 0 for an unrated item
            score = np.log(np.maximum(n_rated, 1)) * entropy    # Rashid et al.'s balance
            return np.argsort(-score, kind="stable")[:n]         # best first, ties to the lower index
    """,
    why=(
        "The first screen of a sign-up flow decides what a new member tells you: questions "
        "nobody can answer waste their patience, questions everybody answers alike teach you "
        "nothing."
    ),
)
