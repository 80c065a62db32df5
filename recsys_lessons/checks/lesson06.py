"""Checks for lesson 06 (exercises/06_hybrid_ranking.ipynb): blend normalized scores, tune, MMR.

The learner writes three pieces of the hybrid pipeline:

- q1, ``blend_scores(scores_a, scores_b, weight)``: two users x items score matrices in which
  ``-inf`` marks items the user has already seen. Each matrix is z-scored **per user** over
  the user's unseen items, ``z = (s - mean_u) / std_u`` (population standard deviation), and
  the answer is ``weight * z_a + (1 - weight) * z_b``, with ``-inf`` where the items were
  seen. This is :func:`recsys_lessons.hybrid.normalize_scores` (``"zscore"``) and
  :class:`recsys_lessons.hybrid.LinearBlend` with two models.
- q2, ``tune_blend_weight(scores_a, scores_b, validation, test, weights, k)``: try every
  weight, keep the one with the best nDCG@k on the **validation** matrix (the first one on
  ties), and return ``(best_weight, test_ndcg)``: the chosen blend's nDCG@k on test, the
  number one would report. Ranking uses ``top_k_indices`` (ties go to the lower item index)
  and nDCG is :func:`recsys_lessons.metrics.ndcg_at_k`.
- q3, ``mmr(candidates, relevance, similarity, k, lambda_)``: Maximal Marginal Relevance
  for one user. ``candidates`` are item ids, ``relevance`` their scores (already on [0, 1]),
  ``similarity`` an items x items matrix. At each step take the candidate not yet chosen with
  the largest ``(1 - lambda_) * relevance - lambda_ * max over chosen j of similarity[i, j]``
  (the maximum is 0 before anything is chosen; ties go to the earlier candidate), and return
  the ``k`` chosen ids in order as an integer array. This is
  :func:`recsys_lessons.hybrid.mmr_rerank` for one user with a given similarity.

Lesson 06 (notebooks/06_hybrid_ranking.ipynb) teaches all three. Each question lists the
mistakes learners make most often as buggy implementations, so a check names the exact bug.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_lessons.checks import FunctionQuestion, Mistake, case
from recsys_lessons.metrics import ndcg_at_k
from recsys_lessons.top_k import top_k_indices

__all__ = ["q1", "q2", "q3"]

INF = np.inf

# --------------------------------------------------------------------------------------
# q1: blend two models' per-user z-scores
# --------------------------------------------------------------------------------------


def _zscore_per_user(scores):
    scores = np.asarray(scores, dtype=np.float64)
    unseen = np.isfinite(scores)
    filled = np.where(unseen, scores, np.nan)
    mean = np.nanmean(filled, axis=1, keepdims=True)
    std = np.nanstd(filled, axis=1, keepdims=True)
    return np.where(unseen, (filled - mean) / std, 0.0)


def _blend_scores(scores_a, scores_b, weight):
    blended = weight * _zscore_per_user(scores_a) + (1 - weight) * _zscore_per_user(scores_b)
    return np.where(np.isfinite(np.asarray(scores_a, dtype=float)), blended, -INF)


def _zscore_all_users(scores):
    scores = np.asarray(scores, dtype=np.float64)
    unseen = np.isfinite(scores)
    values = scores[unseen]
    return np.where(unseen, (scores - values.mean()) / values.std(), -INF)


def _blend_normalized_across_users(scores_a, scores_b, weight):
    blended = weight * _zscore_all_users(scores_a) + (1 - weight) * _zscore_all_users(scores_b)
    return np.where(np.isfinite(np.asarray(scores_a, dtype=float)), blended, -INF)


def _blend_raw(scores_a, scores_b, weight):
    return weight * np.asarray(scores_a, dtype=float) + (1 - weight) * np.asarray(
        scores_b, dtype=float
    )


def _zscore_seen_as_zero(scores):
    scores = np.asarray(scores, dtype=np.float64)
    unseen = np.isfinite(scores)
    filled = np.where(unseen, scores, 0.0)
    mean = filled.mean(axis=1, keepdims=True)
    std = filled.std(axis=1, keepdims=True)
    return np.where(unseen, (filled - mean) / std, -INF)


def _blend_seen_as_zero(scores_a, scores_b, weight):
    blended = weight * _zscore_seen_as_zero(scores_a) + (1 - weight) * _zscore_seen_as_zero(
        scores_b
    )
    return np.where(np.isfinite(np.asarray(scores_a, dtype=float)), blended, -INF)


def _blend_weights_swapped(scores_a, scores_b, weight):
    return _blend_scores(scores_a, scores_b, 1 - weight)


# Two users on very different scales (a heavy user's kNN sums are large), one seen item each.
_A = np.array([[0.9, 0.1, -INF, 0.5, 0.3], [0.2, -INF, 0.8, 0.4, 0.6]])
_B = np.array([[40.0, 10.0, -INF, 20.0, 30.0], [1.0, -INF, 3.0, 2.0, 5.0]])
_C = np.array([[3.0, -INF, 1.0, 2.0], [-INF, 5.0, 1.0, 0.0], [2.0, 2.5, -INF, 0.5]])
_D = np.array([[0.1, -INF, 0.3, 0.2], [-INF, 10.0, 20.0, 30.0], [7.0, 8.0, -INF, 6.0]])

q1 = FunctionQuestion(
    label="q1",
    name="blend_scores",
    reference=_blend_scores,
    cases=[
        case(_A, _B, 0.5, note="two users on different scales, one seen item each"),
        case(_A, _B, 0.8, note="weight 0.8 on the first model"),
        case(_C, _D, 0.3, note="three users"),
        case(_C, _D, 1.0, note="weight 1: the first model alone, normalized"),
    ],
    mistakes=[
        Mistake(
            "You normalized with one mean and one standard deviation for all users together. "
            "Normalize each user's row on its own (axis=1, keepdims=True): otherwise a heavy "
            "user's large scores stay large and one model's scale still decides the blend.",
            _blend_normalized_across_users,
        ),
        Mistake(
            "You added the raw scores. Models score on different scales (dot products, "
            "similarity sums, regression weights): z-score each model's scores per user first.",
            _blend_raw,
        ),
        Mistake(
            "Seen items (-inf) entered your mean and standard deviation as 0. Compute the "
            "statistics over the user's unseen items only, e.g. with np.nanmean/np.nanstd "
            "after replacing -inf by nan.",
            _blend_seen_as_zero,
        ),
        Mistake(
            "The weights are swapped: `weight` belongs to scores_a and `1 - weight` to scores_b.",
            _blend_weights_swapped,
        ),
    ],
    hint=[
        "The two models score on different scales, so bring each one to a common scale per "
        "user before mixing; seen items (-inf) must not take part in that and stay -inf.",
        "For each matrix and each row, compute the mean and the (population) standard "
        "deviation over the finite cells only (turn -inf into nan and use NumPy's nan-aware "
        "functions along axis 1), z-score the row, mix the two with weight and 1 - weight, and "
        "put -inf back where the items were seen. Do not change the input matrices.",
    ],
    solution="""
def blend_scores(scores_a, scores_b, weight):
    def zscore(scores):
        unseen = np.isfinite(scores)
        values = np.where(unseen, scores, np.nan)
        z = (values - np.nanmean(values, axis=1, keepdims=True)) / np.nanstd(values, axis=1, keepdims=True)
        return np.where(unseen, z, 0.0)

    blended = weight * zscore(scores_a) + (1 - weight) * zscore(scores_b)
    return np.where(np.isfinite(scores_a), blended, -np.inf)
""",
    why="Per-user normalization makes a weight mean 'how much this model counts' rather than "
    "'how large its numbers are'; it is the first step of every score blend.",
)

# --------------------------------------------------------------------------------------
# q2: tune the weight on validation, report on test
# --------------------------------------------------------------------------------------


def _ndcg_of(scores, relevant, k):
    return float(ndcg_at_k(top_k_indices(scores, k), relevant, k=k))


def _tune_blend_weight(scores_a, scores_b, validation, test, weights, k):
    on_validation = [_ndcg_of(_blend_scores(scores_a, scores_b, w), validation, k) for w in weights]
    best = weights[int(np.argmax(on_validation))]
    return best, _ndcg_of(_blend_scores(scores_a, scores_b, best), test, k)


def _tuned_on_test(scores_a, scores_b, validation, test, weights, k):
    return _tune_blend_weight(scores_a, scores_b, test, test, weights, k)


def _reports_validation(scores_a, scores_b, validation, test, weights, k):
    best, _ = _tune_blend_weight(scores_a, scores_b, validation, test, weights, k)
    return best, _ndcg_of(_blend_scores(scores_a, scores_b, best), validation, k)


def _peeks_at_test(scores_a, scores_b, validation, test, weights, k):
    best, _ = _tune_blend_weight(scores_a, scores_b, validation, test, weights, k)
    return best, max(_ndcg_of(_blend_scores(scores_a, scores_b, w), test, k) for w in weights)


def _tuned_on_both(scores_a, scores_b, validation, test, weights, k):
    both = [
        _ndcg_of(_blend_scores(scores_a, scores_b, w), validation, k)
        + _ndcg_of(_blend_scores(scores_a, scores_b, w), test, k)
        for w in weights
    ]
    best = weights[int(np.argmax(both))]
    return best, _ndcg_of(_blend_scores(scores_a, scores_b, best), test, k)


def _relevant(rows, n_items):
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.array([i for r in rows for i in r], dtype=np.int64)
    return sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(rows), n_items))


# Model a finds each user's validation item, model b each user's test item, so validation
# prefers weight 1 and test would prefer weight 0.
_SA = np.array(
    [
        [5.0, 1.0, 2.0, -INF, 0.5, 0.2],
        [0.3, 4.0, -INF, 1.0, 2.0, 0.1],
        [1.0, 0.2, 0.5, 3.0, -INF, 0.4],
    ]
)
_SB = np.array(
    [
        [0.2, 0.1, 9.0, -INF, 0.3, 0.4],
        [0.5, 0.1, -INF, 0.2, 0.3, 7.0],
        [0.1, 8.0, 0.3, 0.2, -INF, 0.4],
    ]
)
_VALIDATION = _relevant([[0], [1], [3]], 6)
_TEST = _relevant([[2], [5], [1]], 6)


def _random_case(seed, n_users=6, n_items=10):
    """Two models, one seen item and two validation and two test items per user."""
    rng = np.random.default_rng(seed)
    scores_a = np.round(rng.random((n_users, n_items)), 2)
    scores_b = np.round(rng.random((n_users, n_items)) * 10, 1)
    seen = np.zeros((n_users, n_items), dtype=bool)
    validation, test = [], []
    for user in range(n_users):
        order = rng.permutation(n_items)
        seen[user, order[0]] = True
        validation.append(sorted(order[1:3].tolist()))
        test.append(sorted(order[3:5].tolist()))
    scores_a[seen] = -INF
    scores_b[seen] = -INF
    return scores_a, scores_b, _relevant(validation, n_items), _relevant(test, n_items)


# Six users, nDCGs below 1: the chosen weight's test nDCG, its validation nDCG and the best
# test nDCG over all weights are three different numbers.
_SA6, _SB6, _VALIDATION6, _TEST6 = _random_case(0)

q2 = FunctionQuestion(
    label="q2",
    name="tune_blend_weight",
    reference=_tune_blend_weight,
    cases=[
        case(_SA, _SB, _VALIDATION, _TEST, [0.0, 0.5, 1.0], 1, note="validation and test disagree"),
        case(
            _SA, _SB, _VALIDATION, _TEST, [0.0, 0.25, 0.5, 0.75, 1.0], 2, note="five weights, k = 2"
        ),
        case(_SB, _SA, _TEST, _VALIDATION, [1.0, 0.5, 0.0], 1, note="the roles swapped"),
        case(
            _SA6,
            _SB6,
            _VALIDATION6,
            _TEST6,
            [0.0, 0.25, 0.5, 0.75, 1.0],
            3,
            note="six users, two validation and two test items each",
        ),
    ],
    mistakes=[
        Mistake(
            "You chose the weight by its nDCG on the test split. Tuning on test makes the "
            "reported number optimistic (it was picked because it looked good there). Choose "
            "on `validation`, then evaluate that one weight on `test`.",
            _tuned_on_test,
            _tuned_on_both,
        ),
        Mistake(
            "You chose the weight on validation (good) but reported the BEST test nDCG over all "
            "the weights. Looking at every weight's test score and keeping the largest is "
            "tuning on test too: report the test nDCG of the one weight validation chose.",
            _peeks_at_test,
        ),
        Mistake(
            "You chose the weight on validation (good) but returned its validation nDCG. "
            "Return the chosen blend's nDCG on `test`: the number you would report.",
            _reports_validation,
        ),
    ],
    hint=[
        "Two splits, two jobs: `validation` chooses the weight, `test` is looked at once, for "
        "the weight already chosen, to give the number you would report.",
        "For every weight, blend with your blend_scores, rank the top k with top_k_indices and "
        "compute the nDCG@k against `validation`; keep the first weight with the largest value; "
        "then blend with that weight only and compute its nDCG@k against `test`.",
    ],
    solution="""
def tune_blend_weight(scores_a, scores_b, validation, test, weights, k):
    def ndcg(scores, relevant):
        return ndcg_at_k(top_k_indices(scores, k), relevant, k=k)

    on_validation = [ndcg(blend_scores(scores_a, scores_b, w), validation) for w in weights]
    best = weights[int(np.argmax(on_validation))]
    return best, ndcg(blend_scores(scores_a, scores_b, best), test)
""",
    why="Anything chosen by looking at the test split is no longer tested by it: tune on a "
    "validation split carved from train and touch test once.",
)

# --------------------------------------------------------------------------------------
# q3: Maximal Marginal Relevance for one user
# --------------------------------------------------------------------------------------


def _mmr_generic(
    candidates, relevance, similarity, k, lambda_, exclude_chosen=True, combine="max", swapped=False
):
    candidates = np.asarray(candidates)
    relevance = np.asarray(relevance, dtype=float)
    similarity = np.asarray(similarity, dtype=float)
    chosen = []
    for _ in range(k):
        if chosen:
            block = similarity[np.ix_(candidates, candidates[chosen])]
            redundancy = block.max(axis=1) if combine == "max" else block.sum(axis=1)
        else:
            redundancy = np.zeros(len(candidates))
        if swapped:
            value = lambda_ * relevance - (1 - lambda_) * redundancy
        else:
            value = (1 - lambda_) * relevance - lambda_ * redundancy
        if exclude_chosen:
            value[chosen] = -INF
        chosen.append(int(np.argmax(value)))
    return candidates[chosen].astype(np.int64)


def _mmr(candidates, relevance, similarity, k, lambda_):
    return _mmr_generic(candidates, relevance, similarity, k, lambda_)


def _mmr_repeats(candidates, relevance, similarity, k, lambda_):
    return _mmr_generic(candidates, relevance, similarity, k, lambda_, exclude_chosen=False)


def _mmr_sum(candidates, relevance, similarity, k, lambda_):
    return _mmr_generic(candidates, relevance, similarity, k, lambda_, combine="sum")


def _mmr_swapped(candidates, relevance, similarity, k, lambda_):
    return _mmr_generic(candidates, relevance, similarity, k, lambda_, swapped=True)


# Items 0-2 are near-copies of each other (one genre), items 3-4 another genre, 5 a third.
_SIMILARITY = np.array(
    [
        [1.0, 0.9, 0.8, 0.1, 0.0, 0.2],
        [0.9, 1.0, 0.9, 0.0, 0.1, 0.1],
        [0.8, 0.9, 1.0, 0.1, 0.1, 0.0],
        [0.1, 0.0, 0.1, 1.0, 0.7, 0.3],
        [0.0, 0.1, 0.1, 0.7, 1.0, 0.2],
        [0.2, 0.1, 0.0, 0.3, 0.2, 1.0],
    ]
)
_CANDIDATES = np.array([0, 1, 2, 3, 4, 5])
_RELEVANCE = np.array([1.0, 0.95, 0.9, 0.6, 0.5, 0.2])

q3 = FunctionQuestion(
    label="q3",
    name="mmr",
    reference=_mmr,
    cases=[
        case(_CANDIDATES, _RELEVANCE, _SIMILARITY, 4, 0.5, note="lambda 0.5"),
        case(_CANDIDATES, _RELEVANCE, _SIMILARITY, 3, 0.3, note="lambda 0.3, three picks"),
        case(_CANDIDATES, _RELEVANCE, _SIMILARITY, 3, 0.1, note="relevance dominates"),
        case(
            np.array([4, 2, 5, 0]),
            np.array([0.9, 1.0, 0.1, 0.8]),
            _SIMILARITY,
            4,
            0.4,
            note="candidates not in id order",
        ),
    ],
    mistakes=[
        Mistake(
            "Your list repeats an item: an item already chosen can be picked again. Set the "
            "value of every chosen candidate to -inf before taking the argmax.",
            _mmr_repeats,
        ),
        Mistake(
            "You added up the similarities to the chosen items. MMR penalises the *largest* "
            "similarity to anything already in the list (max, not sum).",
            _mmr_sum,
        ),
        Mistake(
            "lambda_ weighs the similarity penalty, 1 - lambda_ the relevance; yours are "
            "swapped (lambda_ = 0 must give the plain relevance order, as for every re-ranker "
            "of the course).",
            _mmr_swapped,
        ),
    ],
    hint=[
        "MMR builds the list greedily: at each of the k steps every candidate not yet chosen "
        "gets a value that rewards its relevance and penalises how similar it is to what is "
        "already in the list.",
        "Keep the positions already chosen; a candidate's redundancy is its LARGEST similarity "
        "to a chosen item (0 before anything is chosen); its value is (1 - lambda_) times its "
        "relevance minus lambda_ times its redundancy; rule out the chosen positions, take the "
        "first largest value, and finally map positions back to item ids.",
    ],
    solution="""
def mmr(candidates, relevance, similarity, k, lambda_):
    chosen = []
    for _ in range(k):
        if chosen:
            redundancy = similarity[np.ix_(candidates, candidates[chosen])].max(axis=1)
        else:
            redundancy = np.zeros(len(candidates))
        value = (1 - lambda_) * relevance - lambda_ * redundancy
        value[chosen] = -np.inf
        chosen.append(int(np.argmax(value)))
    return candidates[chosen]
""",
    why="MMR is the simplest way to stop a row from showing ten near-copies; forgetting the "
    "already-chosen items or the max is how it quietly stops working.",
)
