"""Checks for lesson 03 (exercises/03_item_knn.ipynb): item-item cosine with shrinkage, and scoring.

The learner writes the two steps of :class:`recsys_lessons.models.ItemKNN` without pruning:

- q1, ``item_similarity(X, shrink)``: ``X`` is a SciPy CSR matrix of users x items (ratings,
  or 1.0 per interaction). With ``dot(i, j) = sum over users u of X[u, i] * X[u, j]`` (the
  entries of ``X^T X``) and ``norm_i = sqrt(sum over users u of X[u, i]^2)``, the answer is
  the items x items matrix ``S[i, j] = dot(i, j) / (norm_i * norm_j + shrink)``, with ``S[i, i]
  = 0`` (an item is not its own neighbour) and 0 where the denominator is 0 (an item nobody
  interacted with, when ``shrink = 0``). Dense or sparse answers are both accepted.
- q2, ``recommend_for_user(X, S, user, n)``: ``score(j) = sum over items i of X[user, i] *
  S[i, j]`` (the user's row times ``S``), items the user already has removed, and the ``n``
  item indices with the largest scores, best first. ``S`` is a dense array.

These are the formulas of ``recsys_lessons.models.neighbors.similarity_matrix`` (``"cosine"``,
``neighbors=None``) and ``ItemKNN.recommend`` (lesson 03, notebooks/03_item_knn.ipynb); the
exercise notebook checks on real data that the learner's functions reproduce them. Each
question lists the mistakes learners make most often as buggy implementations, so a check can
name the exact bug. (The checker silences NumPy floating-point warnings, so the variants that
divide by zero need no ``np.errstate``.) The test cases of q2 have no ties among the scores
that decide the answer, so any correct tie-breaking passes.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_lessons.checks import FunctionQuestion, Mistake, case

__all__ = ["q1", "q2"]


# --------------------------------------------------------------------------------------
# q1: cosine item-item similarity with shrinkage
# --------------------------------------------------------------------------------------


def _dots_and_norms(X):
    """``X^T X`` as a dense array and the Euclidean norm of every column of ``X``."""
    X = sp.csr_matrix(X, dtype=np.float64)
    dots = (X.T @ X).toarray()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=0)).ravel())
    return dots, norms


def _divide(dots, denominator):
    """``dots / denominator`` with 0 where the denominator is 0, and a zero diagonal."""
    S = np.divide(dots, denominator, out=np.zeros_like(dots), where=denominator != 0)
    np.fill_diagonal(S, 0.0)
    return S


def _item_similarity(X, shrink=0.0):
    dots, norms = _dots_and_norms(X)
    return _divide(dots, np.outer(norms, norms) + shrink)


def _user_similarity(X, shrink=0.0):
    return _item_similarity(sp.csr_matrix(X).T, shrink)


def _similarity_with_diagonal(X, shrink=0.0):
    dots, norms = _dots_and_norms(X)
    denominator = np.outer(norms, norms) + shrink
    return np.divide(dots, denominator, out=np.zeros_like(dots), where=denominator != 0)


def _similarity_ignores_shrink(X, shrink=0.0):
    return _item_similarity(X, 0.0)


def _shrink_in_numerator(X, shrink=0.0):
    dots, norms = _dots_and_norms(X)
    return _divide(dots + shrink, np.outer(norms, norms))


def _shrink_inside_square_root(X, shrink=0.0):
    dots, norms = _dots_and_norms(X)
    return _divide(dots, np.sqrt(np.outer(norms**2, norms**2) + shrink))


def _shrink_added_to_each_norm(X, shrink=0.0):
    dots, norms = _dots_and_norms(X)
    return _divide(dots, np.outer(norms + shrink, norms + shrink))


def _shrink_added_to_squared_norms(X, shrink=0.0):
    dots, norms = _dots_and_norms(X)
    return _divide(dots, np.sqrt(np.outer(norms**2 + shrink, norms**2 + shrink)))


def _similarity_without_square_root(X, shrink=0.0):
    dots, norms = _dots_and_norms(X)
    return _divide(dots, np.outer(norms**2, norms**2) + shrink)


def _similarity_over_count_product(X, shrink=0.0):
    dots, _ = _dots_and_norms(X)
    counts = sp.csr_matrix(X).getnnz(axis=0).astype(float)
    return _divide(dots, np.outer(counts, counts) + shrink)


def _similarity_counts_as_norms(X, shrink=0.0):
    dots, _ = _dots_and_norms(X)
    counts = sp.csr_matrix(X).getnnz(axis=0).astype(float)
    return _divide(dots, np.sqrt(np.outer(counts, counts)) + shrink)


def _similarity_of_binarized(X, shrink=0.0):
    B = sp.csr_matrix(X, dtype=np.float64)
    B.data = (B.data != 0).astype(np.float64)
    return _item_similarity(B, shrink)


def _similarity_one_norm(X, shrink=0.0):
    dots, norms = _dots_and_norms(X)
    return _divide(dots, np.outer(norms, np.ones_like(norms)) + shrink)


def _similarity_one_squared_norm(X, shrink=0.0):
    dots, norms = _dots_and_norms(X)
    return _divide(dots, np.outer(norms**2, np.ones_like(norms)) + shrink)


def _similarity_l1_norms(X, shrink=0.0):
    # The L1 norm (sum of the values) instead of the Euclidean one.
    dots, _ = _dots_and_norms(X)
    sums = np.asarray(abs(sp.csr_matrix(X, dtype=np.float64)).sum(axis=0)).ravel()
    return _divide(dots, np.outer(sums, sums) + shrink)


def _similarity_sqrt_of_l1_norms(X, shrink=0.0):
    # sqrt(sum of the values): the square forgotten inside the square root.
    dots, _ = _dots_and_norms(X)
    sums = np.asarray(abs(sp.csr_matrix(X, dtype=np.float64)).sum(axis=0)).ravel()
    return _divide(dots, np.sqrt(np.outer(sums, sums)) + shrink)


def _co_counts(X):
    """How many users have both items (the support of each pair), as a dense array."""
    B = sp.csr_matrix(X, dtype=np.float64)
    B.data = (B.data != 0).astype(np.float64)
    return (B.T @ B).toarray()


def _shrink_multiplicative(X, shrink=0.0):
    # Koren-style shrinkage: cosine * n_ij / (n_ij + shrink), n_ij the users of both items.
    dots, norms = _dots_and_norms(X)
    cosine = _divide(dots, np.outer(norms, norms))
    support = _co_counts(X)
    return cosine * _divide(support, support + shrink)


def _shrink_multiplicative_by_dot(X, shrink=0.0):
    # The same idea with the dot product as the support: cosine * dot / (dot + shrink).
    dots, norms = _dots_and_norms(X)
    cosine = _divide(dots, np.outer(norms, norms))
    return cosine * _divide(dots, dots + shrink)


def _shrink_divides_cosine(X, shrink=0.0):
    # cosine / (1 + shrink): every pair shrunk by the same factor.
    dots, norms = _dots_and_norms(X)
    return _divide(dots, np.outer(norms, norms)) / (1.0 + shrink)


def _similarity_not_normalized(X, shrink=0.0):
    dots, _ = _dots_and_norms(X)
    np.fill_diagonal(dots, 0.0)
    return dots


def _similarity_nan_for_empty_items(X, shrink=0.0):
    # Dividing without a guard: an item nobody interacted with gives 0 / 0 = nan when shrink = 0.
    dots, norms = _dots_and_norms(X)
    S = dots / (np.outer(norms, norms) + shrink)
    np.fill_diagonal(S, 0.0)
    return S


_WATCHED = sp.csr_matrix(
    np.array(
        [
            [1, 1, 0, 0],
            [1, 0, 1, 0],
            [1, 1, 1, 0],
            [0, 1, 0, 1],
            [1, 0, 0, 1],
        ],
        dtype=float,
    )
)
_RATED = sp.csr_matrix(
    np.array(
        [
            [5, 3, 0, 1],
            [4, 0, 2, 0],
            [0, 4, 5, 0],
            [1, 0, 4, 3],
            [0, 2, 0, 5],
        ],
        dtype=float,
    )
)
_WITH_EMPTY_ITEM = sp.csr_matrix(
    np.array(
        [
            [4, 0, 0, 2],
            [0, 3, 0, 5],
            [1, 5, 0, 0],
        ],
        dtype=float,
    )
)

q1 = FunctionQuestion(
    label="q1",
    name="item_similarity",
    reference=_item_similarity,
    cases=[
        case(_WATCHED, shrink=0.0, note="0/1 data, no shrinkage"),
        case(_WATCHED, shrink=2.0, note="0/1 data, shrink = 2"),
        case(_RATED, shrink=0.0, note="ratings, no shrinkage"),
        case(_RATED, shrink=1.0, note="ratings, shrink = 1"),
        case(_WITH_EMPTY_ITEM, shrink=0.0, note="an item nobody interacted with, no shrinkage"),
        case(_WITH_EMPTY_ITEM, shrink=0.5, note="an item nobody interacted with, shrink = 0.5"),
    ],
    mistakes=[
        Mistake(
            "Your matrix is users x users: you compared the rows of X (X @ X.T). Item-item "
            "similarity compares the COLUMNS: dot(i, j) = (X.T @ X)[i, j], a matrix of shape "
            "(n_items, n_items), and the norms are those of the columns (sum over axis=0).",
            _user_similarity,
        ),
        Mistake(
            "The diagonal should be 0: an item is not its own neighbour (otherwise every item "
            "recommends itself with the largest score). After dividing, set it to zero with "
            "np.fill_diagonal(S, 0.0) (dense) or S.setdiag(0) (sparse).",
            _similarity_with_diagonal,
        ),
        Mistake(
            "You ignored `shrink`: the case with shrink > 0 gives the plain cosine. Add shrink "
            "to the denominator: dot(i, j) / (norm_i * norm_j + shrink).",
            _similarity_ignores_shrink,
        ),
        Mistake(
            "`shrink` is in the wrong place. Add it ONCE to the product of the two norms, outside "
            "any square root: dot(i, j) / (norm_i * norm_j + shrink). Not to the numerator, not "
            "to each norm, not under the square root.",
            _shrink_in_numerator,
            _shrink_inside_square_root,
            _shrink_added_to_each_norm,
            _shrink_added_to_squared_norms,
        ),
        Mistake(
            "You divided by the product of the SQUARED norms (on 0/1 data, the number of users "
            "of each item). The norm is a square root: norm_i = sqrt(sum over users of "
            "X[u, i]**2), e.g. np.sqrt(X.multiply(X).sum(axis=0)).",
            _similarity_without_square_root,
            _similarity_over_count_product,
        ),
        Mistake(
            "You used the number of users of each item instead of its norm. On 0/1 data they "
            "agree (sqrt of the count), but with ratings they do not: use the values, "
            "norm_i = sqrt(sum over users of X[u, i]**2), and dot(i, j) from X.T @ X.",
            _similarity_counts_as_norms,
            _similarity_of_binarized,
        ),
        Mistake(
            "Your norms add up the values (the L1 norm, X.sum(axis=0)) or take the square root of "
            "that sum. The cosine uses the Euclidean (L2) norm, the square root of the sum of the "
            "SQUARED values: norm_i = sqrt(sum over users of X[u, i]**2). On 0/1 data the "
            "square root of the sum happens to agree; with ratings (5 + 3 versus 5**2 + 3**2) "
            "it does not.",
            _similarity_l1_norms,
            _similarity_sqrt_of_l1_norms,
        ),
        Mistake(
            "You shrank by MULTIPLYING the cosine by a factor, e.g. n_ij / (n_ij + shrink) with "
            "n_ij the users of both items (the form in some of Koren's papers), or by "
            "1 / (1 + shrink). That is a fine idea, but not this formula: here shrink is ADDED "
            "to the cosine's denominator, dot(i, j) / (norm_i * norm_j + shrink), which pulls "
            "pairs with small norms towards 0 much more than pairs with large ones.",
            _shrink_multiplicative,
            _shrink_multiplicative_by_dot,
            _shrink_divides_cosine,
        ),
        Mistake(
            "You divided by the norm of only one of the two items, so S is not symmetric "
            "(that is a confidence, P(j | i), not a cosine). Divide by the product of BOTH "
            "norms: np.outer(norms, norms) + shrink.",
            _similarity_one_norm,
            _similarity_one_squared_norm,
        ),
        Mistake(
            "You returned the co-occurrence counts X.T @ X (diagonal removed). The cosine divides "
            "each dot(i, j) by norm_i * norm_j + shrink, so that popular items do not win just "
            "by being popular.",
            _similarity_not_normalized,
        ),
        Mistake(
            "Your matrix holds nan: an item nobody interacted with has norm 0, so with "
            "shrink = 0 you divide 0 by 0. Give those pairs similarity 0, e.g. "
            "np.divide(dots, denominator, out=np.zeros_like(dots), where=denominator > 0).",
            _similarity_nan_for_empty_items,
        ),
    ],
    hint=[
        "Every entry needs three things: the dot product of two item COLUMNS of X, the length "
        "(Euclidean norm) of each column, and shrink. One sparse matrix product gives all the "
        "dot products at once.",
        "Build it in four steps: (1) all dot products with X.T @ X, made dense; (2) the norm of "
        "every column, the square root of the column sums of the squared entries "
        "(X.multiply(X) squares a sparse matrix); (3) the denominator of every pair with "
        "np.outer of the norms, plus shrink; (4) divide with np.divide and its `where=` "
        "argument so that a zero denominator gives 0, then zero the diagonal with "
        "np.fill_diagonal. q1.solution() shows the code.",
    ],
    solution="""
        import numpy as np

        def item_similarity(X, shrink=0.0):
            dots = (X.T @ X).toarray()                       # dot(i, j) for every pair of items
            norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=0)).ravel())  # |column i|
            denominator = np.outer(norms, norms) + shrink
            S = np.divide(dots, denominator, out=np.zeros_like(dots), where=denominator > 0)
            np.fill_diagonal(S, 0.0)                         # an item is not its own neighbour
            return S
    """,
    why=(
        "This matrix is the whole model behind 'people who watched X also watched': computed "
        "offline with one sparse product, it serves every shelf and every user. The shrinkage "
        "keeps pairs seen by two people from outranking pairs seen by two hundred."
    ),
)


# --------------------------------------------------------------------------------------
# q2: recommend from the similarity matrix
# --------------------------------------------------------------------------------------


def _user_scores(X, S, user):
    return np.asarray(sp.csr_matrix(X)[user] @ np.asarray(S, dtype=float)).ravel()


def _best_first(scores, n):
    return np.argsort(-scores, kind="stable")[:n]


def _recommend_for_user(X, S, user, n):
    scores = _user_scores(X, S, user)
    scores[sp.csr_matrix(X)[user].indices] = -np.inf
    return _best_first(scores, n)


def _recommend_keeps_seen(X, S, user, n):
    return _best_first(_user_scores(X, S, user), n)


def _recommend_seen_to_zero(X, S, user, n):
    scores = _user_scores(X, S, user)
    scores[sp.csr_matrix(X)[user].indices] = 0.0
    return _best_first(scores, n)


def _recommend_seen_to_zero_reversed(X, S, user, n):
    # Sorting upwards and reversing breaks the ties between zeros the other way.
    scores = _user_scores(X, S, user)
    scores[sp.csr_matrix(X)[user].indices] = 0.0
    return np.argsort(scores, kind="stable")[::-1][:n]


def _recommend_worst_first(X, S, user, n):
    scores = _user_scores(X, S, user)
    scores[sp.csr_matrix(X)[user].indices] = -np.inf
    return np.argsort(scores, kind="stable")[-n:]


def _recommend_scores(X, S, user, n):
    scores = _user_scores(X, S, user)
    scores[sp.csr_matrix(X)[user].indices] = -np.inf
    return np.sort(scores)[::-1][:n]


def _recommend_not_flattened(X, S, user, n):
    history = sp.csr_matrix(X)[user]
    scores = np.asarray(history @ np.asarray(S, dtype=float))  # shape (1, n_items)
    scores[0, history.indices] = -np.inf
    # [:n] slices rows: the whole ranking. The default sort kind, as learners write it, so
    # that the order of the tied -inf scores at the end is the one their code gives.
    return np.argsort(-scores)[:n]


def _recommend_partition_unsorted(X, S, user, n):
    scores = _user_scores(X, S, user)
    scores[sp.csr_matrix(X)[user].indices] = -np.inf
    return np.argpartition(-scores, n - 1)[:n]  # the n best, in no particular order


def _recommend_partition_unsorted_kth_n(X, S, user, n):
    scores = _user_scores(X, S, user)
    scores[sp.csr_matrix(X)[user].indices] = -np.inf
    return np.argpartition(-scores, n)[:n]


def _recommend_unweighted(X, S, user, n):
    B = sp.csr_matrix(X, dtype=np.float64)
    B.data = (B.data != 0).astype(np.float64)
    scores = _user_scores(B, S, user)
    scores[B[user].indices] = -np.inf
    return _best_first(scores, n)


def _recommend_from_item_row(X, S, user, n):
    scores = np.asarray(S, dtype=float)[user].copy()
    scores[sp.csr_matrix(X)[user].indices] = -np.inf
    return _best_first(scores, n)


_HISTORIES = sp.csr_matrix(
    np.array(
        [
            [5, 0, 1, 0, 0, 0],
            [0, 4, 0, 0, 2, 0],
            [1, 0, 0, 5, 0, 0],
            [3, 4, 5, 0, 2, 0],
            [0, 0, 4, 0, 0, 3],
            [2, 0, 0, 3, 0, 4],
            [0, 5, 3, 0, 0, 0],
            [0, 0, 3, 0, 4, 0],
        ],
        dtype=float,
    )
)
_HISTORY_SIMILARITY = _item_similarity(_HISTORIES, shrink=1.0)

# A catalogue of 1,000 items and a list of 200: long enough that np.argpartition does not hand
# the n best back in sorted order (on small arrays some NumPy builds sort them anyway). The
# similarities are random numbers, so no two scores tie.
_rng = np.random.default_rng(3)
_LARGE_HISTORIES = sp.random(
    20,
    1000,
    density=0.03,
    format="csr",
    random_state=_rng,
    data_rvs=lambda size: _rng.integers(1, 6, size),
).astype(np.float64)
_LARGE_SIMILARITY = _rng.uniform(0.0, 1.0, size=(1000, 1000))

q2 = FunctionQuestion(
    label="q2",
    name="recommend_for_user",
    reference=_recommend_for_user,
    cases=[
        case(_HISTORIES, _HISTORY_SIMILARITY, 0, 3, note="ratings 5 and 1: the weights matter"),
        case(_HISTORIES, _HISTORY_SIMILARITY, 2, 2, note="a user with two items"),
        case(_HISTORIES, _HISTORY_SIMILARITY, 6, 1, note="n = 1"),
        case(
            _HISTORIES,
            _HISTORY_SIMILARITY,
            6,
            4,
            note="every item the user does not have, one of them scoring 0",
        ),
        case(
            _HISTORIES,
            _HISTORY_SIMILARITY,
            7,
            4,
            note="every item the user does not have, one scoring 0, between the user's items",
        ),
        case(_HISTORIES, _HISTORY_SIMILARITY, 3, 2, note="only two items left to recommend"),
        case(_LARGE_HISTORIES, _LARGE_SIMILARITY, 1, 200, note="1,000 items, the 200 best"),
        case(_LARGE_HISTORIES, _LARGE_SIMILARITY, 7, 300, note="1,000 items, the 300 best"),
    ],
    mistakes=[
        Mistake(
            "Your list contains items the user already has. Remove them before ranking: set "
            "their scores to -np.inf (the user's items are X[user].indices).",
            _recommend_keeps_seen,
        ),
        Mistake(
            "You set the scores of the items the user already has to 0, but an unseen item can "
            "score 0 too (no similar item in the history), and then a seen item can tie with it "
            "and take its place. Use -np.inf, which no real score can tie with.",
            _recommend_seen_to_zero,
            _recommend_seen_to_zero_reversed,
        ),
        Mistake(
            "Your list is in the wrong order: the best item must come first. Sort by decreasing "
            "score, e.g. np.argsort(-scores)[:n].",
            _recommend_worst_first,
        ),
        Mistake(
            "You have the right n items, but not best first: np.argpartition only promises that "
            "the n best come before the rest, in no particular order (on a small catalogue it "
            "may look sorted by luck; on 1,000 items it is not). Sort those n by their scores "
            "afterwards: top = np.argpartition(-scores, n - 1)[:n]; "
            "top[np.argsort(-scores[top])].",
            _recommend_partition_unsorted,
            _recommend_partition_unsorted_kth_n,
        ),
        Mistake(
            "Your answer is 2-D, shape (1, n_items): X[user] @ S is a 1 x n_items matrix, so "
            "[:n] kept its only ROW, the whole ranking. Flatten the scores first, "
            "np.asarray(X[user] @ S).ravel(), then take the first n indices.",
            _recommend_not_flattened,
        ),
        Mistake(
            "You returned scores. Return the item INDICES of the n best scores, best first "
            "(np.argsort gives indices; np.sort gives values).",
            _recommend_scores,
        ),
        Mistake(
            "Each item of the history must vote with its weight X[user, i] (the rating): a film "
            "rated 5 counts five times as much as one rated 1. You used 1 for every item: take "
            "X[user] @ S with the values, not (X[user] > 0) @ S.",
            _recommend_unweighted,
        ),
        Mistake(
            "You scored with S[user], the similarities of the ITEM whose index is `user`. A user's "
            "scores come from their history: score = X[user] @ S, the sum of the rows of S of "
            "the items they have, weighted by their values.",
            _recommend_from_item_row,
        ),
    ],
    hint=[
        "Each item of the user's history votes for its neighbours with the user's value for it: "
        "that is one row of X times S. Then the items the user already has must never win, and "
        "what you return are positions (indices), not scores.",
        "Three steps: (1) the user's row X[user] times S is a 1 x n_items matrix: flatten it "
        "with np.asarray(...).ravel(); (2) the user's items are X[user].indices: give them a "
        "score nothing can tie with, minus infinity; (3) rank the indices by decreasing score "
        "with np.argsort on the negated scores and keep the first n. q2.solution() shows the "
        "code.",
    ],
    solution="""
        import numpy as np

        def recommend_for_user(X, S, user, n):
            history = X[user]                        # a 1 x n_items sparse row
            scores = np.asarray(history @ S).ravel()  # score(j) = sum_i X[user, i] * S[i, j]
            scores[history.indices] = -np.inf         # never recommend what the user has
            return np.argsort(-scores)[:n]            # best first
    """,
    why=(
        "This is all item-kNN does at serving time: a few lookups in a precomputed table per "
        "item of the history, so a brand-new click changes the recommendations immediately "
        "without refitting anything."
    ),
)
